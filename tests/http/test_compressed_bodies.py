"""A compressed request body is refused with 415 before anything reads or inflates it."""

from __future__ import annotations

import gzip
import zlib

import pytest

from tests.api.test_refusals import assert_problem
from tests.conftest import Net
from tests.factories import document_bytes
from tests.harness import AUDITOR_TOKEN, CITY, FINANCE, bearer

DETAIL = (
    "Content-Encoding: send the body uncompressed (identity); compressed request bodies are not "
    "accepted"
)


@pytest.mark.parametrize(
    ("encoding", "body"),
    [
        ("gzip", gzip.compress(b"\0" * 1_000_000)),
        ("gzip", b"this is not gzip at all"),
        ("deflate", zlib.compress(b"<x/>")),
        ("br", b"\x8b\x03\x80"),
        ("identity, gzip", gzip.compress(b"<x/>")),
    ],
)
async def test_compressed_bodies_are_refused_before_authentication(
    net: Net, encoding: str, body: bytes
) -> None:
    for path in ("/v1/documents", "/v1/no-such-path", "/vdxp/sendEdoc"):
        response = await net.client.post(
            path,
            data=body,
            headers={"Content-Type": "application/xml", "Content-Encoding": encoding},
        )
        problem = await response.json(content_type=None)
        assert response.content_type == "application/problem+json"
        assert_problem(response.status, problem, 415, "unsupported_media_type")
        assert problem["detail"] == DETAIL


async def test_the_ops_listener_refuses_them_too(net: Net) -> None:
    response = await net.ops.post(
        "/v1/audit/events",
        data=gzip.compress(b"{}"),
        headers={**bearer(AUDITOR_TOKEN), "Content-Encoding": "gzip"},
    )
    assert_problem(response.status, await response.json(), 415, "unsupported_media_type")


async def test_an_identity_body_is_accepted(net: Net) -> None:
    raw = document_bytes(sender=FINANCE.id, recipients=(CITY.id,))
    status, _ = await net[FINANCE.id].submit(raw, **{"Content-Encoding": "identity"})
    assert status == 202
