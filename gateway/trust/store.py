"""The trust material, built once from the configuration: anchors, intermediates, CRLs, pins.

A `TrustStore` is immutable; a reload builds a new one and swaps it in (see `reload`).
Chain validation uses `cryptography.x509.verification`. A verifier fixes its validation time
when it is built, and building one costs about 2 µs against 140-210 µs for a chain
verification (`bench/verify.py bare`): so a verifier is built per check, at the check's
time, and what is cached is the verified chain (valid again at any time inside its
certificates' validity).
"""

from __future__ import annotations

import functools
import itertools
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.x509.verification import (
    ExtensionPolicy,
    PolicyBuilder,
    Store,
    VerificationError,
)

from gateway.config import Settings
from gateway.errors import (
    CertificateExpired,
    CertificateRevoked,
    SignerMismatch,
    UntrustedCertificate,
)
from gateway.log import get_logger
from gateway.trust import certs
from gateway.trust.certs import TrustMaterialError, describe, moment, subject
from gateway.trust.policy import DEFAULT_POLICY, VerificationPolicy

log = get_logger(__name__)
CHAIN_CACHE_SIZE = 1024


@dataclass(frozen=True)
class Chain:
    """A certificate path from a signer to an anchor, as the verifier built it."""

    certificates: tuple[x509.Certificate, ...]  # leaf first, anchor last

    @property
    def leaf(self) -> x509.Certificate:
        return self.certificates[0]

    def valid_at(self, at: datetime) -> bool:
        return all(c.not_valid_before_utc <= at <= c.not_valid_after_utc for c in self.certificates)

    @functools.cached_property
    def description(self) -> dict[str, Any]:
        """The signer as a signature record names it (computed once per cached chain)."""
        leaf = self.leaf
        uids = certs.user_ids(leaf)
        return {
            "signer": certs.subject(leaf),
            "issuer": certs.issuer(leaf),
            "organ_id": uids[0] if len(uids) == 1 else None,
            "serial": certs.serial_hex(leaf),
            "not_before": moment(leaf.not_valid_before_utc),
            "not_after": moment(leaf.not_valid_after_utc),
            "certificate_sha256": certs.fingerprint(leaf),
            "chain": tuple(subject(c) for c in self.certificates[1:]),
        }


@dataclass(frozen=True)
class RevocationList:
    crl: x509.CertificateRevocationList
    issuer: x509.Certificate
    path: Path


@dataclass
class _ChainCache:
    """Verified chains by (leaf, presented certificates); dropped with the store on reload."""

    entries: dict[tuple[bytes, ...], Chain] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, key: tuple[bytes, ...]) -> Chain | None:
        return self.entries.get(key)

    def put(self, key: tuple[bytes, ...], chain: Chain) -> None:
        with self.lock:
            if len(self.entries) >= CHAIN_CACHE_SIZE:
                self.entries.pop(next(iter(self.entries)))
            self.entries[key] = chain


class TrustStore:
    """What the gateway trusts: checks a signer's chain, revocation and binding to a sender."""

    def __init__(
        self,
        *,
        anchors: Sequence[x509.Certificate],
        intermediates: Sequence[x509.Certificate] = (),
        crls: Sequence[RevocationList] = (),
        signing_pins: Mapping[str, Iterable[x509.Certificate]] | None = None,
        client_pins: Mapping[str, Iterable[x509.Certificate]] | None = None,
        policy: VerificationPolicy = DEFAULT_POLICY,
    ) -> None:
        self.policy = policy
        self.anchors = tuple(anchors)
        self.intermediates = tuple(intermediates)
        self.crls = tuple(crls)
        self._store = Store(list(self.anchors)) if self.anchors else None
        self._crls_by_issuer: dict[str, list[RevocationList]] = {}
        for item in self.crls:
            self._crls_by_issuer.setdefault(certs.key_id(item.issuer), []).append(item)
        self.pinned = tuple(  # (agency, "signing" | "client", certificate): for their expiry
            (agency, use, cert)
            for use, pins in (("signing", signing_pins), ("client", client_pins))
            for agency, pinned in (pins or {}).items()
            for cert in pinned
        )
        self._signing_pins = {
            agency: frozenset(map(certs.fingerprint, pinned))
            for agency, pinned in (signing_pins or {}).items()
        }
        self._client_pins = {
            certs.fingerprint(cert): agency
            for agency, pinned in (client_pins or {}).items()
            for cert in pinned
        }
        self._signer_policy = policy.signer_extensions()
        self._client_policy = policy.client_extensions()
        self._ca_policy = policy.ca_extensions()
        self._signer_chains = _ChainCache()
        self._client_chains = _ChainCache()

    @classmethod
    def load(cls, settings: Settings, policy: VerificationPolicy = DEFAULT_POLICY) -> TrustStore:
        """Read every file the configuration names; TrustMaterialError names the bad one."""
        trust = settings.trust
        anchors = _load_all("trust.anchors", trust.anchors)
        intermediates = _load_all("trust.intermediates", trust.intermediates)
        crls = [
            _verified_crl(f"trust.crls[{i}]", path, [*anchors, *intermediates])
            for i, path in enumerate(trust.crls)
        ]
        signing_pins = {
            a.id: _load_all(f"agencies[{i}].signing_certs", a.signing_certs)
            for i, a in enumerate(settings.agencies)
            if a.signing_certs
        }
        client_pins = {
            a.id: _load_all(f"agencies[{i}].client_certs", a.client_certs)
            for i, a in enumerate(settings.agencies)
            if a.client_certs
        }
        store = cls(
            anchors=anchors,
            intermediates=intermediates,
            crls=crls,
            signing_pins=signing_pins,
            client_pins=client_pins,
            policy=policy,
        )
        store.warn_about_stale_crls()
        return store

    def summary(self) -> dict[str, object]:
        """What an operator sees after a reload: counts, and each CRL's window."""
        return {
            "anchors": [subject(c) for c in self.anchors],
            "intermediates": [subject(c) for c in self.intermediates],
            "crls": [
                {
                    "issuer": subject(item.issuer),
                    "this_update": moment(item.crl.last_update_utc),
                    "next_update": None
                    if item.crl.next_update_utc is None
                    else moment(item.crl.next_update_utc),
                    "revoked": len(item.crl),
                }
                for item in self.crls
            ],
            "pinned_signing_certs": sum(len(p) for p in self._signing_pins.values()),
            "pinned_client_certs": len(self._client_pins),
        }

    def warn_about_stale_crls(self, at: datetime | None = None) -> None:
        for item in self.crls:
            problem = _crl_window_problem(item, at or datetime.now().astimezone())
            if problem:
                log.warning("crl_out_of_date", detail=problem)

    # -- signers ------------------------------------------------------------------------------

    def check_signer(
        self, leaf: x509.Certificate, presented: Sequence[x509.Certificate], at: datetime
    ) -> Chain:
        """The chain of a message's signing certificate, valid at `at` and not revoked."""
        _check_validity(leaf, at, "the signing certificate")
        chain = self._chain(leaf, presented, at, self._signer_policy, self._signer_chains)
        self._check_revocation(chain, at)
        return chain

    def bind_signer(self, leaf: x509.Certificate, agency_id: str) -> None:
        """SignerMismatch unless `leaf` belongs to the agency: pinned, else subject UID."""
        pinned = self._signing_pins.get(agency_id)
        if pinned:
            if certs.fingerprint(leaf) not in pinned:
                raise SignerMismatch(
                    f"the message is signed with {describe(leaf)}, which is not among the "
                    f"certificates pinned for {agency_id} (agencies.signing_certs)"
                )
            return
        uids = certs.user_ids(leaf)
        if uids != [agency_id]:
            found = ", ".join(repr(u) for u in uids) if uids else "no UID"
            raise SignerMismatch(
                f"the message from {agency_id} is signed with {describe(leaf)}, whose subject "
                f"has {found}: the signer's subject UID (0.9.2342.19200300.100.1.1) must be the "
                "sender's organ id, or the certificate must be pinned in signing_certs"
            )

    # -- TLS clients --------------------------------------------------------------------------

    def client_agency(self, leaf: x509.Certificate, at: datetime) -> str | None:
        """The agency a TLS client certificate is pinned for, if it is also trusted now."""
        agency = self._client_pins.get(certs.fingerprint(leaf))
        if agency is None:
            return None
        _check_validity(leaf, at, "the client certificate")
        chain = self._chain(leaf, (), at, self._client_policy, self._client_chains)
        self._check_revocation(chain, at)
        return agency

    # -- the steps ------------------------------------------------------------------------------

    def _chain(
        self,
        leaf: x509.Certificate,
        presented: Sequence[x509.Certificate],
        at: datetime,
        ee_policy: ExtensionPolicy,
        cache: _ChainCache,
    ) -> Chain:
        key = tuple(c.tbs_certificate_bytes for c in (leaf, *presented))
        cached = cache.get(key)
        if cached is not None and cached.valid_at(at):
            return cached
        if self._store is None:
            raise UntrustedCertificate(
                f"{describe(leaf)} cannot be trusted: this gateway has no trust anchors "
                "configured (trust.anchors)"
            )
        verifier = (
            PolicyBuilder()
            .store(self._store)
            .time(at)
            .max_chain_depth(self.policy.max_chain_depth)
            .extension_policies(ca_policy=self._ca_policy, ee_policy=ee_policy)
            .build_client_verifier()
        )
        try:
            verified = verifier.verify(leaf, [*presented, *self.intermediates])
        except VerificationError as exc:
            raise _untrusted(leaf, presented, at, str(exc)) from None
        chain = Chain(tuple(verified.chain))
        cache.put(key, chain)
        return chain

    def _check_revocation(self, chain: Chain, at: datetime) -> None:
        path = chain.certificates
        for cert, issuer in itertools.pairwise(path):
            lists = self._crls_by_issuer.get(certs.key_id(issuer), [])
            if not lists:
                if self.policy.require_crl:
                    raise UntrustedCertificate(
                        f"revocation of {describe(cert)} cannot be checked: no CRL of its "
                        f"issuer {subject(issuer)} is configured (trust.crls)"
                    )
                continue
            latest = max(lists, key=lambda item: item.crl.last_update_utc)
            problem = _crl_window_problem(latest, at)
            if problem:
                raise UntrustedCertificate(
                    f"revocation of {describe(cert)} cannot be checked: {problem}"
                )
            entry = latest.crl.get_revoked_certificate_by_serial_number(cert.serial_number)
            if entry is not None:
                raise CertificateRevoked(
                    f"{describe(cert)} was revoked on {moment(entry.revocation_date_utc)}"
                    f"{_reason(entry)} (CRL of {subject(issuer)} issued "
                    f"{moment(latest.crl.last_update_utc)})"
                )


def _check_validity(cert: x509.Certificate, at: datetime, what: str) -> None:
    if at < cert.not_valid_before_utc:
        raise CertificateExpired(
            f"{what} {describe(cert)} is not yet valid: its validity starts "
            f"{moment(cert.not_valid_before_utc)} and the gateway's time is {moment(at)}"
        )
    if at > cert.not_valid_after_utc:
        raise CertificateExpired(
            f"{what} {describe(cert)} expired {moment(cert.not_valid_after_utc)}; "
            f"the gateway's time is {moment(at)}"
        )


def _untrusted(
    leaf: x509.Certificate, presented: Sequence[x509.Certificate], at: datetime, reason: str
) -> UntrustedCertificate | CertificateExpired:
    reason = reason.split(" (encountered processing", 1)[0]
    if "not valid at validation time" in reason:
        for cert in presented:  # an expired intermediate: say which one
            if not cert.not_valid_before_utc <= at <= cert.not_valid_after_utc:
                return CertificateExpired(
                    f"the chain of {describe(leaf)} holds {describe(cert)}, which is not valid "
                    f"at the gateway's time {moment(at)}"
                )
    if certs.is_self_issued(leaf):
        return UntrustedCertificate(
            f"{describe(leaf)} is self-signed and is not a configured trust anchor"
        )
    return UntrustedCertificate(
        f"{describe(leaf)} does not chain to a configured trust anchor ({reason})"
    )


def _reason(entry: x509.RevokedCertificate) -> str:
    try:
        reason = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
    except x509.ExtensionNotFound:
        return ""
    return f" (reason: {reason.name})"


def _crl_window_problem(item: RevocationList, at: datetime) -> str | None:
    crl = item.crl
    if at < crl.last_update_utc:
        return (
            f"the CRL {item.path} of {subject(item.issuer)} is not yet valid "
            f"(issued {moment(crl.last_update_utc)})"
        )
    if crl.next_update_utc is not None and at > crl.next_update_utc:
        return (
            f"the CRL {item.path} of {subject(item.issuer)} is out of date "
            f"(next update was due {moment(crl.next_update_utc)}): install a fresh CRL "
            "and reload"
        )
    return None


def _load_all(key: str, paths: Sequence[Path]) -> list[x509.Certificate]:
    found: list[x509.Certificate] = []
    for index, path in enumerate(paths):
        try:
            found += certs.load_certificates(path)
        except TrustMaterialError as exc:
            raise TrustMaterialError(f"{key}[{index}]: {exc}") from None
    return found


def _verified_crl(key: str, path: Path, issuers: Sequence[x509.Certificate]) -> RevocationList:
    try:
        crl = certs.load_crl(path)
    except TrustMaterialError as exc:
        raise TrustMaterialError(f"{key}: {exc}") from None
    for issuer in issuers:
        if issuer.subject != crl.issuer:
            continue
        public_key = issuer.public_key()
        if crl.is_signature_valid(public_key):  # type: ignore[arg-type]
            return RevocationList(crl, issuer, path)
    raise TrustMaterialError(
        f"{key}: {path} is issued by {crl.issuer.rfc4514_string()}, but no configured anchor "
        "or intermediate of that name verifies its signature"
    )
