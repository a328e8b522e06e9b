"""Signed messages travel: accepted, delivered byte for byte, and their trace says who signed."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from gateway.edxml import to_xml
from gateway.trust import certs
from gateway.trust.certs import USER_ID
from gateway.trust.pki import Issued, signing_certificate
from tests.api.test_exchange import wait_inbox
from tests.conftest import Net
from tests.factories import document, document_bytes, status_bytes
from tests.harness import BA_DINH, CITY, FINANCE, HOME_AFFAIRS
from tests.trust.keys import SAMPLE_SENDERS, KeyRing

NetFactory = Callable[..., Awaitable[Net]]


async def test_a_signed_document_is_delivered_as_signed_and_its_trace_names_the_signer(
    signed_net: Net, ring: KeyRing
) -> None:
    raw = ring.sign(document_bytes(sender=FINANCE.id, recipients=(HOME_AFFAIRS.id,)), FINANCE.id)
    answer, body = await signed_net[FINANCE.id].submit(raw)
    assert answer == 202, body

    [item] = await wait_inbox(signed_net, HOME_AFFAIRS.id, 1)
    assert await signed_net[HOME_AFFAIRS.id].fetch(item["delivery_id"]) == (200, raw)
    answer, trace = await signed_net[FINANCE.id].trace(body["id"])
    assert answer == 200
    cert = ring.signers[FINANCE.id].certificate
    record = trace["signature"]
    assert "pdf" not in record  # PDF signatures are read only where an agency asks for it
    assert record == {
        "status": "verified",
        "signer": certs.subject(cert),
        "issuer": certs.subject(ring.intermediate.certificate),
        "organ_id": FINANCE.id,
        "serial": certs.serial_hex(cert),
        "not_before": certs.moment(cert.not_valid_before_utc),
        "not_after": certs.moment(cert.not_valid_after_utc),
        "algorithm": "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
        "digest": "http://www.w3.org/2001/04/xmlenc#sha256",
        "certificate_sha256": certs.fingerprint(cert),
        "chain": [
            certs.subject(ring.intermediate.certificate),
            certs.subject(ring.root.certificate),
        ],
    }


async def test_an_ecdsa_signature_is_accepted(signed_net: Net, ring: KeyRing) -> None:
    raw = ring.sign(document_bytes(sender=CITY.id, recipients=(BA_DINH.id,)), ring.ec_signer)
    answer, body = await signed_net[CITY.id].submit(raw)
    assert answer == 202, body
    _, trace = await signed_net[CITY.id].trace(body["id"])
    assert trace["signature"]["algorithm"].endswith("#ecdsa-sha256")


async def test_the_chain_may_come_from_the_configuration_alone(
    signed_net: Net, ring: KeyRing
) -> None:
    raw = ring.sign(document_bytes(sender=FINANCE.id, recipients=(CITY.id,)), FINANCE.id, chain=())
    assert (await signed_net[FINANCE.id].submit(raw))[0] == 202


async def test_a_signed_status_reaches_the_sender(signed_net: Net, ring: KeyRing) -> None:
    original = document(sender=FINANCE.id, recipients=(HOME_AFFAIRS.id,))
    assert (await signed_net[FINANCE.id].submit(ring.sign(to_xml(original), FINANCE.id)))[0] == 202
    raw = ring.sign(status_bytes(original=original, status_code="03"), HOME_AFFAIRS.id)
    answer, body = await signed_net[HOME_AFFAIRS.id].send_status(raw)
    assert (answer, body["to"]) == (202, FINANCE.id)
    [item] = await wait_inbox(signed_net, FINANCE.id, 1, kind="status")
    assert await signed_net[FINANCE.id].fetch(item["delivery_id"]) == (200, raw)


async def test_unsigned_is_accepted_where_optional_and_the_trace_says_so(
    net_factory: NetFactory, ring: KeyRing, tmp_path: Path
) -> None:
    settings = ring.settings(tmp_path / "d", changes={FINANCE.id: {"signature": "optional"}})
    net = await net_factory(settings)
    raw = document_bytes(sender=FINANCE.id, recipients=(HOME_AFFAIRS.id,))
    answer, body = await net[FINANCE.id].submit(raw)
    assert answer == 202, body
    _, trace = await net[FINANCE.id].trace(body["id"])
    assert trace["signature"]["status"] == "unsigned"
    assert trace["signature"]["policy"] == "optional"
    # the others still must sign
    answer, body = await net[CITY.id].submit(document_bytes(sender=CITY.id))
    assert (answer, body["code"]) == (422, "signature_missing")


async def test_a_bad_signature_is_refused_even_where_signing_is_optional(
    net_factory: NetFactory, ring: KeyRing, tmp_path: Path
) -> None:
    net = await net_factory(ring.settings(tmp_path / "d", signature="optional"))
    raw = ring.sign(
        document_bytes(sender=FINANCE.id, recipients=(CITY.id,)), ring.self_signed, chain=()
    )
    answer, body = await net[FINANCE.id].submit(raw)
    assert (answer, body["code"]) == (422, "untrusted_certificate")


async def test_a_pinned_certificate_binds_whatever_its_uid(
    net_factory: NetFactory, ring: KeyRing, tmp_path: Path
) -> None:
    other = ring.signers[SAMPLE_SENDERS[0].id]  # valid, UID of another organ id
    pinned = ring.write("pinned-for-finance", other)
    net = await net_factory(
        ring.settings(tmp_path / "d", changes={FINANCE.id: {"signing_certs": (pinned,)}})
    )
    raw = ring.sign(document_bytes(sender=FINANCE.id, recipients=(CITY.id,)), other)
    assert (await net[FINANCE.id].submit(raw))[0] == 202

    # with a pin, the agency's own UID certificate is no longer enough
    answer, body = await net[FINANCE.id].submit(
        ring.sign(document_bytes(sender=FINANCE.id, recipients=(CITY.id,)), FINANCE.id)
    )
    assert (answer, body["code"]) == (422, "signer_mismatch")
    assert "not among the certificates pinned for 000.00.13.H26" in body["detail"]


async def test_a_certificate_with_two_uids_does_not_bind(signed_net: Net, ring: KeyRing) -> None:
    issued = signing_certificate(ring.intermediate, FINANCE.id, "Sở Tài chính")
    # re-issue the same key with a second UID
    name = x509.Name([*issued.certificate.subject, x509.NameAttribute(USER_ID, CITY.id)])
    twice = (
        x509.CertificateBuilder(extensions=list(issued.certificate.extensions))
        .subject_name(name)
        .issuer_name(issued.certificate.issuer)
        .public_key(issued.key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(issued.certificate.not_valid_before_utc)
        .not_valid_after(issued.certificate.not_valid_after_utc)
        .sign(ring.intermediate.key, hashes.SHA256())
    )
    raw = ring.sign(
        document_bytes(sender=FINANCE.id, recipients=(CITY.id,)), Issued(twice, issued.key)
    )
    answer, body = await signed_net[FINANCE.id].submit(raw)
    assert (answer, body["code"]) == (422, "signer_mismatch")
    assert f"'{FINANCE.id}', '{CITY.id}'" in body["detail"]


@pytest.mark.parametrize("attachment_size", [1_000, 300_000], ids=["small-lane", "large-lane"])
async def test_messages_are_verified_in_worker_processes(
    net_factory: Callable[..., Awaitable[Net]], ring: KeyRing, tmp_path: Path, attachment_size: int
) -> None:
    settings = ring.settings(tmp_path / "data")
    with_process = dataclasses.replace(
        settings, server=dataclasses.replace(settings.server, worker_processes=1)
    )
    signed_net = await net_factory(with_process)
    raw = document_bytes(
        sender=FINANCE.id, recipients=(HOME_AFFAIRS.id,), attachment_size=attachment_size
    )
    signed = ring.sign(raw, FINANCE.id)
    answer, body = await signed_net[FINANCE.id].submit(signed)
    assert answer == 202, body
    _, trace = await signed_net[FINANCE.id].trace(body["id"])
    assert (trace["signature"]["status"], trace["signature"]["organ_id"]) == (
        "verified",
        FINANCE.id,
    )

    changed = signed.replace(b"<edXML:OrganId>000.00.16.H26<", b"<edXML:OrganId>H26.01<", 1)
    answer, body = await signed_net[FINANCE.id].submit(changed)
    assert (answer, body["code"]) == (422, "signature_invalid")
    assert "changed after" in body["detail"]
    assert await signed_net[BA_DINH.id].inbox_all() == []
