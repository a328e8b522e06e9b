"""The webhook adapter alone: its options, what it sends, and what each answer means."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from aiohttp import web

from adapters.webhook import WebhookAdapter
from gateway.adapter_api import OptionsError, PermanentFailure, TemporaryFailure
from gateway.conformance.receiver import verify
from tests.adapters.fakes import FakeHost, ScriptedReceiver, item
from tests.harness import free_port

SECRET = "s" * 16 + "0123456789abcdef"


def options(**overrides: Any) -> dict[str, Any]:
    return {"url": "https://so-tc.example.gov.vn/edoc", "hmac_secret": SECRET, **overrides}


def build(host: FakeHost | None = None, **overrides: Any) -> WebhookAdapter:
    return WebhookAdapter(
        instance="webhook:T",
        agency="000.00.00.H26",
        options=options(**overrides),
        host=host or FakeHost(),
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"url": None}, "url: give the department's https://"),
        ({"url": "ftp://host/x"}, "url: 'ftp://host/x' is not an http:// or https:// URL"),
        ({"url": "https:///path"}, "is not an http:// or https:// URL with a host"),
        ({"url": "https://u:p@host/"}, "url: no credentials in the URL"),
        ({"hmac_secret": None}, "hmac_secret: required, at least 32 characters"),
        ({"hmac_secret": "short"}, "hmac_secret: 5 characters is too short"),
        ({"hmac_secret": "env:EDOCGW_TEST_NO_SUCH_VAR"}, "EDOCGW_TEST_NO_SUCH_VAR is not set"),
        ({"timeout_s": 0}, "timeout_s: 0 is not a number from 0.1 to 600"),
        ({"timeout_s": "30"}, "timeout_s: '30' is not a number"),
        ({"max_connections": 2.5}, "max_connections: 2.5 is not a whole number"),
        ({"retries": 3}, "unknown option(s) for the webhook adapter: retries"),
    ],
)
def test_bad_options_are_refused_naming_the_option(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(OptionsError) as refused:
        build(**{k: v for k, v in overrides.items()})
    assert message in str(refused.value)
    assert SECRET not in str(refused.value)


def test_the_secret_may_come_from_the_environment_and_is_never_shown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EDOCGW_TEST_HOOK_SECRET", SECRET)
    adapter = build(hmac_secret="env:EDOCGW_TEST_HOOK_SECRET", timeout_s=2, max_connections=4)
    assert adapter.options.secret == SECRET.encode()
    assert (adapter.options.timeout_s, adapter.options.max_connections) == (2.0, 4)
    assert SECRET not in repr(adapter.options)


@pytest.fixture
async def receiver() -> AsyncIterator[ScriptedReceiver]:
    hook = ScriptedReceiver()
    await hook.start()
    yield hook
    await hook.stop()


@pytest.fixture
async def started() -> AsyncIterator[list[WebhookAdapter]]:
    adapters: list[WebhookAdapter] = []
    yield adapters
    for adapter in adapters:
        await adapter.close()


async def start(
    started: list[WebhookAdapter], host: FakeHost, url: str, **extra: Any
) -> WebhookAdapter:
    adapter = build(host, url=url, **extra)
    await adapter.start()
    started.append(adapter)
    return adapter


async def test_a_document_is_posted_signed_with_its_headers_and_confirmed(
    receiver: ScriptedReceiver, started: list[WebhookAdapter]
) -> None:
    host = FakeHost(bodies={"d-1": b"<edXML>exactly these bytes \xc4\x90</edXML>"})
    adapter = await start(started, host, receiver.url)
    await adapter.deliver(item("d-1", attempt=3))
    [request] = receiver.requests
    assert request.body == b"<edXML>exactly these bytes \xc4\x90</edXML>"
    headers = request.headers
    assert {
        k: v
        for k, v in headers.items()
        if k.startswith("Edoc-") and k not in ("Edoc-Timestamp", "Edoc-Signature")
    } == {
        "Edoc-Delivery-Id": "d-1",
        "Edoc-Message-Id": "m-d-1",
        "Edoc-Kind": "edoc",
        "Edoc-From": "000.00.13.H26",
        "Edoc-To": "000.00.00.H26",
        "Edoc-Document-Id": "000.00.13.H26,2026/11/27,12/Q%C4%90-UBND",
        "Edoc-Priority": "0",
        "Edoc-Attempt": "3",
    }
    assert headers["Content-Type"] == "application/xml"
    assert abs(int(headers["Edoc-Timestamp"]) - time.time()) < 5
    # the recipe of docs/adapters.md, computed here by hand
    signed = (
        "\n".join(
            headers[name]
            for name in (
                "Edoc-Timestamp",
                "Edoc-Delivery-Id",
                "Edoc-Message-Id",
                "Edoc-Kind",
                "Edoc-From",
                "Edoc-Document-Id",
            )
        )
        + "\n"
    ).encode() + request.body
    digest = hmac.new(SECRET.encode(), signed, hashlib.sha256).hexdigest()
    assert headers["Edoc-Signature"] == f"sha256={digest}"
    assert verify(SECRET.encode(), headers, request.body, time.time()) is None
    assert host.delivered == [("d-1", "HTTP 204")]


async def test_a_receiver_refuses_a_changed_header_a_changed_body_or_an_old_request(
    receiver: ScriptedReceiver, started: list[WebhookAdapter]
) -> None:
    adapter = await start(started, FakeHost(), receiver.url)
    await adapter.deliver(item("d-1", kind="status"))
    [request] = receiver.requests
    assert request.headers["Edoc-Kind"] == "status"
    key = SECRET.encode()
    assert verify(key, {**request.headers, "Edoc-From": "000.00.00.G22"}, request.body, time.time())
    assert verify(key, request.headers, request.body + b" ", time.time())
    assert verify(key, request.headers, request.body, time.time() + 600)
    assert verify(b"another secret of thirty-two chars", request.headers, request.body, time.time())


def answer(status: int, **headers: str) -> Any:
    return lambda request, n: web.Response(status=status, headers=headers)


@pytest.mark.parametrize("status", [200, 201, 202, 204])
async def test_2xx_is_delivery(
    receiver: ScriptedReceiver, started: list[WebhookAdapter], status: int
) -> None:
    receiver.answer = answer(status)
    host = FakeHost()
    await (await start(started, host, receiver.url)).deliver(item())
    assert host.delivered == [("d-1", f"HTTP {status}")]


@pytest.mark.parametrize(
    ("status", "headers", "retry_after_s"),
    [
        (500, {}, None),
        (502, {}, None),
        (503, {"Retry-After": "120"}, 120.0),
        (408, {}, None),
        (429, {"Retry-After": "7"}, 7.0),
        (429, {"Retry-After": "soon"}, None),
    ],
)
async def test_5xx_408_and_429_are_temporary_and_retry_after_is_read(
    receiver: ScriptedReceiver,
    started: list[WebhookAdapter],
    status: int,
    headers: dict[str, str],
    retry_after_s: float | None,
) -> None:
    receiver.answer = answer(status, **headers)
    host = FakeHost()
    with pytest.raises(TemporaryFailure) as failure:
        await (await start(started, host, receiver.url)).deliver(item())
    assert failure.value.reason == f"the receiver answered HTTP {status}"
    assert failure.value.retry_after_s == retry_after_s
    assert host.delivered == []


async def test_retry_after_may_be_an_http_date(
    receiver: ScriptedReceiver, started: list[WebhookAdapter]
) -> None:
    when = datetime.now(UTC) + timedelta(seconds=90)
    receiver.answer = answer(503, **{"Retry-After": format_datetime(when, usegmt=True)})
    with pytest.raises(TemporaryFailure) as failure:
        await (await start(started, FakeHost(), receiver.url)).deliver(item())
    assert failure.value.retry_after_s is not None
    assert 85 <= failure.value.retry_after_s <= 91


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (400, "the receiver refused it: HTTP 400"),
        (401, "the receiver refused it: HTTP 401"),
        (404, "the receiver refused it: HTTP 404"),
        (413, "the receiver refused it: HTTP 413"),
        (301, "HTTP 301: redirects are not followed, configure the final URL"),
    ],
)
async def test_other_answers_are_permanent(
    receiver: ScriptedReceiver, started: list[WebhookAdapter], status: int, reason: str
) -> None:
    receiver.answer = answer(status, Location="https://elsewhere/")
    with pytest.raises(PermanentFailure) as failure:
        await (await start(started, FakeHost(), receiver.url)).deliver(item())
    assert reason in failure.value.reason
    assert len(receiver.requests) == 1  # no redirect followed


async def test_a_receiver_that_does_not_answer_in_time_is_temporary(
    receiver: ScriptedReceiver, started: list[WebhookAdapter]
) -> None:
    receiver.delay_s = 2.0
    with pytest.raises(TemporaryFailure) as failure:
        await (await start(started, FakeHost(), receiver.url, timeout_s=0.2)).deliver(item())
    assert failure.value.reason == "the receiver did not answer within 0.2 s"


async def test_an_unreachable_receiver_is_temporary_and_the_reason_holds_no_secret(
    started: list[WebhookAdapter],
) -> None:
    url = f"http://127.0.0.1:{free_port()}/hook?token=query-secret"
    with pytest.raises(TemporaryFailure) as failure:
        await (await start(started, FakeHost(), url)).deliver(item())
    assert failure.value.reason.startswith("cannot reach the receiver: ")
    assert "query-secret" not in failure.value.reason
    assert SECRET not in failure.value.reason
