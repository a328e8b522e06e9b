"""Fixtures for the trust tests: one test PKI per session, gateways that trust it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from tests.conftest import Net
from tests.samples import samples
from tests.trust.keys import KeyRing, build_key_ring

__all__ = ["samples"]


@pytest.fixture(scope="session")
def ring(tmp_path_factory: pytest.TempPathFactory) -> KeyRing:
    return build_key_ring(tmp_path_factory.mktemp("pki"))


@pytest.fixture
async def signed_net(
    net_factory: Callable[..., Awaitable[Net]], ring: KeyRing, tmp_path: Path
) -> Net:
    """A gateway where every agency must sign (trust.signature = "required")."""
    return await net_factory(ring.settings(tmp_path / "data"))
