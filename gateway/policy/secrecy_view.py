"""What the secrecy guard reads of a message: from the parsed tree, before the schema check.

The guard runs on well-formed XML before the XSD and the model (DESIGN §3, docs/secrecy.md): a
secret document that also breaks the schema (a legacy `<Secret>` element, SDK attributes) must
still be refused as secret and counted, never sent back to "fix its structure". So the view is
read from the tree by local names, in any namespace, tolerating what the schema would refuse:
every SecrecyLevel or Secret element wherever it stands, every Subject, each field's whole
string value (across comments, processing instructions and CDATA).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

from lxml import etree

from gateway.edxml import Document
from gateway.edxml.fields import string_value

Element = etree._Element

# where secrecy is declared, in any namespace: SecrecyLevel, and Secret in legacy systems
DECLARATION_NAMES: Final = ("SecrecyLevel", "Secret")
_DECLARATIONS: Final = etree.XPath(
    "//*[local-name()='SecrecyLevel' or local-name()='Secret']", smart_strings=False
)
_HEADERS: Final = etree.XPath(
    "/*/*[local-name()='edXMLEnvelope']/*[local-name()='edXMLHeader']"
    "/*[local-name()='MessageHeader']",
    smart_strings=False,
)
_ATTACHMENTS: Final = etree.XPath(
    "/*/*[local-name()='AttachmentEncoded']/*[local-name()='Attachment']", smart_strings=False
)
_REFERENCES: Final = etree.XPath(
    "/*/*[local-name()='edXMLEnvelope']/*[local-name()='edXMLBody']"
    "/*[local-name()='edXMLManifest']/*[local-name()='Reference']",
    smart_strings=False,
)


@dataclass(frozen=True, slots=True)
class AttachmentView:
    attachment_name: str | None
    content_type: str | None
    content_b64: str


@dataclass(frozen=True, slots=True)
class SecrecyView:
    """The fields the guard reads, in its fixed order; nothing here is ever logged."""

    is_status: bool = False
    sender: str | None = None
    document_id: str | None = None
    recipients: tuple[str, ...] = ()
    declarations: tuple[tuple[str, str], ...] = ()  # (field, value) of SecrecyLevel / Secret
    texts: tuple[tuple[str, str | None], ...] = ()  # (field, text)
    attachments: tuple[AttachmentView, ...] = ()


def view_of_document(document: Document) -> SecrecyView:
    """The view of a modelled document (what the model kept: one SecrecyLevel)."""
    texts: list[tuple[str, str | None]] = [
        ("Subject", document.subject),
        ("Content", document.content),
    ]
    if document.document_type is not None:
        texts.append(("DocumentType/TypeName", document.document_type.type_name))
    declarations: tuple[tuple[str, str], ...] = ()
    if document.other_info is not None:
        texts += [(f"Appendix[{i}]", a) for i, a in enumerate(document.other_info.appendixes, 1)]
        if document.other_info.secrecy_level is not None:
            declarations = (("OtherInfo/SecrecyLevel", document.other_info.secrecy_level),)
    for i, attachment in enumerate(document.attachments, start=1):
        texts.append((f"Attachment[{i}]/AttachmentName", attachment.attachment_name))
        texts.append((f"Attachment[{i}]/Description", attachment.description))
    return SecrecyView(
        sender=document.sender.organ_id,
        document_id=document.document_id,
        recipients=tuple(org.organ_id for org in document.recipients),
        declarations=declarations,
        texts=tuple(texts),
        attachments=tuple(
            AttachmentView(a.attachment_name, a.content_type, a.content_b64)
            for a in document.attachments
        ),
    )


def view_of_tree(root: Element) -> SecrecyView:
    """The view of a well-formed message, whatever the schema says of it."""
    headers = _elements(_HEADERS(root))
    sender = document_id = None
    recipients: list[str] = []
    texts: list[tuple[str, str | None]] = []
    is_status = False
    for header in headers:
        for name, child in _children(header):
            if name == "From":
                sender = sender or _child_text(child, "OrganId")
            elif name == "To":
                recipients += filter(None, [_child_text(child, "OrganId")])
            elif name == "DocumentId":
                document_id = document_id or _text(child)
            elif name == "StatusCode":
                is_status = True
        texts += _header_texts(header)
    attachments = []
    for i, el in enumerate(_elements(_ATTACHMENTS(root)), start=1):
        fields = dict(_children(el))
        texts.append((f"Attachment[{i}]/AttachmentName", _text(fields.get("AttachmentName"))))
        texts.append((f"Attachment[{i}]/Description", _text(fields.get("Description"))))
        content = fields.get("ContentTransferEncoded")
        attachments.append(
            AttachmentView(
                _text(fields.get("AttachmentName")),
                _text(fields.get("ContentType")),
                "" if content is None else "".join(string_value(content).split()),
            )
        )
    for i, el in enumerate(_elements(_REFERENCES(root)), start=1):
        fields = dict(_children(el))
        texts.append((f"Reference[{i}]/Description", _text(fields.get("Description"))))
        texts.append((f"Reference[{i}]/AttachmentName", _text(fields.get("AttachmentName"))))
    return SecrecyView(
        is_status=is_status,
        sender=sender,
        document_id=document_id,
        recipients=tuple(recipients),
        declarations=tuple(_declarations(root)),
        texts=tuple(texts),
        attachments=tuple(attachments),
    )


def _header_texts(header: Element) -> Iterator[tuple[str, str | None]]:
    """Subject, Content, DocumentType/TypeName, then the appendixes: every one given."""
    found: dict[str, list[str | None]] = {"Subject": [], "Content": [], "TypeName": []}
    appendixes: list[str | None] = []
    for name, child in _children(header):
        if name in ("Subject", "Content"):
            found[name].append(_text(child))
        elif name == "DocumentType":
            found["TypeName"].append(_child_text(child, "TypeName"))
        elif name == "OtherInfo":
            for sub_name, sub in _children(child):
                if sub_name == "Appendixes":
                    appendixes += [_text(a) for n, a in _children(sub) if n == "Appendix"]
    for name, values in found.items():
        label = "DocumentType/TypeName" if name == "TypeName" else name
        for i, value in enumerate(values, start=1):
            yield (label if i == 1 else f"{label}[{i}]"), value
    for i, value in enumerate(appendixes, start=1):
        yield f"Appendix[{i}]", value


def _declarations(root: Element) -> Iterator[tuple[str, str]]:
    for el in _elements(_DECLARATIONS(root)):
        value = _text(el)
        if value is None:
            continue
        parent = el.getparent()
        where = "" if parent is None else _local(parent) + "/"
        yield where + _local(el), value


def _elements(found: object) -> list[Element]:
    if not isinstance(found, list):
        return []
    return [el for el in found if isinstance(el, etree._Element)]


def _local(el: Element) -> str:
    tag = el.tag
    return tag.rpartition("}")[2] if isinstance(tag, str) else "#node"


def _children(el: Element) -> Iterator[tuple[str, Element]]:
    for child in el:
        if isinstance(child.tag, str):
            yield _local(child), child


def _child_text(el: Element, name: str) -> str | None:
    for child_name, child in _children(el):
        if child_name == name:
            return _text(child)
    return None


def _text(el: Element | None) -> str | None:
    if el is None:
        return None
    return string_value(el).strip() or None
