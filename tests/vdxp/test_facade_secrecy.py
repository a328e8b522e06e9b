"""The secrecy guard behind the national axis' SDK façade (issue 12): the same refusal and the
same counting as POST /v1/documents; an ordinary document travels unchanged."""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from tests.api.test_secret_documents import (
    MARKER,
    ORDINARY,
    RECIPIENTS,
    SECRET,
    audit_events,
    files_containing,
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
