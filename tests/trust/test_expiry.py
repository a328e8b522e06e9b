"""An operator sees when the trust material runs out (issue 14, item 7): `GET /v1/ops/trust`
and the gauge `edocgw_trust_not_after_seconds`, for anchors, intermediates, pinned
certificates and CRLs, refreshed by a reload."""

from __future__ import annotations

import shutil
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from prometheus_client import REGISTRY

from gateway.config import TrustSettings
from gateway.trust import certs
from gateway.trust.certs import moment, subject
from gateway.trust.pki import crl_pem, revocation_list
from tests.conftest import Net
from tests.harness import AUDITOR_TOKEN, FINANCE, OPERATOR_TOKEN, bearer
from tests.trust.keys import EPOCH, KeyRing

NetFactory = Callable[..., Awaitable[Net]]


async def trust_net(net_factory: NetFactory, ring: KeyRing, tmp_path: Path) -> tuple[Net, Path]:
    """Finance's signing certificate pinned; the issuing CA's CRL a copy the test may rewrite."""
    folder = tmp_path / "trust"
    folder.mkdir()
    crls = tuple(Path(shutil.copy(p, folder / p.name)) for p in ring.crls)
    trust = TrustSettings(
        anchors=(ring.root_pem,), intermediates=(ring.intermediate_pem,), crls=crls
    )
    pinned = ring.write("finance-pin", ring.signers[FINANCE.id])
    changes = {FINANCE.id: {"signing_certs": (pinned,)}}
    return await net_factory(ring.settings(tmp_path / "d", trust=trust, changes=changes)), crls[1]


async def listed(net: Net) -> list[dict[str, Any]]:
    response = await net.ops.get("/v1/ops/trust", headers=bearer(OPERATOR_TOKEN))
    assert response.status == 200
    rows: list[dict[str, Any]] = await response.json()
    return rows


def gauge(kind: str, subject_: str, agency: str, sha256: str) -> float | None:
    labels = {"kind": kind, "subject": subject_, "agency": agency, "sha256": sha256}
    return REGISTRY.get_sample_value("edocgw_trust_not_after_seconds", labels)


async def test_every_certificate_and_crl_shows_when_it_runs_out(
    net_factory: NetFactory, ring: KeyRing, tmp_path: Path
) -> None:
    net, _ = await trust_net(net_factory, ring, tmp_path)
    rows = await listed(net)

    by_kind = {(r["kind"], r["subject"]): r for r in rows}
    root, issuing = ring.root.certificate, ring.intermediate.certificate
    finance = ring.signers[FINANCE.id].certificate
    assert by_kind[("anchor", subject(root))]["not_after"] == moment(root.not_valid_after_utc)
    assert by_kind[("intermediate", subject(issuing))]["sha256"] == certs.fingerprint(issuing)
    pin = by_kind[("signing_pin", subject(finance))]
    assert (pin["agency"], pin["not_after"]) == (FINANCE.id, moment(finance.not_valid_after_utc))
    assert sorted(r["kind"] for r in rows) == [
        "anchor",
        "crl",
        "crl",
        "intermediate",
        "signing_pin",
    ]
    dates = [r["not_after"] for r in rows]
    assert dates == sorted(dates)  # soonest first: the CRLs, due in 30 days
    assert [r["kind"] for r in rows[:2]] == ["crl", "crl"]
    assert gauge("signing_pin", subject(finance), FINANCE.id, pin["sha256"]) == (
        finance.not_valid_after_utc.timestamp()
    )
    assert gauge("anchor", subject(root), "", certs.fingerprint(root)) == (
        root.not_valid_after_utc.timestamp()
    )


async def test_a_reload_replaces_the_crl_dates_in_the_view_and_the_gauge(
    net_factory: NetFactory, ring: KeyRing, tmp_path: Path
) -> None:
    net, crl = await trust_net(net_factory, ring, tmp_path)
    [old] = [r for r in await listed(net) if r["kind"] == "crl" and "issuing" in r["subject"]]

    fresh = revocation_list(ring.intermediate, days=10, this_update=EPOCH)
    crl.write_bytes(crl_pem(fresh))
    response = await net.ops.post("/v1/ops/trust/reload", headers=bearer(OPERATOR_TOKEN))
    assert response.status == 200

    [new] = [r for r in await listed(net) if r["kind"] == "crl" and "issuing" in r["subject"]]
    due = EPOCH + timedelta(days=10)
    assert new["not_after"] == moment(due)
    assert gauge("crl", new["subject"], "", new["sha256"]) == int(due.timestamp())
    assert gauge("crl", old["subject"], "", old["sha256"]) is None  # the old CRL's series is gone


async def test_the_trust_view_is_for_operators(
    net_factory: NetFactory, ring: KeyRing, tmp_path: Path
) -> None:
    net, _ = await trust_net(net_factory, ring, tmp_path)
    response = await net.ops.get("/v1/ops/trust", headers=bearer(AUDITOR_TOKEN))
    assert response.status == 403
    assert (await net.ops.get("/v1/ops/trust")).status == 401
