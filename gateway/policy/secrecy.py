"""The secrecy guard: secret documents are refused at the door (DESIGN §2, docs/secrecy.md).

`detect_secrecy(document, declared)` is pure and synchronous: it reads every declaration (each
`Edoc-Secrecy` header value, every `SecrecyLevel` or legacy `Secret` element) and looks for a
secrecy stamp in the document's text fields, the first lines of its text-like attachments and
the first page of its PDF attachments, by the rules of `secrecy_rules.py`. The highest level
found wins (tuyệt mật > tối mật > mật); between fields of that level, the first in this fixed
order: the header, the elements, Subject, Content, DocumentType/TypeName, Appendix[1..n], each
attachment's AttachmentName and Description (Attachment[1]/AttachmentName,
Attachment[1]/Description, Attachment[2]/...), the manifest's Reference[i]/Description and
AttachmentName, the text-like attachments (Attachment[i] (docx, first lines)), and last the
first pages of the PDF attachments (Attachment[i] (PDF, page 1)); attachments are read only
when the text has not already shown the highest level. Indices count from 1, as in XPath.

`SecrecyGuard` is the intake step, run on the well-formed tree before the schema check (a
secret document that also breaks the schema is still refused as secret and counted): it
refuses a secret document with `SecretDocument` (422 secret_document, extensions level, field,
rule). It logs nothing and keeps nothing of the document: a finding holds the level, the
field's name, the rule's id and the matched marking.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from gateway.edxml import Document
from gateway.errors import BadInput, SchemaInvalid, SecretDocument, SenderMismatch

from .attachment_text import HEAD_B64_CHARS, first_lines, is_zipped, text_kind
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
from .secrecy_view import AttachmentView, SecrecyView, view_of_document, view_of_tree

if TYPE_CHECKING:
    from gateway.intake.submission import Submission
    from gateway.runtime.workers import Workers

HEADER_FIELD: Final = f"header {HEADER_NAME}"
SECRECY_LEVEL_FIELD: Final = "OtherInfo/SecrecyLevel"
_TOP: Final = RANK[LEVELS[-1]]
# base64 characters that hold the first MAGIC_WINDOW + 5 bytes (a multiple of 4)
_SNIFF_B64_CHARS: Final = ((MAGIC_WINDOW + len(PDF_MAGIC)) // 3 + 1) * 4

# a legacy <Secret> element may hold a flag rather than a level: "1" is secret (at least Mật)
_SECRET_FLAGS: Final[dict[str, Level | None]] = {"1": "mat", "true": "mat", "co": "mat"}
_SECRET_NOT: Final = frozenset({"false", "no"})
# beyond this much base64 in a text-like attachment (48 kB of file), the guard works on a thread:
# it reads up to 256 kB of it (a docx or odt whole)
_IN_PLACE_B64_CHARS: Final = 64 * 1024

# as gateway.intake.PARSE_IN_PLACE_BYTES: a bigger message's tree is read on a thread
_VIEW_IN_PLACE_BYTES: Final = 256 * 1024

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


def parse_secrecy_level(value: str | None, field: str = SECRECY_LEVEL_FIELD) -> Level | None:
    """The level an `OtherInfo/SecrecyLevel` (or legacy `Secret`) element declares (lenient:
    see SECRECY_LEVEL_VALUES; a legacy flag 1/true is Mật); None when absent or not secret.
    SchemaInvalid (a 400) for a value that names no level: it is not echoed, since it may be
    anything."""
    if value is None or not value.strip():
        return None
    key = fold_declared(value)
    if key in SECRECY_LEVEL_VALUES:
        return SECRECY_LEVEL_VALUES[key]
    if field.endswith("Secret") and (key in _SECRET_FLAGS or key in _SECRET_NOT):
        return _SECRET_FLAGS.get(key)
    raise SchemaInvalid(
        f"{field} holds a value that names no secrecy level; write "
        f"{SECRECY_LEVEL_HINT}, or leave the element out",
        field=field,
    )


def detect_secrecy(
    document: Document | SecrecyView,
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
    view = view_of_document(document) if isinstance(document, Document) else document
    scan = _Scan()
    errors = scan.declarations(declared, view)
    # lazily: the attachments at the end are read only while the answer can still change
    for field, text in _texts(view, on_pdf_problem, pdf_texts):
        if scan.complete:
            break
        stamp = find_stamp(text) if text else None
        if stamp is not None:
            scan.offer(stamp.level, field, stamp.rule.id, stamp.marking)
    if scan.best is None and errors:
        raise errors[0]
    return scan.best


def has_pdf_attachment(document: Document | SecrecyView) -> bool:
    """Some attachment will be read as a PDF (the slow part of the guard): one that is taken
    for a PDF and starts as one (a file named .pdf that is not one is dismissed at once)."""
    view = view_of_document(document) if isinstance(document, Document) else document
    return any(_sniff_pdf(a) and _starts_as_pdf(a) for a in view.attachments)


def has_bulky_text_attachment(view: SecrecyView) -> bool:
    """Some text-like attachment is large enough to be read off the event loop."""
    return any(
        len(a.content_b64) > _IN_PLACE_B64_CHARS
        and text_kind(a.attachment_name, a.content_type) is not None
        for a in view.attachments
    )


def _starts_as_pdf(attachment: AttachmentView) -> bool:
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
        view = await _view(sub)
        if view is None or view.is_status:
            return
        declared = sub.declared_secrecy
        hook = self._on_pdf_problem
        if not has_pdf_attachment(view) and not has_bulky_text_attachment(view):
            finding = detect_secrecy(view, declared)
        elif self._workers is not None and self._workers.processes and has_pdf_attachment(view):
            # pypdf is pure Python: in a worker process it uses another core, not the GIL
            pdfs = pdf_attachments(view)
            size = sum(len(content) for _, content in pdfs)
            texts = await self._workers.in_process(size, read_first_pages, pdfs)
            finding = await asyncio.to_thread(
                detect_secrecy, view, declared, on_pdf_problem=hook, pdf_texts=texts
            )
        else:
            finding = await asyncio.to_thread(detect_secrecy, view, declared, on_pdf_problem=hook)
        if finding is None:
            return
        if view.sender is not None and view.sender != sub.caller.id:
            # nothing is counted for another agency, nor for this one: it did not send it
            raise SenderMismatch(
                f"MessageHeader/From/OrganId is {view.sender!r} but the caller is "
                f"authenticated as {sub.caller.id!r}: an agency sends only in its own name"
            )
        raise SecretDocument(
            finding.detail(), level=finding.level, field=finding.field, rule=finding.rule
        )


async def _view(sub: Submission) -> SecrecyView | None:
    """What the guard reads: the modelled document, or (before the schema check, in the
    intake) the tree, kept on the submission so that a refusal is counted per recipient.
    A large message's tree is read on a thread (its attachments' text is copied)."""
    if sub.message is not None:
        return view_of_document(sub.message) if isinstance(sub.message, Document) else None
    if sub.root is None:
        return None
    if len(sub.raw) <= _VIEW_IN_PLACE_BYTES:
        sub.secrecy_view = view_of_tree(sub.root)
    else:
        sub.secrecy_view = await asyncio.to_thread(view_of_tree, sub.root)
    return sub.secrecy_view


class _Scan:
    def __init__(self) -> None:
        self.best: SecrecyFinding | None = None

    @property
    def complete(self) -> bool:
        """Nothing found later can change the answer."""
        return self.best is not None and RANK[self.best.level] == _TOP

    def declarations(self, declared: str | None, view: SecrecyView) -> list[BadInput]:
        """Offers every declared level (each value of the header, given once or several times,
        and every SecrecyLevel or Secret element): contradictory ones make the document secret.
        Returns the errors of malformed declarations."""
        errors: list[BadInput] = []
        # several Edoc-Secrecy headers reach here joined by commas, as HTTP combines them
        for value in [None] if declared is None else declared.split(","):
            try:
                self.offer(parse_declared_secrecy(value), HEADER_FIELD, HEADER_RULE)
            except BadInput as exc:
                errors.append(exc)
        for field, value in view.declarations:
            try:
                self.offer(parse_secrecy_level(value, field), field, SECRECY_LEVEL_RULE)
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


def pdf_attachments(document: Document | SecrecyView) -> list[tuple[int, str]]:
    """The (number, base64 content) of the attachments the guard reads as PDFs."""
    view = view_of_document(document) if isinstance(document, Document) else document
    return [(i, a.content_b64) for i, a in enumerate(view.attachments, 1) if _sniff_pdf(a)]


def _texts(
    view: SecrecyView,
    on_pdf_problem: PdfProblemHook | None,
    pdf_texts: Mapping[int, PdfText] | None,
) -> Iterator[tuple[str, str | None]]:
    """(field, text) in the fixed order: the text fields, the first lines of the text-like
    attachments, then the PDFs' first pages."""
    yield from view.texts
    for i, attachment in enumerate(view.attachments, start=1):
        kind = text_kind(attachment.attachment_name, attachment.content_type)
        if kind is not None and not _sniff_pdf(attachment):
            yield f"Attachment[{i}] ({kind}, first lines)", _first_lines_b64(kind, attachment)
    for i, attachment in enumerate(view.attachments, start=1):
        if _sniff_pdf(attachment):
            field = f"Attachment[{i}] (PDF, page 1)"
            if pdf_texts is None:
                pdf = _first_page_text_b64(attachment.content_b64)
            else:
                pdf = pdf_texts.get(i, PdfText("", "not read"))
            if pdf.problem is not None and on_pdf_problem is not None:
                on_pdf_problem(field, pdf.problem)
            yield field, pdf.text


def _first_lines_b64(kind: str, attachment: AttachmentView) -> str:
    content = attachment.content_b64 if is_zipped(kind) else attachment.content_b64[:HEAD_B64_CHARS]
    try:
        return first_lines(kind, base64.b64decode(content))
    except (binascii.Error, ValueError):
        return ""


def _sniff_pdf(attachment: AttachmentView) -> bool:
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
