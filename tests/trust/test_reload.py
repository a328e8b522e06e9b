"""Trust material is reloaded without a restart: by an operator's call or by SIGHUP."""

from __future__ import annotations

import os
import shutil
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path

from gateway.config import TrustSettings, load_settings
from gateway.trust.material import TrustMaterial, reload_on_sighup
from gateway.trust.pki import crl_pem, revocation_list
from tests.conftest import Net
from tests.factories import document_bytes
from tests.harness import AUDITOR_TOKEN, CITY, FINANCE, OPERATOR_TOKEN, bearer
from tests.trust.keys import KeyRing
from tests.waiting import eventually

NetFactory = Callable[..., Awaitable[Net]]


async def copied_net(net_factory: NetFactory, ring: KeyRing, tmp_path: Path) -> tuple[Net, Path]:
    """A gateway whose CRL files are copies the test may rewrite; returns the issuing CA's."""
    folder = tmp_path / "trust"
    folder.mkdir()
    crls = tuple(Path(shutil.copy(p, folder / p.name)) for p in ring.crls)
    trust = TrustSettings(
        anchors=(ring.root_pem,), intermediates=(ring.intermediate_pem,), crls=crls
    )
    return await net_factory(ring.settings(tmp_path / "d", trust=trust)), crls[1]


def signed(ring: KeyRing) -> bytes:
    return ring.sign(document_bytes(sender=FINANCE.id, recipients=(CITY.id,)), FINANCE.id)


async def test_an_operator_reloads_and_a_new_revocation_applies_at_once(
    net_factory: NetFactory, ring: KeyRing, tmp_path: Path
) -> None:
    net, crl = await copied_net(net_factory, ring, tmp_path)
    assert (await net[FINANCE.id].submit(signed(ring)))[0] == 202

    revoked = [ring.revoked.certificate, ring.signers[FINANCE.id].certificate]
    crl.write_bytes(crl_pem(revocation_list(ring.intermediate, revoked)))
    response = await net.ops.post("/v1/ops/trust/reload", headers=bearer(OPERATOR_TOKEN))
    body = await response.json()
    assert response.status == 200, body
    assert body["status"] == "reloaded"
    assert [c["revoked"] for c in body["crls"]] == [0, 2]
    assert body["anchors"] == ["CN=Test root CA,O=edoc-gateway development PKI,C=VN"]

    answer, refused = await net[FINANCE.id].submit(signed(ring))
    assert (answer, refused["code"]) == (422, "certificate_revoked")


async def test_reloading_is_for_operators(
    net_factory: NetFactory, ring: KeyRing, tmp_path: Path
) -> None:
    net, _ = await copied_net(net_factory, ring, tmp_path)
    response = await net.ops.post("/v1/ops/trust/reload", headers=bearer(AUDITOR_TOKEN))
    assert (response.status, (await response.json())["code"]) == (403, "forbidden")
    response = await net.ops.post("/v1/ops/trust/reload")
    assert response.status == 401


async def test_a_failed_reload_keeps_the_previous_material(
    net_factory: NetFactory, ring: KeyRing, tmp_path: Path
) -> None:
    net, crl = await copied_net(net_factory, ring, tmp_path)
    crl.write_text("not a CRL")
    response = await net.ops.post("/v1/ops/trust/reload", headers=bearer(OPERATOR_TOKEN))
    body = await response.json()
    assert (response.status, body["code"]) == (422, "trust_reload_failed")
    assert "trust.crls[1]" in body["detail"]
    assert "previous trust material stays in force" in body["detail"]
    assert (await net[FINANCE.id].submit(signed(ring)))[0] == 202


async def test_sighup_reloads(net_factory: NetFactory, ring: KeyRing, tmp_path: Path) -> None:
    net, _ = await copied_net(net_factory, ring, tmp_path)
    trust = net.gateway.trust
    before = trust.store
    remove = reload_on_sighup(trust)
    try:
        os.kill(os.getpid(), signal.SIGHUP)

        async def current() -> object:
            return trust.store

        await eventually(current, lambda store: store is not before)
    finally:
        remove()


def test_a_reload_reads_the_configuration_file_again(ring: KeyRing, tmp_path: Path) -> None:
    config = tmp_path / "gateway.toml"
    lines = ["[trust]", f'anchors = ["{ring.root_pem}"]']
    config.write_text("\n".join(lines) + "\n")
    material = TrustMaterial(load_settings(config), config_path=config)
    foreign = ring.write("foreign-root", ring.foreign_root)
    config.write_text("\n".join([*lines[:1], f'anchors = ["{ring.root_pem}", "{foreign}"]']) + "\n")
    summary = material.reload()
    assert len(summary["anchors"]) == 2
    assert len(material.store.anchors) == 2
