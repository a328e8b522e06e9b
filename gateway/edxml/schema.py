"""The edXML XSD (schemas/edxml.xsd): found, loaded once, and applied."""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Any, cast

from lxml import etree

from gateway.errors import SchemaInvalid

from .fields import element_path
from .model import EDXML_NS

_NAMESPACE_IN_MESSAGE = re.compile(r"\{" + re.escape(EDXML_NS) + r"\}")
_MAX_REPORTED = 3


def schema_source() -> bytes:
    """The XSD: `gateway/_schemas/` in an installed wheel, else `schemas/` of the checkout."""
    packaged = resources.files("gateway") / "_schemas" / "edxml.xsd"
    if packaged.is_file():
        return packaged.read_bytes()
    return (Path(__file__).resolve().parents[2] / "schemas" / "edxml.xsd").read_bytes()


_per_thread = threading.local()


@functools.cache
def _schema_document() -> bytes:
    return schema_source()


def edxml_schema() -> etree.XMLSchema:
    """The compiled XSD, built on first use in each thread: its error log is per object."""
    schema: etree.XMLSchema | None = getattr(_per_thread, "schema", None)
    if schema is None:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        schema = etree.XMLSchema(etree.fromstring(_schema_document(), parser))
        _per_thread.schema = schema
    return schema


def validate_tree(root: etree._Element) -> None:
    """Raise SchemaInvalid naming the first violations, their element path and line."""
    schema = edxml_schema()
    if schema.validate(root):
        return
    errors: list[Any] = list(cast("Iterable[Any]", schema.error_log))
    if not errors:  # pragma: no cover - libxml2 always logs why
        raise SchemaInvalid("the message does not follow the edXML schema")
    first = errors[0]
    path = _readable_path(root, first.path or "")
    detail = f"{path} (line {first.line}): {_readable(first.message)}"
    for more in errors[1:_MAX_REPORTED]:
        detail += f"; line {more.line}: {_readable(more.message)}"
    if len(errors) > _MAX_REPORTED:
        detail += f" (and {len(errors) - _MAX_REPORTED} more)"
    raise SchemaInvalid(detail, path=path, line=first.line)


def _readable(message: str) -> str:
    return _NAMESPACE_IN_MESSAGE.sub("", message)


def _readable_path(root: etree._Element, path: str) -> str:
    # libxml2 names the element with the document's prefixes, or as /*/*[2]/* where it has
    # none (default namespace): resolve it in the tree, then name it by local names
    prefixes = {p: uri for el in root.iter() for p, uri in el.nsmap.items() if p}
    try:
        found = root.xpath(path, namespaces=prefixes)
    except etree.XPathError:
        found = None
    if isinstance(found, list) and len(found) == 1 and isinstance(found[0], etree._Element):
        return element_path(found[0])
    return path
