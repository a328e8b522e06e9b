"""edXML as real producers write it, and as an attacker would arrange it: edits of the
factories' bytes (written here, never copied from the shared samples). Used by the parser's,
the secrecy guard's and the HTTP tests (issue 12)."""

from __future__ import annotations

import re
from typing import Any

from tests.factories import document_bytes

XLINK = "http://www.w3.org/1999/xlink"


def edit(raw: bytes, old: str, new: str) -> bytes:
    """`raw` with the one occurrence of `old` replaced by `new`."""
    before = old.encode()
    assert raw.count(before) == 1, f"{old!r} occurs {raw.count(before)} times"
    return raw.replace(before, new.encode())


def with_element(raw: bytes, name: str, inner: str) -> bytes:
    """`raw` with the content of the one `edXML:name` element replaced by the markup `inner`."""
    pattern = re.compile(rf"(<edXML:{name}>).*?(</edXML:{name}>)".encode(), re.DOTALL)
    replaced, count = pattern.subn(lambda m: m[1] + inner.encode() + m[2], raw, count=1)
    assert count == 1, name
    return replaced


def in_other_info(raw: bytes, markup: str) -> bytes:
    """`raw` with `markup` added at the end of OtherInfo."""
    return edit(raw, "</edXML:OtherInfo>", f"{markup}</edXML:OtherInfo>")


def sdk_style(raw: bytes) -> bytes:
    """What the VNPT library, C# exports and an LGSP builder that copied the .NET SDK sample
    add: TraceHeaderList attributes, xlink attributes on each Reference, an empty
    DigitalSignature in edXMLHeader."""
    raw = edit(
        raw,
        "<edXML:TraceHeaderList>",
        '<edXML:TraceHeaderList id="TraceHeaderList" version="1.0" mustUnderstand="1" '
        'actor="http://www.mic.gov.vn/TBT/QCVN_102_2016/actor/next">',
    )
    raw = edit(raw, "</edXML:TraceHeaderList>", "</edXML:TraceHeaderList><edXML:DigitalSignature/>")
    return raw.replace(
        b"<edXML:Reference>",
        f'<edXML:Reference xmlns:xlink="{XLINK}" xlink:href="cid:1" xlink:role="attachment" '
        'xlink:type="simple">'.encode(),
    )


def iso_dates(raw: bytes, promulgation: str, due: str | None = None) -> bytes:
    """PromulgationDate (and a DueDate) written as .NET DateTime or toISOString() would."""
    raw = re.sub(
        rb"<edXML:PromulgationDate>[^<]*</edXML:PromulgationDate>",
        f"<edXML:PromulgationDate>{promulgation}</edXML:PromulgationDate>".encode(),
        raw,
        count=1,
    )
    if due is not None:
        raw = edit(
            raw, "<edXML:SignerInfo>", f"<edXML:DueDate>{due}</edXML:DueDate><edXML:SignerInfo>"
        )
    return raw


def ordinary(**kw: Any) -> bytes:
    return document_bytes(**kw)
