"""One test per threat (DESIGN §5, issue 3), through the HTTP API: each is refused with its code
and a detail naming the rule, certificate or dates, and nothing reaches an inbox."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from signxml.algorithms import DigestAlgorithm, SignatureMethod

from gateway.edxml import EDXML_NS, parse_message
from gateway.trust import certs
from tests.conftest import Net
from tests.factories import document_bytes, status_bytes
from tests.harness import (
    AGENCIES,
    BA_DINH,
    CITY,
    FINANCE,
    GOV_OFFICE,
    HOME_AFFAIRS,
    AgencyCalls,
    Org,
)
from tests.samples import sample_bytes
from tests.trust import forge
from tests.trust.keys import SAMPLE_SENDERS, KeyRing

NetFactory = Callable[..., Awaitable[Net]]
SUBJECT = "V/v thử nghiệm trao đổi văn bản điện tử"


def genuine(ring: KeyRing, sender: Org = FINANCE, to: tuple[Org, ...] = (HOME_AFFAIRS,)) -> bytes:
    raw = document_bytes(sender=sender.id, recipients=tuple(o.id for o in to))
    return ring.sign(raw, sender.id)


def unsigned(sender: Org = FINANCE, to: tuple[Org, ...] = (HOME_AFFAIRS,), **kw: Any) -> bytes:
    return document_bytes(sender=sender.id, recipients=tuple(o.id for o in to), **kw)


async def assert_refused(
    net: Net,
    raw: bytes,
    status: int,
    code: str,
    *fragments: str,
    sender: Org = FINANCE,
    recipients: tuple[Org, ...] = (HOME_AFFAIRS,),
) -> dict[str, Any]:
    answer, body = await net[sender.id].submit(raw)
    assert (answer, body["code"]) == (status, code), body
    assert body["type"] == f"urn:edocgw:error:{code}"
    for fragment in fragments:
        assert fragment in body["detail"], (fragment, body["detail"])
    for recipient in recipients:
        assert await net[recipient.id].inbox_all() == []
    return body


# --- no signature, or no XML-DSig ----------------------------------------------------------------


async def test_unsigned_message_is_signature_missing(signed_net: Net) -> None:
    await assert_refused(
        signed_net, unsigned(), 422, "signature_missing", FINANCE.id, "'required'", "ds:Signature"
    )


async def test_unsigned_status_is_signature_missing(signed_net: Net, ring: KeyRing) -> None:
    assert (await signed_net[FINANCE.id].submit(genuine(ring)))[0] == 202
    raw = status_bytes(sender=HOME_AFFAIRS.id, response_for_sender=FINANCE.id, document_id="x")
    answer, body = await signed_net[HOME_AFFAIRS.id].send_status(raw)
    assert (answer, body["code"]) == (422, "signature_missing")
    assert HOME_AFFAIRS.id in body["detail"]


@pytest.mark.parametrize(
    "name",
    [
        "bkav_edoc_new.edxml",
        "bkav_edoc_update.edxml",
        "field_2019_test_production.edxml",
        "sdk_edoc_update.edxml",
        "sdk_edoc_revocation.edxml",
        "sdk_edoc_replacement.edxml",
    ],
)
@pytest.mark.parametrize("policy", ["required", "optional"])
async def test_placeholder_signatures_of_the_national_samples_are_signature_invalid(
    net_factory: NetFactory, ring: KeyRing, tmp_path: Path, samples: Path, name: str, policy: str
) -> None:
    agencies = (*AGENCIES, *SAMPLE_SENDERS)
    net = await net_factory(ring.settings(tmp_path / "d", signature=policy, agencies=agencies))
    raw = sample_bytes(name)
    organ_id = parse_message(raw).sender.organ_id
    sender = next(a for a in agencies if a.id == organ_id)
    answer, body = await AgencyCalls(net.client, sender).submit(raw)

    assert (answer, body["code"]) == (422, "signature_invalid"), body
    assert f"namespace {EDXML_NS}" in body["detail"]
    assert "placeholder" in body["detail"]
    assert "line" in body["detail"]


async def test_signature_in_the_edxml_namespace_is_signature_invalid(
    signed_net: Net, ring: KeyRing
) -> None:
    raw = forge.to_namespace(genuine(ring), EDXML_NS)
    await assert_refused(
        signed_net, raw, 422, "signature_invalid", f"namespace {EDXML_NS}", "not an XML-DSig"
    )


async def test_signature_in_a_foreign_namespace_is_refused_by_the_schema(
    signed_net: Net, ring: KeyRing
) -> None:
    raw = forge.to_namespace(genuine(ring), "http://www.w3.org/2000/09/xmldsig-more#")
    await assert_refused(signed_net, raw, 400, "schema_invalid", "Signature")


# --- algorithms and references --------------------------------------------------------------------


async def test_sha1_signature_is_signature_invalid(signed_net: Net, ring: KeyRing) -> None:
    issued = ring.signers[FINANCE.id]
    raw = forge.sign_with(
        unsigned(),
        issued,
        [ring.intermediate.certificate],
        method=SignatureMethod.RSA_SHA1,
        digest=DigestAlgorithm.SHA1,
    )
    await assert_refused(
        signed_net,
        raw,
        422,
        "signature_invalid",
        "rsa-sha1",
        "SHA-1 is refused",
        "ds:SignatureMethod",
    )


async def test_sha1_digest_is_signature_invalid(signed_net: Net, ring: KeyRing) -> None:
    issued = ring.signers[FINANCE.id]
    raw = forge.sign_with(
        unsigned(), issued, [ring.intermediate.certificate], digest=DigestAlgorithm.SHA1
    )
    await assert_refused(
        signed_net, raw, 422, "signature_invalid", "xmldsig#sha1", "ds:DigestMethod"
    )


async def test_two_references_are_signature_invalid(signed_net: Net, ring: KeyRing) -> None:
    root = forge.tree(genuine(ring))
    signed_info = forge.signature_of(root).find(f"{forge.DS}SignedInfo")
    assert signed_info is not None
    reference = signed_info.find(f"{forge.DS}Reference")
    assert reference is not None
    signed_info.append(forge.copy.deepcopy(reference))
    forge.resign(root, ring.signers[FINANCE.id].key)
    await assert_refused(
        signed_net, forge.to_bytes(root), 422, "signature_invalid", "holds 2 References", 'URI=""'
    )


async def test_reference_to_a_sub_element_only_is_signature_invalid(
    signed_net: Net, ring: KeyRing
) -> None:
    # signs an extension element only: header and attachments are left unsigned, and changed
    root = forge.with_part(unsigned())
    issued = ring.signers[FINANCE.id]
    raw = forge.sign_with(
        b"", issued, [ring.intermediate.certificate], reference_uri="#part", root=root
    )
    raw = forge.flip_base64_char(raw)
    await assert_refused(
        signed_net, raw, 422, "signature_invalid", "URI='#part'", "attachments included"
    )


# --- signature wrapping ------------------------------------------------------------------------


async def test_genuine_message_nested_in_a_forged_one_is_signature_invalid(
    signed_net: Net, ring: KeyRing
) -> None:
    forged = unsigned(to=(BA_DINH,), subject="V/v chuyển kinh phí (giả mạo)")
    raw = forge.nest(genuine(ring), forged)
    await assert_refused(
        signed_net,
        raw,
        422,
        "signature_invalid",
        "must be a child of /edXML/edXMLEnvelope/edXMLHeader",
        recipients=(HOME_AFFAIRS, BA_DINH),
    )


async def test_genuine_message_wrapped_in_the_moved_signature_is_signature_invalid(
    signed_net: Net, ring: KeyRing
) -> None:
    forged = unsigned(to=(BA_DINH,), subject="V/v chuyển kinh phí (giả mạo)")
    raw = forge.nest_in_object(genuine(ring), forged)
    await assert_refused(
        signed_net,
        raw,
        422,
        "signature_invalid",
        "2 ds:Signature elements",
        recipients=(HOME_AFFAIRS, BA_DINH),
    )


async def test_genuine_signature_moved_into_another_message_is_signature_invalid(
    signed_net: Net, ring: KeyRing
) -> None:
    forged = unsigned(to=(BA_DINH,), subject="V/v chuyển kinh phí (giả mạo)")
    raw = forge.move_signature(genuine(ring), forged)
    await assert_refused(
        signed_net,
        raw,
        422,
        "signature_invalid",
        "changed after",
        "digest",
        recipients=(HOME_AFFAIRS, BA_DINH),
    )


async def test_duplicate_ids_are_signature_invalid(signed_net: Net, ring: KeyRing) -> None:
    issued = ring.signers[FINANCE.id]
    raw = forge.sign_with(
        b"",
        issued,
        [ring.intermediate.certificate],
        reference_uri="#part",
        root=forge.with_part(unsigned()),
    )
    root = forge.tree(raw)  # a second element with the same Id, ahead of the signed one
    twin = root.find(f".//{{{forge.PART_NS}}}Part")
    assert twin is not None
    forged = forge.copy.deepcopy(twin)
    forged.text = "phần giả mạo"
    twin.addprevious(forged)
    await assert_refused(signed_net, forge.to_bytes(root), 422, "signature_invalid", "URI='#part'")


async def test_dtd_or_entity_in_a_signed_message_is_malformed_xml(
    signed_net: Net, ring: KeyRing
) -> None:
    await assert_refused(
        signed_net, forge.with_doctype(genuine(ring)), 400, "malformed_xml", "DOCTYPE"
    )
    with_entity = forge.change_text(genuine(ring), SUBJECT.encode(), b"&who;")
    await assert_refused(signed_net, with_entity, 400, "malformed_xml", "line")


# --- the certificate -----------------------------------------------------------------------------


async def test_untrusted_root_is_untrusted_certificate(signed_net: Net, ring: KeyRing) -> None:
    raw = ring.sign(unsigned(), ring.foreign, chain=(ring.foreign_root.certificate,))
    await assert_refused(
        signed_net,
        raw,
        422,
        "untrusted_certificate",
        certs.subject(ring.foreign.certificate),
        "does not chain to a configured trust anchor",
    )


async def test_self_signed_certificate_is_untrusted_certificate(
    signed_net: Net, ring: KeyRing
) -> None:
    raw = ring.sign(unsigned(), ring.self_signed, chain=())
    await assert_refused(
        signed_net,
        raw,
        422,
        "untrusted_certificate",
        certs.subject(ring.self_signed.certificate),
        "self-signed",
    )


async def test_expired_certificate_is_certificate_expired(signed_net: Net, ring: KeyRing) -> None:
    cert = ring.expired.certificate
    await assert_refused(
        signed_net,
        ring.sign(unsigned(), ring.expired),
        422,
        "certificate_expired",
        certs.subject(cert),
        f"expired {certs.moment(cert.not_valid_after_utc)}",
    )


async def test_not_yet_valid_certificate_is_certificate_expired(
    signed_net: Net, ring: KeyRing
) -> None:
    cert = ring.not_yet_valid.certificate
    await assert_refused(
        signed_net,
        ring.sign(unsigned(), ring.not_yet_valid),
        422,
        "certificate_expired",
        certs.subject(cert),
        f"not yet valid: its validity starts {certs.moment(cert.not_valid_before_utc)}",
    )


async def test_revoked_certificate_is_certificate_revoked(signed_net: Net, ring: KeyRing) -> None:
    cert = ring.revoked.certificate
    await assert_refused(
        signed_net,
        ring.sign(unsigned(), ring.revoked),
        422,
        "certificate_revoked",
        certs.subject(cert),
        f"serial {certs.serial_hex(cert)}",
        "revoked on",
        "key_compromise",
    )


async def test_signed_by_another_agency_is_signer_mismatch(signed_net: Net, ring: KeyRing) -> None:
    raw = ring.sign(unsigned(), CITY.id)
    await assert_refused(
        signed_net,
        raw,
        422,
        "signer_mismatch",
        f"from {FINANCE.id}",
        f"'{CITY.id}'",
        "0.9.2342.19200300.100.1.1",
    )


# --- changed after signing ---------------------------------------------------------------------


async def test_header_field_changed_after_signing_is_signature_invalid(
    signed_net: Net, ring: KeyRing
) -> None:
    raw = forge.change_text(genuine(ring), SUBJECT.encode(), "V/v chuyển kinh phí".encode())
    await assert_refused(signed_net, raw, 422, "signature_invalid", "changed after")


async def test_recipient_changed_after_signing_is_signature_invalid(
    signed_net: Net, ring: KeyRing
) -> None:
    raw = forge.change_text(
        genuine(ring),
        f"<edXML:OrganId>{HOME_AFFAIRS.id}<".encode(),
        f"<edXML:OrganId>{BA_DINH.id}<".encode(),
    )
    await assert_refused(
        signed_net,
        raw,
        422,
        "signature_invalid",
        "changed after",
        recipients=(HOME_AFFAIRS, BA_DINH),
    )


async def test_one_base64_character_of_an_attachment_changed_is_signature_invalid(
    signed_net: Net, ring: KeyRing
) -> None:
    raw = forge.flip_base64_char(genuine(ring))
    await assert_refused(signed_net, raw, 422, "signature_invalid", "changed after", "attachments")


# --- all of them against one gateway -------------------------------------------------------------


def every_threat(ring: KeyRing) -> list[tuple[str, bytes]]:
    finance = ring.signers[FINANCE.id]
    chain = [ring.intermediate.certificate]
    forged = unsigned(to=(BA_DINH,), subject="V/v chuyển kinh phí (giả mạo)")
    return [
        ("unsigned", unsigned()),
        ("wrong namespace", forge.to_namespace(genuine(ring), EDXML_NS)),
        ("sha1", forge.sign_with(unsigned(), finance, chain, method=SignatureMethod.RSA_SHA1)),
        (
            "sub-element",
            forge.sign_with(
                b"", finance, chain, reference_uri="#part", root=forge.with_part(unsigned())
            ),
        ),
        ("nested", forge.nest(genuine(ring), forged)),
        ("wrapped", forge.nest_in_object(genuine(ring), forged)),
        ("moved", forge.move_signature(genuine(ring), forged)),
        ("doctype", forge.with_doctype(genuine(ring))),
        ("untrusted", ring.sign(unsigned(), ring.foreign, chain=(ring.foreign_root.certificate,))),
        ("self-signed", ring.sign(unsigned(), ring.self_signed, chain=())),
        ("expired", ring.sign(unsigned(), ring.expired)),
        ("future", ring.sign(unsigned(), ring.not_yet_valid)),
        ("revoked", ring.sign(unsigned(), ring.revoked)),
        ("other agency", ring.sign(unsigned(), CITY.id)),
        ("header", forge.change_text(genuine(ring), SUBJECT.encode(), b"V/v khac")),
        ("attachment", forge.flip_base64_char(genuine(ring))),
    ]


async def test_after_every_threat_only_genuine_documents_are_in_any_inbox(
    signed_net: Net, ring: KeyRing
) -> None:
    genuine_ids = []
    for name, raw in every_threat(ring):
        answer, body = await signed_net[FINANCE.id].submit(raw)
        assert answer in (400, 422), (name, body)
        real = genuine(ring, FINANCE, (HOME_AFFAIRS, BA_DINH))
        answer, body = await signed_net[FINANCE.id].submit(real)
        assert answer == 202, (name, body)
        genuine_ids.append(body["document_id"])

    for org in (HOME_AFFAIRS, BA_DINH):
        items = await signed_net[org.id].inbox_all()
        assert sorted(i["document_id"] for i in items) == sorted(genuine_ids)
    for org in (CITY, FINANCE, GOV_OFFICE):
        assert await signed_net[org.id].inbox_all() == []
    response = await signed_net.ops.get("/readyz")
    assert response.status == 200
