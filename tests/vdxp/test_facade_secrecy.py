"""The secrecy guard behind the national axis' SDK façade (issue 12): the same refusal and the
same counting as POST /v1/documents; an ordinary document travels unchanged."""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import structlog
from multidict import CIMultiDict

from tests.api.test_secret_documents import (
    MARKER,
    ORDINARY,
    RECIPIENTS,
    SECRET,
    audit_events,
    files_containing,
    raw_doc,
)
from tests.conftest import Net
from tests.harness import FINANCE, HOME_AFFAIRS, make_settings
from tests.vdxp.conftest import with_vdxp_secrets
from tests.vdxp.sdk_client import SdkClient
from tests.waiting import eventually

SECRETS = {
    FINANCE.id: "finance-sdk-secret-0123456789",
    HOME_AFFAIRS.id: "home-affairs-sdk-secret-0123456789",
}


@pytest.fixture
async def facade(net_factory: Callable[..., Awaitable[Net]], tmp_path: Path) -> Net:
    return await net_factory(with_vdxp_secrets(make_settings(tmp_path / "data"), SECRETS))


def sdk(net: Net, organ_id: str) -> SdkClient:
    return SdkClient(net.client, organ_id, SECRETS[organ_id])


@pytest.mark.parametrize("case", ["comment in Subject", "secret and schema-broken", "Cyrillic"])
async def test_a_secret_upload_is_refused_and_counted_once_per_recipient(
    facade: Net, tmp_path: Path, case: str
) -> None:
    answer = await sdk(facade, FINANCE.id).send_edoc(SECRET[case]())
    assert (answer["status"], answer["ErrorCode"]) == ("FAIL", "422")
    assert answer["ErrorDesc"].startswith("secret_document: ")
    assert MARKER not in json.dumps(answer, ensure_ascii=False)
    events = await audit_events(facade)
    excluded = sorted(e["recipient"] for e in events if e["event"] == "secret_excluded")
    assert excluded == sorted(RECIPIENTS)
    assert MARKER not in json.dumps(events, ensure_ascii=False)
    assert files_containing(tmp_path / "data", MARKER.encode()) == []


@pytest.mark.parametrize("case", ["levels listed", "SDK attributes and DigitalSignature"])
async def test_an_ordinary_upload_travels_unchanged(facade: Net, case: str) -> None:
    raw = ORDINARY[case]()
    sent = await sdk(facade, FINANCE.id).send_edoc(raw)
    assert sent["status"] == "OK", sent
    home = sdk(facade, HOME_AFFAIRS.id)
    answer = await eventually(home.received, lambda found: len(found.get("data", [])) >= 1)
    [item] = answer["data"]
    fetched = await home.get_edoc(item["docId"])
    assert base64.b64decode(fetched["data"]) == raw


async def send_declared(
    net: Net, raw: bytes, headers: list[tuple[str, str]], **params: str
) -> dict[str, Any]:
    """sendEdoc with the signed parameters `params` and `headers` added after signing."""
    client = sdk(net, FINANCE.id)

    def add(signed: CIMultiDict[str]) -> None:
        for name, value in headers:
            signed.add(name, value)

    _, answer = await client.call(
        "sendEdoc",
        client.upload(raw, **params),
        body=raw + b"\r\n",
        content_type="application/octet-stream",
        tamper=add,
    )
    return answer


DECLARED: dict[str, tuple[dict[str, str], list[tuple[str, str]], str]] = {
    # (signed parameters, headers added, the level refused)
    "signed secrecy": ({"secrecy": "tuyet-mat"}, [], "tuyet-mat"),
    "signed none, Edoc-Secrecy mat": ({"secrecy": "none"}, [("Edoc-Secrecy", "mat")], "mat"),
    "Edoc-Secrecy twice, the first harmless": (
        {},
        [("Edoc-Secrecy", "none"), ("Edoc-Secrecy", "toi-mat")],
        "toi-mat",
    ),
    "signed none, the parameter's header again as toi-mat": (
        {"secrecy": "none"},
        [("XroadVnpt-secrecy", "toi-mat")],
        "toi-mat",
    ),
    "a bare secrecy header": ({}, [("secrecy", "mat")], "mat"),
}


@pytest.mark.parametrize("case", list(DECLARED))
async def test_every_declaration_of_an_upload_counts_as_on_the_agency_api(
    facade: Net, tmp_path: Path, case: str
) -> None:
    params, headers, level = DECLARED[case]
    with structlog.testing.capture_logs() as logs:
        answer = await send_declared(facade, raw_doc(), headers, **params)
    assert (answer["status"], answer["ErrorCode"]) == ("FAIL", "422"), answer
    assert answer["ErrorDesc"].startswith("secret_document: ")
    assert f"({level}; rule" in answer["ErrorDesc"]
    events = await audit_events(facade)
    excluded = sorted(e["recipient"] for e in events if e["event"] == "secret_excluded")
    assert excluded == sorted(RECIPIENTS)
    assert MARKER not in json.dumps(events, ensure_ascii=False)
    assert MARKER not in json.dumps(logs, ensure_ascii=False, default=str)
    assert files_containing(tmp_path / "data", MARKER.encode()) == []
    home = sdk(facade, HOME_AFFAIRS.id)
    assert (await home.received()).get("data") == []


async def test_two_secrecy_levels_in_an_upload_the_first_harmless_are_secret(facade: Net) -> None:
    answer = await sdk(facade, FINANCE.id).send_edoc(SECRET["two SecrecyLevel"]())
    assert (answer["status"], answer["ErrorCode"]) == ("FAIL", "422")
    assert "(tuyet-mat; rule" in answer["ErrorDesc"]


async def test_harmless_declarations_let_an_upload_through(facade: Net) -> None:
    raw = raw_doc()
    headers = [("Edoc-Secrecy", "none"), ("Edoc-Secrecy", "NONE")]
    answer = await send_declared(facade, raw, headers, secrecy="none")
    assert answer["status"] == "OK", answer


async def test_a_declaration_naming_no_level_is_bad_input(facade: Net) -> None:
    answer = await send_declared(facade, raw_doc(), [("Edoc-Secrecy", "geheim")])
    assert (answer["status"], answer["ErrorCode"]) == ("FAIL", "400")
    assert answer["ErrorDesc"].startswith("bad_request: header Edoc-Secrecy: ")
