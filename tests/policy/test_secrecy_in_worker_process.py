"""The guard reads PDFs in a worker process (off the gateway's GIL): same findings, over HTTP."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from gateway.edxml.compose import pdf_attachment
from tests.factories import document_bytes
from tests.harness import CITY, FINANCE, make_settings
from tests.policy.pdfs import make_pdf


async def test_pdf_first_pages_are_read_by_the_worker_process(
    net_factory: Any, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path / "data")
    server = dataclasses.replace(settings.server, worker_processes=1)
    net = await net_factory(dataclasses.replace(settings, server=server))

    plain = pdf_attachment("bao-cao.pdf", make_pdf(["Báo cáo về công tác bảo mật thông tin"]))
    raw = document_bytes(sender=FINANCE.id, recipients=(CITY.id,), attachments=[plain])
    assert (await net[FINANCE.id].submit(raw))[0] == 202

    stamp_on_page_2 = pdf_attachment("phu-luc.pdf", make_pdf(["Phụ lục"], ["TỐI MẬT"]))
    raw = document_bytes(sender=FINANCE.id, recipients=(CITY.id,), attachments=[stamp_on_page_2])
    assert (await net[FINANCE.id].submit(raw))[0] == 202

    stamped = pdf_attachment("cv.pdf", make_pdf(["Độ mật: Tuyệt mật", "Kế hoạch"]))
    raw = document_bytes(sender=FINANCE.id, recipients=(CITY.id,), attachments=[stamped])
    status, problem = await net[FINANCE.id].submit(raw)
    assert status == 422, problem
    assert (status, problem["code"], problem["level"]) == (422, "secret_document", "tuyet-mat")
    assert problem["field"] == "Attachment[1] (PDF, page 1)"
