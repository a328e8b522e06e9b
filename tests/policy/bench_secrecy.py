"""What the secrecy guard costs per document: `.venv/bin/python -m tests.policy.bench_secrecy`.

Prints µs per document for `detect_secrecy` on a 10 kB document without PDF (ordinary
Vietnamese text, full of "ậ"; with words that contain "mật"; all decomposed) and with a one-page
PDF attachment (CPU time, best of 5 rounds); then the SecrecyGuard step itself in an event loop
(wall time), which reads the well-formed tree and reads PDFs on a worker thread.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import time
import timeit
import unicodedata
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from gateway.edxml import Attachment, Document, read_xml, to_xml
from gateway.policy.secrecy import SecrecyGuard, detect_secrecy
from gateway.policy.secrecy_view import view_of_tree
from tests.factories import document
from tests.policy.pdfs import make_pdf

PARAGRAPH = (
    "Thực hiện Kế hoạch số 45/KH-UBND ngày 12/3/2025 của Ủy ban nhân dân Thành phố về việc "
    "triển khai chuyển đổi số, Sở Thông tin và Truyền thông đề nghị các cơ quan, đơn vị cập "
    "nhật, tiếp nhận và báo cáo kết quả thực hiện theo Luật Giao dịch điện tử. "
)
SUBJECT = "V/v báo cáo kết quả triển khai chuyển đổi số năm 2025"
DOCX = Attachment.of("cid:1", "phu-luc.docx", b"PK\x03\x04" + bytes(200))


def ten_kb(content: str, *attachments: Attachment) -> Document:
    return dataclasses.replace(
        document(subject=SUBJECT, attachments=list(attachments) or [DOCX]), content=content
    )


def one_page_pdf() -> bytes:
    head = ["ỦY BAN NHÂN DÂN", "THÀNH PHỐ HÀ NỘI", "Số: 125/UBND-VP", "V/v chuyển đổi số"]
    body = [PARAGRAPH[i : i + 90] for i in range(0, len(PARAGRAPH), 90)] * 8
    return make_pdf([*head, *body], ["Nơi nhận:", "- Lưu: VT."])


def per_call(fn: Callable[[], object], budget: float = 0.5) -> float:
    """CPU µs per call (this thread's CPU time, so that other processes on the machine count
    less): the best of 5 rounds of about `budget` seconds each."""
    start = time.perf_counter()
    fn()
    once = max(time.perf_counter() - start, 1e-7)
    number = max(1, int(budget / once))
    rounds = timeit.repeat(fn, number=number, repeat=5, timer=time.thread_time)
    return min(rounds) / number * 1e6


def main() -> None:
    text = (PARAGRAPH * 60)[:10_000]
    middle = len(text) // 2
    pdf = one_page_pdf()
    cases = {
        "10 kB, no PDF": ten_kb(text),
        "10 kB, no PDF, 'bảo mật, mật khẩu' inside": ten_kb(
            text[:middle] + " bảo mật, mật khẩu " + text[middle:]
        ),
        "10 kB, no PDF, all decomposed (NFD)": ten_kb(unicodedata.normalize("NFD", text)),
        f"10 kB + a 1-page PDF ({len(pdf)} bytes)": ten_kb(
            text, Attachment.of("cid:2", "van-ban.pdf", pdf, content_type="application/pdf")
        ),
    }
    print("detect_secrecy(document, None), µs per document:")
    for name, doc in cases.items():
        assert detect_secrecy(doc, None) is None
        print(f"  {per_call(functools.partial(detect_secrecy, doc, None)):10.1f}  {name}")

    guard = SecrecyGuard()

    async def run(doc: Document, rounds: int) -> float:
        # what the step reads of a Submission: the well-formed tree, before the schema check
        raw = to_xml(doc)
        root = read_xml(raw)
        sub: Any = SimpleNamespace(
            raw=raw,
            message=None,
            root=root,
            declared_secrecy=None,
            caller=SimpleNamespace(id=doc.sender.organ_id),
            secrecy_view=None,
        )
        start = time.perf_counter()
        for _ in range(rounds):
            await guard(sub)
        return (time.perf_counter() - start) / rounds * 1e6

    print("view_of_tree + detect_secrecy (what the intake step does), µs per document:")
    for name, doc in cases.items():
        root = read_xml(to_xml(doc))
        cost = per_call(lambda root=root: detect_secrecy(view_of_tree(root), None))
        print(f"  {cost:10.1f}  {name}")

    print("SecrecyGuard step on the tree (PDFs on a worker thread), µs per document:")
    for name, doc in cases.items():
        rounds = 20 if "PDF (" in name else 2000
        best = min(asyncio.run(run(doc, rounds)) for _ in range(3))
        print(f"  {best:10.1f}  {name}")


if __name__ == "__main__":
    main()
