"""The SDK's request signing (gateway.vdxp), pinned to hand-computed values."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from gateway.vdxp import (
    SignedRequest,
    SigningError,
    hash_file_matches,
    parse_timestamp,
    read_answer,
    sdk_hash_file,
    sdk_timestamp,
    sign_headers,
    verify_headers,
)

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
SECRET = "A7TKG/r2gOKTEpe1MhWx6zw8"
NOW = datetime(2024, 3, 5, 10, 15, 30, 123_000, tzinfo=VIETNAM).timestamp()


def test_the_sdk_timestamp_is_local_time_with_four_digit_milliseconds() -> None:
    assert sdk_timestamp(NOW, VIETNAM) == "05032024T101530+0123"
    assert parse_timestamp("05032024T101530+0123", VIETNAM) == pytest.approx(NOW)
    assert parse_timestamp("2024-03-05T03:15:30.123Z", VIETNAM) == pytest.approx(NOW)
    with pytest.raises(SigningError, match="ddMMyyyyTHHmmss"):
        parse_timestamp("32132024T101530+0123", VIETNAM)


def test_signed_headers_are_exactly_the_sdks() -> None:
    headers = sign_headers(
        {"docId": "abc-1", "status": "done"},
        systemid="vxp.saas.03",
        secret=SECRET,
        timestamp="05032024T101530+0123",
    )

    text = (
        '{"XroadVnpt-systemid":"vxp.saas.03","XroadVnpt-timestamp":"05032024T101530+0123",'
        '"XroadVnpt-docId":"abc-1","XroadVnpt-status":"done"}'
    )
    assert headers == {
        "systemid": "vxp.saas.03",
        "XroadVnpt-systemid": "vxp.saas.03",
        "timestamp": "05032024T101530+0123",
        "XroadVnpt-timestamp": "05032024T101530+0123",
        "docId": "abc-1",
        "XroadVnpt-docId": "abc-1",
        "status": "done",
        "XroadVnpt-status": "done",
        "XroadVnpt-sign-header-key": "systemid;timestamp;docId;status",
        "XroadVnpt-sign-header": text,
        "XroadVnpt-hash-header": hmac.new(
            SECRET.encode(), text.encode(), hashlib.sha256
        ).hexdigest(),
        "XroadVnpt-version": "3.0.201608",
    }


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"note": "Đã nhận"}, "printable ASCII"),
        ({"bad name": "x"}, "parameter name"),
        ({"SystemId": "other"}, "given twice"),
    ],
)
def test_values_that_cannot_travel_as_headers_are_refused(
    params: dict[str, str], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        sign_headers(params, systemid="s", secret=SECRET, timestamp="t")


def verify(headers: dict[str, str], now: float = NOW) -> SignedRequest:
    return verify_headers(
        headers,
        secret_for=lambda systemid: SECRET if systemid == "vxp.saas.03" else None,
        window_s=lambda systemid: 300.0,
        now=now,
        tz=VIETNAM,
    )


def signed(**params: str) -> dict[str, str]:
    return sign_headers(
        params, systemid="vxp.saas.03", secret=SECRET, timestamp=sdk_timestamp(NOW, VIETNAM)
    )


def test_a_verified_call_gives_only_signed_values_by_folded_name() -> None:
    result = verify(signed(docid="abc-1"))
    assert result.systemid == "vxp.saas.03"
    assert result.get("docId") == "abc-1"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda h: h.pop("XroadVnpt-sign-header"), "XroadVnpt-sign-header is missing"),
        (lambda h: h.update({"XroadVnpt-hash-header": "0" * 64}), "is not the HMAC-SHA256"),
        (lambda h: h.update({"XroadVnpt-docId": "abc-2"}), "differs from its signed value"),
        (lambda h: h.pop("XroadVnpt-docId"), "XroadVnpt-docId is missing"),
        (lambda h: h.update({"XroadVnpt-sign-header": "[1]"}), "JSON object of strings"),
        (
            lambda h: h.update({"XroadVnpt-sign-header-key": "systemid;timestamp"}),
            "do not name the same parameters",
        ),
    ],
)
def test_a_tampered_call_is_refused(
    change: Callable[[dict[str, str]], object], message: str
) -> None:
    headers = signed(docId="abc-1")
    change(headers)
    with pytest.raises(SigningError, match=message):
        verify(headers)


def test_a_call_outside_the_window_or_from_an_unknown_system_is_refused() -> None:
    with pytest.raises(SigningError, match="at most 300 s either way"):
        verify(signed(), now=NOW + 301)
    with pytest.raises(SigningError, match="at most 300 s either way"):
        verify(signed(), now=NOW - 301)
    verify(signed(), now=NOW + 299)
    other = sign_headers({}, systemid="vxp.other", secret=SECRET, timestamp="05032024T101530+0123")
    with pytest.raises(SigningError, match=r"vxp\.other. is not known"):
        verify(other)


def test_the_sdk_hash_file_drops_leading_zeros_and_both_forms_match() -> None:
    data = b"edXML 2"  # its SHA-256 has bytes below 0x10
    digest = hashlib.sha256(data).digest()
    assert any(b < 0x10 for b in digest)
    assert sdk_hash_file(data) == "".join(format(b, "x") for b in digest)
    assert len(sdk_hash_file(data)) < 64
    assert hash_file_matches(sdk_hash_file(data), data)
    assert hash_file_matches(digest.hex().upper(), data)
    assert not hash_file_matches(sdk_hash_file(data), data + b"\r\n")


def test_answers_are_read_as_the_sdk_reads_them() -> None:
    ok = read_answer(b'{"status":"OK","ErrorCode":"0","ErrorDesc":"Success","DocId":"d-1"}')
    failed = read_answer(b'{"status":"FAIL","ErrorCode":"0","ErrorDesc":"x"}')
    assert (ok.ok, ok.body["DocId"], failed.ok) == (True, "d-1", False)
    with pytest.raises(ValueError, match="ErrorCode"):
        read_answer(b'{"error":"x"}')


@pytest.mark.parametrize(
    ("caller_zone", "hint"),
    [
        ("UTC", "the caller's clock looks like UTC+0 instead of Asia/Ho_Chi_Minh"),
        ("America/New_York", "the caller's clock looks like UTC-5 instead of Asia/Ho_Chi_Minh"),
        ("Asia/Tokyo", "the caller's clock looks like UTC+9 instead of Asia/Ho_Chi_Minh"),
    ],
)
def test_a_skew_of_whole_hours_names_the_time_zone_to_set(caller_zone: str, hint: str) -> None:
    # a JVM left in another zone stamps its own local time, without an offset
    stamp = sdk_timestamp(NOW + 2, ZoneInfo(caller_zone))
    headers = sign_headers({}, systemid="vxp.saas.03", secret=SECRET, timestamp=stamp)
    with pytest.raises(SigningError) as refused:
        verify(headers)
    assert hint in str(refused.value)
    assert str(refused.value).endswith("the SDK must run with -Duser.timezone=Asia/Ho_Chi_Minh")


def test_a_skew_of_no_whole_hours_names_no_time_zone() -> None:
    with pytest.raises(SigningError) as refused:
        verify(signed(), now=NOW + 1800)
    assert "+1800 s from the gateway's clock" in str(refused.value)
    assert "timezone" not in str(refused.value)
