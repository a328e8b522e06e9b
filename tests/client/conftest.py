"""A gateway in the test process and, for signing, the test PKI written as PEM files."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import Net
from tests.trust.keys import KeyRing, build_key_ring


@dataclass(frozen=True)
class SigningFiles:
    key: Path
    cert: Path
    chain: Path


@pytest.fixture(scope="session")
def ring(tmp_path_factory: pytest.TempPathFactory) -> KeyRing:
    return build_key_ring(tmp_path_factory.mktemp("pki"))


def signing_files(ring: KeyRing, organ_id: str, folder: Path) -> SigningFiles:
    """What a department keeps: its private key and certificate, and its CA's certificate."""
    issued = ring.signers[organ_id]
    files = SigningFiles(folder / "key.pem", folder / "cert.pem", ring.intermediate_pem)
    files.key.write_bytes(issued.key_pem())
    files.cert.write_bytes(issued.cert_pem())
    return files


@pytest.fixture
async def signed_net(
    net_factory: Callable[..., Awaitable[Net]], ring: KeyRing, tmp_path: Path
) -> Net:
    return await net_factory(ring.settings(tmp_path / "data"))


def url_of(net: Net) -> str:
    return str(net.client.make_url("/"))
