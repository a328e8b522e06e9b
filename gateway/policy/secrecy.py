"""The secrecy guard: secret documents are refused at the door (DESIGN §2, issue 4).

`detect_secrecy(document, declared)` is pure and synchronous: it reads the declarations (the
`Edoc-Secrecy` header, the `OtherInfo/SecrecyLevel` element) and looks for a secrecy stamp in
the document's text fields and on the first page of its PDF attachments, by the rules of
`secrecy_rules.py`. The highest level found wins (tuyệt mật > tối mật > mật); between fields of
that level, the first in this fixed order: the header, the element, Subject, Content,
DocumentType/TypeName, Appendix[1..n], each attachment's AttachmentName and Description
(Attachment[1]/AttachmentName, Attachment[1]/Description, Attachment[2]/...), and last the
first pages of the PDF attachments (Attachment[i] (PDF, page 1)), which are read only when the
text has not already shown the highest level. Indices count from 1, as in XPath.

`SecrecyGuard` is the intake step: it refuses a secret document with `SecretDocument` (422
secret_document, extensions level, field, rule). It logs nothing and keeps nothing of the
document: a finding holds the level, the field's name, the rule's id and the matched marking.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from gateway.edxml import Attachment, Document
from gateway.errors import BadInput, SchemaInvalid, SecretDocument

from .pdf_text import (
    MAGIC_WINDOW,
    PDF_MAGIC,
    PdfText,
    first_page_text,
    has_pdf_header,
    is_pdf,
)
from .secrecy_rules import (
    DECLARATION_EXPLANATIONS,
    HEADER_NAME,
    HEADER_RULE,
    HEADER_VALUES,
    LEVEL_NAMES,
    LEVELS,
    RANK,
    RULES_BY_ID,
    SECRECY_LEVEL_HINT,
    SECRECY_LEVEL_RULE,
    SECRECY_LEVEL_VALUES,
    Level,
)
from .secrecy_text import find_stamp, fold_declared

if TYPE_CHECKING:
    from gateway.intake.submission import Submission
    from gateway.runtime.workers import Workers

HEADER_FIELD: Final = f"header {HEADER_NAME}"
SECRECY_LEVEL_FIELD: Final = "OtherInfo/SecrecyLevel"
_TOP: Final = RANK[LEVELS[-1]]
# base64 characters that hold the first MAGIC_WINDOW + 5 bytes (a multiple of 4)
_SNIFF_B64_CHARS: Final = ((MAGIC_WINDOW + len(PDF_MAGIC)) // 3 + 1) * 4

PdfProblemHook = Callable[[str, str], None]
"""Called with (field, problem) for a PDF attachment whose first page was not read."""


@dataclass(frozen=True, slots=True)
class SecrecyFinding:
    level: Level  # mat, toi-mat or tuyet-mat
    field: str  # e.g. "Subject", "Appendix[2]", "Attachment[1] (PDF, page 1)"
    rule: str  # a rule id of secrecy_rules
    marking: str  # the declared code or the matched stamp: nothing more of the document

    def detail(self) -> str:
        """The sentence of the 422: the field, the rule, and what the sender can do."""
        name = LEVEL_NAMES[self.level]
        if self.rule in DECLARATION_EXPLANATIONS:
            where = "The request header " + HEADER_NAME if self.rule == HEADER_RULE else self.field
            what = f"{where} declares the document {name} ({self.level}; rule {self.rule})"
            hint = ""
        else:
            explanation = RULES_BY_ID[self.rule].explanation
            what = (
                f"{self.field} carries the secrecy stamp “{self.marking}”, so the document is "
                f"{name} ({self.level}; rule {self.rule}: {explanation})"
            )
            hint = " If that text is not a secrecy marking, rephrase it and send again."
        return (
            f"{what}. Secret documents are never exchanged electronically (Law 29/2018 on "
            f"protecting state secrets): it was not accepted and nothing of it is kept; send it "
            f"by the means prescribed for state secrets.{hint}"
        )


def parse_declared_secrecy(value: str | None) -> Level | None:
    """The level the `Edoc-Secrecy` header declares: none, mat, toi-mat or tuyet-mat, in any
    case; None when absent or none. BadInput for any other value."""
    if value is None:
        return None
    code = value.strip().lower()
    if code in HEADER_VALUES:
        return HEADER_VALUES[code]
    shown = value if len(value) <= 40 else value[:40] + "…"
    raise BadInput(
        f"header {HEADER_NAME}: {shown!r} is not a secrecy level; send one of "
        + ", ".join(HEADER_VALUES)
        + " (any case), or leave the header out",
        header=HEADER_NAME,
        allowed=list(HEADER_VALUES),
    )


def parse_secrecy_level(value: str | None) -> Level | None:
    """The level an `OtherInfo/SecrecyLevel` element declares (lenient: see
    SECRECY_LEVEL_VALUES); None when absent or not secret. SchemaInvalid (a 400) for a value
    that names no level: it is not echoed, since it may be anything."""
    if value is None or not value.strip():
        return None
    key = fold_declared(value)
    if key in SECRECY_LEVEL_VALUES:
        return SECRECY_LEVEL_VALUES[key]
    raise SchemaInvalid(
        f"{SECRECY_LEVEL_FIELD} holds a value that names no secrecy level; write "
        f"{SECRECY_LEVEL_HINT}, or leave the element out",
        field=SECRECY_LEVEL_FIELD,
    )


def detect_secrecy(
    document: Document,
    declared: str | None,
    *,
    on_pdf_problem: PdfProblemHook | None = None,
    pdf_texts: Mapping[int, PdfText] | None = None,
) -> SecrecyFinding | None:
    """The secrecy of `document` given the raw `Edoc-Secrecy` header `declared`: the finding
    of the highest level (the first field in the fixed order among equals), or None.

    A malformed header or SecrecyLevel value raises BadInput / SchemaInvalid, but only when
    nothing marks the document secret: a secret document is always reported as secret.
    `pdf_texts` holds first pages read beforehand (by `read_first_pages`), by attachment
    number; without it the PDFs are read here.
    """
    scan = _Scan()
    errors = scan.declarations(declared, document)
    # lazily: the PDFs at the end are read only while the answer can still change
    for field, text in _texts(document, on_pdf_problem, pdf_texts):
        if scan.complete:
            break
        stamp = find_stamp(text) if text else None
        if stamp is not None:
            scan.offer(stamp.level, field, stamp.rule.id, stamp.marking)
    if scan.best is None and errors:
        raise errors[0]
    return scan.best


def has_pdf_attachment(document: Document) -> bool:
    """Some attachment will be read as a PDF (the slow part of the guard): one that is taken
    for a PDF and starts as one (a file named .pdf that is not one is dismissed at once)."""
    return any(_sniff_pdf(a) and _starts_as_pdf(a) for a in document.attachments)


def _starts_as_pdf(attachment: Attachment) -> bool:
    try:
        head = base64.b64decode(attachment.content_b64[:_SNIFF_B64_CHARS])
    except (binascii.Error, ValueError):
        return False
    return has_pdf_header(head)


class SecrecyGuard:
    """The intake step: a secret document is refused (SecretDocument) before anything of it
    is stored, queued or logged; a malformed declaration is refused as bad input.

    Documents with a PDF attachment are examined on a worker thread (reading a PDF takes
    milliseconds); the others in place (microseconds). `on_pdf_problem(field, problem)` is
    called, on that thread, for each PDF whose first page was not read: count it, never log
    the document with it.
    """

    def __init__(
        self, *, on_pdf_problem: PdfProblemHook | None = None, workers: Workers | None = None
    ) -> None:
        self._on_pdf_problem = on_pdf_problem
        self._workers = workers

    async def __call__(self, sub: Submission) -> None:
        document = sub.document
        hook = self._on_pdf_problem
        if not has_pdf_attachment(document):
            finding = detect_secrecy(document, sub.declared_secrecy)
        elif self._workers is not None and self._workers.processes:
            # pypdf is pure Python: in a worker process it uses another core, not the GIL
            pdfs = pdf_attachments(document)
            size = sum(len(content) for _, content in pdfs)
            texts = await self._workers.in_process(size, read_first_pages, pdfs)
            finding = detect_secrecy(
                document, sub.declared_secrecy, on_pdf_problem=hook, pdf_texts=texts
            )
        else:
            finding = await asyncio.to_thread(
                detect_secrecy, document, sub.declared_secrecy, on_pdf_problem=hook
            )
        if finding is not None:
            raise SecretDocument(
                finding.detail(), level=finding.level, field=finding.field, rule=finding.rule
            )


class _Scan:
    def __init__(self) -> None:
        self.best: SecrecyFinding | None = None

    @property
    def complete(self) -> bool:
        """Nothing found later can change the answer."""
        return self.best is not None and RANK[self.best.level] == _TOP

    def declarations(self, declared: str | None, document: Document) -> list[BadInput]:
        """Offers the declared levels; returns the errors of malformed declarations."""
        errors: list[BadInput] = []
        try:
            self.offer(parse_declared_secrecy(declared), HEADER_FIELD, HEADER_RULE)
        except BadInput as exc:
            errors.append(exc)
        if document.other_info is not None:
            try:
                level = parse_secrecy_level(document.other_info.secrecy_level)
                self.offer(level, SECRECY_LEVEL_FIELD, SECRECY_LEVEL_RULE)
            except BadInput as exc:
                errors.append(exc)
        return errors

    def offer(self, level: Level | None, field: str, rule: str, marking: str = "") -> None:
        if level is None:
            return
        if self.best is None or RANK[level] > RANK[self.best.level]:
            self.best = SecrecyFinding(level, field, rule, marking or level)


def read_first_pages(attachments: Sequence[tuple[int, str]]) -> dict[int, PdfText]:
    """The first pages of (number, base64 content) attachments: what a worker process reads."""
    return {number: _first_page_text_b64(content) for number, content in attachments}


def pdf_attachments(document: Document) -> list[tuple[int, str]]:
    """The (number, base64 content) of the attachments the guard reads as PDFs."""
    return [(i, a.content_b64) for i, a in enumerate(document.attachments, 1) if _sniff_pdf(a)]


def _texts(
    document: Document,
    on_pdf_problem: PdfProblemHook | None,
    pdf_texts: Mapping[int, PdfText] | None,
) -> Iterator[tuple[str, str | None]]:
    """(field, text) in the fixed order: the text fields, then the PDFs' first pages."""
    yield from _text_fields(document)
    for i, attachment in enumerate(document.attachments, start=1):
        if _sniff_pdf(attachment):
            field = f"Attachment[{i}] (PDF, page 1)"
            if pdf_texts is None:
                pdf = _first_page_text_b64(attachment.content_b64)
            else:
                pdf = pdf_texts.get(i, PdfText("", "not read"))
            if pdf.problem is not None and on_pdf_problem is not None:
                on_pdf_problem(field, pdf.problem)
            yield field, pdf.text


def _text_fields(document: Document) -> Iterator[tuple[str, str | None]]:
    yield "Subject", document.subject
    yield "Content", document.content
    if document.document_type is not None:
        yield "DocumentType/TypeName", document.document_type.type_name
    if document.other_info is not None:
        for i, appendix in enumerate(document.other_info.appendixes, start=1):
            yield f"Appendix[{i}]", appendix
    for i, attachment in enumerate(document.attachments, start=1):
        yield f"Attachment[{i}]/AttachmentName", attachment.attachment_name
        yield f"Attachment[{i}]/Description", attachment.description


def _sniff_pdf(attachment: Attachment) -> bool:
    """Read as a PDF: the content type or name says so, or the content starts as one."""
    if is_pdf(attachment.attachment_name, attachment.content_type):
        return True
    return _starts_as_pdf(attachment)


def _first_page_text_b64(content_b64: str) -> PdfText:
    try:
        data = base64.b64decode(content_b64, validate=True)
    except (binascii.Error, ValueError):
        return PdfText("", "not base64")
    return first_page_text(data)
