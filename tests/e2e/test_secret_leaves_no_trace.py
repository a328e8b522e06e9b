"""A secret document leaves nothing of itself behind: not in the data folder (database, bus,
their WAL files), not in the logs. Only the metadata of the refusal is kept."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.e2e.process import GatewayProcess
from tests.factories import document_bytes
from tests.harness import AUDITOR_TOKEN, CITY, FINANCE, HOME_AFFAIRS, bearer

SECRET_WAYS: list[tuple[dict[str, str], dict[str, str]]] = [
    ({"Edoc-Secrecy": "mat"}, {}),
    ({"Edoc-Secrecy": "none"}, {"subject": "TỐI MẬT - Kế hoạch"}),
    ({}, {"subject": "Độ mật: Tuyệt mật"}),
    ({}, {"content_prefix": "TUYỆT MẬT\n"}),
]


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[GatewayProcess]:
    process = GatewayProcess(tmp_path)
    await process.start()
    yield process
    process.stop()


def files_containing(folder: Path, needle: bytes) -> list[str]:
    return [str(p) for p in folder.rglob("*") if p.is_file() and needle in p.read_bytes()]


async def test_no_trace_of_a_secret_body_anywhere(gateway: GatewayProcess, tmp_path: Path) -> None:
    marker = f"SECRET-BODY-{uuid.uuid4().hex}"
    control = f"PUBLIC-BODY-{uuid.uuid4().hex}"
    headers = {**bearer(FINANCE.token), "Content-Type": "application/xml"}
    async with aiohttp.ClientSession(gateway.url) as http:
        for number, (extra_headers, fields) in enumerate(SECRET_WAYS):
            prefix = fields.pop("content_prefix", "")
            raw = document_bytes(
                sender=FINANCE.id,
                recipients=(CITY.id, HOME_AFFAIRS.id),
                document_id=f"SECRET-{number}",
                content=f"{prefix}{marker} nội dung",
                **fields,
            )
            async with http.post(
                "/v1/documents", data=raw, headers={**headers, **extra_headers}
            ) as r:
                assert r.status == 422, await r.text()
                assert (await r.json())["code"] == "secret_document"
        public = document_bytes(
            sender=FINANCE.id, recipients=(CITY.id,), content=f"{control} văn bản"
        )
        async with http.post("/v1/documents", data=public, headers=headers) as r:
            assert r.status == 202
    async with (
        aiohttp.ClientSession(gateway.ops_url) as http,
        http.get("/v1/audit/events", params={"limit": "100"}, headers=bearer(AUDITOR_TOKEN)) as r,
    ):
        entries = (await r.json())["events"]
    gateway.stop()

    excluded = [e for e in entries if e["event"] == "secret_excluded"]
    assert len(excluded) == 2 * len(SECRET_WAYS)
    assert {e["data"]["document_id"] for e in excluded} == {
        f"SECRET-{n}" for n in range(len(SECRET_WAYS))
    }
    data_dir = tmp_path / "data"
    assert files_containing(data_dir, control.encode()) != []  # the search does find bodies
    assert files_containing(data_dir, marker.encode()) == []
    assert marker not in gateway.log.read_text()
    assert files_containing(Path("/tmp"), marker.encode()) == []
