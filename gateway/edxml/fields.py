"""Reading the fields of one edXML element, refusing precisely (element path and line).

`record(el)` reads a record of text fields (From, Code...) in one pass; `Fields(el)` indexes
the children of a container (MessageHeader...). Blank text means absent. Known edXML
children are keyed by local name, any other child by `{namespace}name` (so a foreign element
never passes for an edXML field). The converters take the parent and the field's name only
to point at the right line when they refuse.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import NoReturn, TypeVar

from lxml import etree

from gateway.errors import SchemaInvalid

from .dates import parse_date, parse_timestamp
from .model import EDXML_NS

_PREFIX = "{" + EDXML_NS + "}"
_PREFIX_LEN = len(_PREFIX)
_TRUE = frozenset({"1", "true"})
_FALSE = frozenset({"0", "false"})

T = TypeVar("T")
Element = etree._Element


def local_name(el: Element) -> str:
    """The element's name without the edXML namespace (others keep theirs)."""
    tag = el.tag
    if not isinstance(tag, str):
        return "#node"
    return tag[_PREFIX_LEN:] if tag.startswith(_PREFIX) else tag


def element_path(el: Element) -> str:
    """`/edXML/edXMLEnvelope/...` down to `el`."""
    names: list[str] = []
    node: Element | None = el
    while node is not None:
        names.append(local_name(node))
        node = node.getparent()
    return "/" + "/".join(reversed(names))


def invalid(el: Element, problem: str) -> SchemaInvalid:
    """The refusal of `el` itself: `<path>: <problem> (line N)`."""
    path = element_path(el)
    return SchemaInvalid(f"{path}: {problem} (line {el.sourceline})", path=path, line=el.sourceline)


def missing(parent: Element, name: str) -> SchemaInvalid:
    """The refusal of a required child `name` that `parent` lacks."""
    path = f"{element_path(parent)}/{name}"
    line = parent.sourceline
    detail = f"{path}: required element is missing (in {local_name(parent)} at line {line})"
    return SchemaInvalid(detail, path=path, line=line)


# every element name of edXML: their tags map to local names in one dict lookup
_NAMES = """
    edXML edXMLEnvelope edXMLHeader MessageHeader From To OrganId OrganName OrganizationInCharge
    OrganAdd Email Telephone Fax Website DocumentId Code CodeNumber CodeNotation PromulgationInfo
    Place PromulgationDate DocumentType Type TypeDetail TypeName Subject Content SignerInfo
    Competence Position FullName DueDate OtherInfo Priority SphereOfPromulgation TyperNotation
    PromulgationAmount PageAmount Direction Appendixes Appendix SecrecyLevel ResponseFor
    SteeringType ToPlaces StaffInfo Department Staff Mobile StatusCode Description Timestamp
    TraceHeaderList TraceHeader Bussiness BussinessDocType BussinessDocReason Paper
    BussinessDocumentInfo DocumentInfo DocumentReceiver ReceiverList Receiver ReceiverType
    ReplacementInfoList ReplacementInfo OrganIdList Signature edXMLBody edXMLManifest Reference
    ContentId ContentType AttachmentName AttachmentEncoded Attachment ContentTransferEncoded
"""
_LOCAL = {_PREFIX + name: name for name in _NAMES.split()}


def string_value(el: Element) -> str:
    """The element's whole text (XPath string value): all its text nodes, CDATA included,
    across comments and processing instructions. `.text` alone stops at the first comment,
    which would hide `<Subject>V/v ...<!-- --> - MẬT</Subject>` from whoever reads it."""
    if len(el) == 0:  # no child node at all: the common case, without a join
        return el.text or ""
    return "".join(str(text) for text in el.itertext())


def record(el: Element) -> dict[str, str]:
    """The stripped, non-blank texts of the children of a record (Code, From...) by name.

    One comprehension over the children: the model is built for every message. Refuses a
    child given twice.
    """
    texts = {
        _LOCAL.get(child.tag, child.tag): value
        for child in el
        if isinstance(child.tag, str) and (value := string_value(child).strip())
    }
    if len(texts) != len(el):  # blank children, comments, or a repeated one
        _refuse_repeated(el)
    return texts


def _refuse_repeated(el: Element) -> None:
    seen: set[str] = set()
    for child in el:
        tag = child.tag
        if isinstance(tag, str):
            if tag in seen:
                name = local_name(child)
                raise invalid(child, f"{name} appears more than once; at most once")
            seen.add(tag)


def absent(parent: Element, name: str) -> NoReturn:
    """Refuse the required field `name` of `parent`: missing, or blank."""
    for child in parent:
        if child.tag == _PREFIX + name:
            raise invalid(child, "must not be empty")
    raise missing(parent, name)


def limited(parent: Element, name: str, value: str | None, max_chars: int) -> str | None:
    """`value`, refused when longer than `max_chars` characters."""
    if value is not None and len(value) > max_chars:
        raise invalid(
            child_element(parent, name), f"{len(value)} characters; at most {max_chars} are allowed"
        )
    return value


def convert(parent: Element, name: str, value: str | None, to: Callable[[str], T]) -> T | None:
    """`to(value)`, None for None; a ValueError becomes a refusal of the field."""
    if value is None:
        return None
    try:
        return to(value)
    except ValueError as exc:
        raise invalid(child_element(parent, name), str(exc)) from None


def integer(parent: Element, name: str, value: str | None, low: int, high: int) -> int | None:
    """A whole number between `low` and `high`."""
    # the common case without a call: one ASCII digit in range
    if value is not None and len(value) == 1 and "0" <= value <= "9":
        number = ord(value) - 48
        if low <= number <= high:
            return number
    return convert(parent, name, value, lambda t: _integer(t, low, high))


def flag(parent: Element, name: str, value: str | None) -> bool | None:
    """`1`/`true` or `0`/`false`."""
    return convert(parent, name, value, _flag)


def day(parent: Element, name: str, value: str | None) -> date | None:
    """A date in one of the forms senders use."""
    return convert(parent, name, value, parse_date)


def moment(parent: Element, name: str, value: str | None) -> datetime | None:
    """A date and time; the text `null` is None."""
    if value is not None and value.lower() == "null":
        return None
    return convert(parent, name, value, parse_timestamp)


def child_element(parent: Element, name: str) -> Element:
    """The first child `name` of `parent` (`parent` itself if none): where to point."""
    for child in parent:
        if child.tag == _PREFIX + name:
            return child
    return parent


class Fields:
    """The element children of a container (MessageHeader, OtherInfo...), by name."""

    __slots__ = ("_kids", "_repeated", "el")

    def __init__(self, el: Element) -> None:
        self.el = el
        self._kids = kids = {_LOCAL.get(tag := child.tag, tag): child for child in el}
        self._repeated: dict[str, list[Element]] = {}
        if len(kids) != len(el):  # a repeated child (To, Reference...), or comments
            groups: dict[str, list[Element]] = {}
            for child in el:
                if isinstance(tag := child.tag, str):
                    groups.setdefault(_LOCAL.get(tag, tag), []).append(child)
            self._repeated = {name: found for name, found in groups.items() if len(found) > 1}

    def names(self) -> list[str]:
        """The element children present: edXML ones by local name, others `{ns}name`."""
        return [name for name in self._kids if isinstance(name, str)]

    def has(self, name: str) -> bool:
        """Whether a child `name` is present."""
        return name in self._kids

    def only(self, allowed: frozenset[str], what: str) -> None:
        """Refuse an edXML child not in `allowed` (foreign-namespace children are ignored)."""
        for name, child in self._kids.items():
            if name in allowed or not isinstance(name, str):
                continue
            if not name.startswith("{") or name.startswith(_PREFIX):
                raise invalid(child, f"{local_name(child)} does not belong in {what}")

    def all(self, name: str) -> list[Element]:
        """Every child `name`, in document order."""
        found = self._repeated.get(name)
        if found is not None:
            return found
        child = self._kids.get(name)
        return [] if child is None else [child]

    def one(self, name: str) -> Element | None:
        """The child `name`, refused when given twice."""
        child = self._kids.get(name)
        if child is not None and name in self._repeated:
            found = self._repeated[name]
            raise invalid(found[1], f"{name} appears {len(found)} times; at most once")
        return child

    def must(self, name: str) -> Element:
        """The child `name`, refused when absent or given twice."""
        child = self.one(name)
        if child is None:
            raise missing(self.el, name)
        return child

    def sub(self, name: str) -> Fields | None:
        """The fields of the container child `name`."""
        child = self.one(name)
        return None if child is None else Fields(child)

    def text(self, name: str) -> str | None:
        """The stripped text of the child `name`; None when absent or blank."""
        child = self.one(name)
        if child is None:
            return None
        return string_value(child).strip() or None

    def item_texts(self, container: str, item: str) -> tuple[str, ...]:
        """The non-blank texts of `container/item`, in order."""
        holder = self.one(container)
        if holder is None:
            return ()
        tag = _PREFIX + item
        return tuple(
            value for el in holder if el.tag == tag and (value := string_value(el).strip())
        )


def _integer(text: str, low: int, high: int) -> int:
    # str.isdigit() alone would accept non-ASCII digits, int() would accept "1_0" and "+1"
    if not (text.isascii() and text.isdigit()):
        raise ValueError(f"{text!r} is not a whole number")
    value = int(text)
    if not low <= value <= high:
        raise ValueError(f"{value} is out of range ({low}-{high})")
    return value


def _flag(text: str) -> bool:
    lowered = text.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"{text!r} is not a flag (0/1 or true/false)")
