"""The edXML parser fuzzed (hypothesis): arbitrary bytes and mutated valid messages, read by
`parse_message` and sent to POST /v1/documents. Whatever the input, the parser answers a
message or one of the gateway's refusals, never another exception, and the API never a 500."""

from __future__ import annotations

import contextlib
import re

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.edxml import XmlLimits, parse_message
from gateway.errors import GatewayError
from tests.e2e.process import GatewayProcess
from tests.factories import document_bytes, status_bytes
from tests.fuzz.conftest import FUZZ, REQUEST_TIMEOUT_S
from tests.harness import CITY, FINANCE, HOME_AFFAIRS, bearer

SEEDS = (
    document_bytes(sender=FINANCE.id, recipients=(HOME_AFFAIRS.id, CITY.id)),
    document_bytes(sender=FINANCE.id, recipients=(HOME_AFFAIRS.id,), priority=3),
    status_bytes(sender=HOME_AFFAIRS.id),
)
# What hostile or clumsy input is made of: markup, entities, declarations, encodings, bytes
# that are not UTF-8, deep nesting, long fields.
SPLICES = (
    b"<",
    b">",
    b"&",
    b"&amp;",
    b"&#0;",
    b"&#x110000;",
    b"&unknown;",
    b"]]>",
    b"<![CDATA[",
    b"<!-- ",
    b"<?pi x?>",
    b'<!DOCTYPE edXML [<!ENTITY a "aaaaaaaaaa">]>',
    b'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="/etc/passwd"/>',
    b"\x00",
    b"\xff\xfe",
    b"\xc3\x28",
    b"\xed\xa0\x80",
    "Sở Tài chính".encode(),
    b"<a>" * 80,
    b"</edXML>",
    b' xmlns="urn:other"',
    b"x" * 5000,
    b"-99999999999999999999",
    b"9999-12-31T23:59:59",
)
ENCODINGS = ("UTF-7", "UTF-16", "ISO-8859-1", "windows-1258", "cp037", "bogus", "UTF-32")
# the parser alone costs about a millisecond an example: it can take many more
PARSER_FUZZ = settings(FUZZ, max_examples=FUZZ.max_examples * 10)
HTTP_FUZZ = settings(FUZZ, max_examples=FUZZ.max_examples * 3)
TIGHT = XmlLimits(max_bytes=64 * 1024, max_depth=8, max_elements=400)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A valid message with a few bytes flipped, cut, repeated or spliced in."""
    raw = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(raw)))
        action = draw(st.sampled_from(("flip", "cut", "repeat", "splice", "truncate")))
        if action == "flip" and at < len(raw):
            raw[at] = draw(st.integers(0, 255))
        elif action == "cut":
            del raw[at : at + draw(st.integers(1, 200))]
        elif action == "repeat":
            raw[at:at] = raw[at : at + draw(st.integers(1, 400))] * draw(st.integers(2, 20))
        elif action == "splice":
            raw[at:at] = draw(st.sampled_from(SPLICES))
        else:
            del raw[at:]
    return bytes(raw)


@st.composite
def declared_encoding(draw: st.DrawFn) -> bytes:
    """A valid message whose XML declaration names another encoding, maybe re-encoded in it."""
    raw = draw(st.sampled_from(SEEDS))
    encoding = draw(st.sampled_from(ENCODINGS))
    text = re.sub(rb'encoding="[^"]+"', f'encoding="{encoding}"'.encode(), raw, count=1)
    if draw(st.booleans()):
        with contextlib.suppress(LookupError, UnicodeError):  # not every text fits every one
            text = text.decode().encode(encoding)
    return text


INPUTS = st.one_of(st.binary(max_size=4096), mutated(), declared_encoding())


def parses_or_refuses(raw: bytes, limits: XmlLimits) -> None:
    try:
        parse_message(raw, limits)
    except GatewayError as refusal:
        assert 400 <= refusal.status < 500, refusal.problem()
        assert refusal.detail


@PARSER_FUZZ
@given(raw=INPUTS)
def test_the_parser_reads_or_refuses_any_bytes(raw: bytes) -> None:
    parses_or_refuses(raw, XmlLimits())
    parses_or_refuses(raw, TIGHT)


@pytest.mark.parametrize("content_type", ["application/xml", "application/octet-stream"])
def test_the_api_answers_any_submitted_bytes_without_a_server_error(
    live: GatewayProcess, content_type: str
) -> None:
    session = requests.Session()
    headers = {**bearer(FINANCE.token), "Content-Type": content_type}

    @HTTP_FUZZ
    @given(raw=INPUTS)
    def submit(raw: bytes) -> None:
        response = session.post(
            live.url + "/v1/documents", data=raw, headers=headers, timeout=REQUEST_TIMEOUT_S
        )
        assert response.status_code < 500, (response.status_code, response.text[:300], raw[:300])
        assert response.headers["Content-Type"].startswith(
            "application/json" if response.status_code < 300 else "application/problem+json"
        )

    submit()
    assert session.get(live.ops_url + "/healthz", timeout=REQUEST_TIMEOUT_S).status_code == 200


def test_a_body_that_claims_to_be_compressed_gets_no_server_error(live: GatewayProcess) -> None:
    session = requests.Session()
    headers = {**bearer(FINANCE.token), "Content-Type": "application/xml"}

    @FUZZ
    @given(raw=st.binary(max_size=512), encoding=st.sampled_from(("gzip", "deflate", "br")))
    def submit(raw: bytes, encoding: str) -> None:
        response = session.post(
            live.url + "/v1/documents",
            data=raw,
            headers={**headers, "Content-Encoding": encoding},
            timeout=REQUEST_TIMEOUT_S,
        )
        assert response.status_code < 500, (encoding, raw[:100], response.text[:300])
        assert response.headers["Content-Type"].startswith("application/problem+json")

    submit()
