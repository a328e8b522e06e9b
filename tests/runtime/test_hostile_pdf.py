"""A PDF that takes the reader seconds to open (a broken `startxref`: the library rebuilds the
cross-reference table) is refused once over `limits.attachment_budget_s`, over HTTP, while
another agency's large document checked on the same lane at the same time is accepted."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from pathlib import Path

from gateway.config import LimitSettings
from gateway.edxml.compose import pdf_attachment
from tests.conftest import Net
from tests.factories import document_bytes
from tests.harness import CITY, FINANCE, HOME_AFFAIRS, make_settings
from tests.runtime.pdfs import broken_xref_pdf, large_pdf

BUDGET_S = 0.5  # opening the hostile PDF takes seconds; the ordinary ones milliseconds


def with_pdf(sender: str, pdf: bytes) -> bytes:
    attachment = pdf_attachment("cong-van.pdf", pdf)
    return document_bytes(sender=sender, recipients=(CITY.id,), attachments=[attachment])


async def test_a_pdf_slow_to_open_is_refused_and_the_others_go_through(
    net_factory: Callable[..., Awaitable[Net]], tmp_path: Path
) -> None:
    settings = make_settings(tmp_path / "data", limits=LimitSettings(attachment_budget_s=BUDGET_S))
    server = dataclasses.replace(settings.server, worker_processes=1)
    net = await net_factory(dataclasses.replace(settings, server=server))
    hostile = with_pdf(FINANCE.id, broken_xref_pdf(b"Ke hoach", 150_000))
    # over 256 kB: checked in the same ("large") lane as the hostile one
    ordinary = with_pdf(HOME_AFFAIRS.id, large_pdf(b"Bao cao", 300_000))

    (status, problem), (other_status, other_body) = await asyncio.gather(
        net[FINANCE.id].submit(hostile), net[HOME_AFFAIRS.id].submit(ordinary)
    )
    assert status == 422, problem
    assert problem["code"] == "attachment_unreadable"
    assert problem["type"] == "urn:edocgw:error:attachment_unreadable"
    assert "took over 0.5 s" in problem["detail"]
    assert other_status == 202, other_body

    # the lane's worker was replaced: the next PDFs are read as before
    again = with_pdf(FINANCE.id, large_pdf(b"Ke hoach (ban sua)", 300_000))
    status, body = await net[FINANCE.id].submit(again)
    assert status == 202, body
    inbox = await net[CITY.id].inbox_all()
    assert sorted(item["document_id"] for item in inbox) == sorted(
        [other_body["document_id"], body["document_id"]]
    )
