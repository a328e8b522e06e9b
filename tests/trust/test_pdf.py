"""PDF attachments: their embedded signatures (made here with pyHanko) are reported in the
trace, or required, per agency (`pdf_signatures`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from gateway.trust import certs
from gateway.trust.pdf import sign_pdf, simple_pdf
from tests.conftest import Net
from tests.factories import attachment, document_bytes
from tests.harness import FINANCE, HOME_AFFAIRS
from tests.trust.keys import KeyRing

NetFactory = Callable[..., Awaitable[Net]]


@pytest.fixture(scope="module")
def pdfs(ring: KeyRing) -> dict[str, bytes]:
    plain = simple_pdf("Quyet dinh so 125/QD-STC")
    finance = ring.signers[FINANCE.id]
    signed = sign_pdf(plain, finance.key, finance.certificate, [ring.intermediate.certificate])
    foreign = sign_pdf(plain, ring.foreign.key, ring.foreign.certificate)
    return {
        "plain": plain,
        "signed": signed,
        "tampered": signed.replace(b"125/QD-STC", b"999/QD-STC"),
        "foreign": foreign,
    }


async def gateway(net_factory: NetFactory, ring: KeyRing, tmp_path: Path, policy: str) -> Net:
    settings = ring.settings(tmp_path / "d", changes={FINANCE.id: {"pdf_signatures": policy}})
    return await net_factory(settings)


async def submit(net: Net, ring: KeyRing, pdf: bytes) -> tuple[int, dict[str, Any]]:
    raw = document_bytes(
        sender=FINANCE.id, recipients=(HOME_AFFAIRS.id,), attachments=[attachment("qd.pdf", pdf)]
    )
    return await net[FINANCE.id].submit(ring.sign(raw, FINANCE.id))


async def test_report_records_signer_signing_time_and_validity_in_the_trace(
    net_factory: NetFactory, ring: KeyRing, tmp_path: Path, pdfs: dict[str, bytes]
) -> None:
    net = await gateway(net_factory, ring, tmp_path, "report")
    answer, body = await submit(net, ring, pdfs["signed"])
    assert answer == 202, body
    _, trace = await net[FINANCE.id].trace(body["id"])
    [report] = trace["signature"]["pdf"]
    [signature] = report.pop("signatures")
    assert report == {"attachment": "qd.pdf", "content_id": report["content_id"], "status": "valid"}
    cert = ring.signers[FINANCE.id].certificate
    assert signature == {
        "field": "Signature1",
        "signer": certs.subject(cert),
        "serial": certs.serial_hex(cert),
        "signing_time": signature["signing_time"],
        "intact": True,
        "valid": True,
        "trusted": True,
        "coverage": "ENTIRE_FILE",
        "revoked_at": None,
        "status": "valid",
    }
    assert signature["signing_time"].endswith("Z")


async def test_report_never_refuses(
    net_factory: NetFactory, ring: KeyRing, tmp_path: Path, pdfs: dict[str, bytes]
) -> None:
    net = await gateway(net_factory, ring, tmp_path, "report")
    for name, status in (("plain", "unsigned"), ("tampered", "invalid"), ("foreign", "invalid")):
        answer, body = await submit(net, ring, pdfs[name])
        assert answer == 202, body
        _, trace = await net[FINANCE.id].trace(body["id"])
        assert trace["signature"]["pdf"][0]["status"] == status


async def test_ignore_reads_no_pdf(
    net_factory: NetFactory, ring: KeyRing, tmp_path: Path, pdfs: dict[str, bytes]
) -> None:
    net = await gateway(net_factory, ring, tmp_path, "ignore")
    answer, body = await submit(net, ring, pdfs["tampered"])
    assert answer == 202
    _, trace = await net[FINANCE.id].trace(body["id"])
    assert "pdf" not in trace["signature"]


@pytest.mark.parametrize(
    ("name", "code", "fragment"),
    [
        ("plain", "signature_missing", "is a PDF without a signature"),
        ("tampered", "signature_invalid", "does not verify"),
        ("foreign", "untrusted_certificate", "(forged),C=VN does not chain"),
    ],
)
async def test_required_refuses_what_is_not_a_valid_trusted_signature(
    net_factory: NetFactory,
    ring: KeyRing,
    tmp_path: Path,
    pdfs: dict[str, bytes],
    name: str,
    code: str,
    fragment: str,
) -> None:
    net = await gateway(net_factory, ring, tmp_path, "required")
    answer, body = await submit(net, ring, pdfs[name])
    assert (answer, body["code"]) == (422, code), body
    assert "'qd.pdf'" in body["detail"] and fragment in body["detail"]
    assert await net[HOME_AFFAIRS.id].inbox_all() == []
    assert (await submit(net, ring, pdfs["signed"]))[0] == 202
