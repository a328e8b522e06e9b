"""edXML (QCVN 102:2016): the message model, a hardened parser and the writer.

`parse_message(raw)` reads bytes into a `Document` or a `StatusMessage`; `to_xml(message)`
writes one back in the layout of the official SDK's samples.
"""

from .build import to_xml
from .model import (
    EDXML_NS,
    Attachment,
    Business,
    BusinessDocType,
    Code,
    Document,
    DocumentType,
    ManifestReference,
    Message,
    Organization,
    OtherInfo,
    Priority,
    PromulgationInfo,
    Receiver,
    ReplacementInfo,
    ResponseFor,
    SignerInfo,
    StaffInfo,
    StatusCode,
    StatusMessage,
    TraceHeader,
)
from .parse import XmlLimits, message_from_tree, parse_message, read_xml, validate

__all__ = [
    "EDXML_NS",
    "Attachment",
    "Business",
    "BusinessDocType",
    "Code",
    "Document",
    "DocumentType",
    "ManifestReference",
    "Message",
    "Organization",
    "OtherInfo",
    "Priority",
    "PromulgationInfo",
    "Receiver",
    "ReplacementInfo",
    "ResponseFor",
    "SignerInfo",
    "StaffInfo",
    "StatusCode",
    "StatusMessage",
    "TraceHeader",
    "XmlLimits",
    "message_from_tree",
    "parse_message",
    "read_xml",
    "to_xml",
    "validate",
]
