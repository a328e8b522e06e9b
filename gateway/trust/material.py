"""The gateway's current trust material, and reloading it without a restart.

Built once at start-up from the configuration. `reload()` (SIGHUP, or
`POST /v1/ops/trust/reload`) reads the configuration file again when the gateway was started
from one, takes its [trust] section and the agencies' signing_certs and client_certs, builds a
new trust store and swaps it in; a message already being verified finishes with the old one.
If the new material cannot be read, the old store stays in force and the reload reports why.
Other changes in the file (agencies, policies, listeners) need a restart.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from gateway.config import ConfigError, Settings, load_settings
from gateway.errors import Refused
from gateway.log import get_logger
from gateway.trust import expiry
from gateway.trust.certs import TrustMaterialError
from gateway.trust.policy import DEFAULT_POLICY, VerificationPolicy
from gateway.trust.store import TrustStore
from gateway.trust.xmldsig import XmlSignatureVerifier

log = get_logger(__name__)


class TrustReloadFailed(Refused):
    code = "trust_reload_failed"
    title = "The trust material cannot be reloaded; the previous material stays in force"


def open_trust_store(settings: Settings, policy: VerificationPolicy = DEFAULT_POLICY) -> TrustStore:
    """The trust store of `settings`, or ConfigError naming the key and file at fault."""
    try:
        return TrustStore.load(settings, policy)
    except TrustMaterialError as exc:
        raise ConfigError(str(exc)) from None


class TrustMaterial:
    def __init__(
        self,
        settings: Settings,
        *,
        config_path: Path | None = None,
        policy: VerificationPolicy = DEFAULT_POLICY,
    ) -> None:
        self._config_path = config_path
        self._policy = policy
        self.verifier = XmlSignatureVerifier(open_trust_store(settings, policy), policy)
        expiry.publish(self.verifier.store)
        self.settings = settings  # what the current store was built from
        self.generation = 0  # counts reloads: worker processes rebuild their store on change
        self._lock = asyncio.Lock()

    @property
    def store(self) -> TrustStore:
        return self.verifier.store

    def reload(self) -> dict[str, Any]:
        """Read the trust material again and swap it in; TrustReloadFailed leaves the old one."""
        try:
            settings = load_settings(self._config_path) if self._config_path else self.settings
            store = open_trust_store(settings, self._policy)
        except ConfigError as exc:
            log.error("trust_reload_failed", error=str(exc))
            raise TrustReloadFailed(f"{exc}; the previous trust material stays in force") from None
        self.verifier = XmlSignatureVerifier(store, self._policy)
        expiry.publish(store)
        self.settings, self.generation = settings, self.generation + 1
        summary = store.summary()
        log.info(
            "trust_reloaded",
            anchors=len(store.anchors),
            intermediates=len(store.intermediates),
            crls=len(store.crls),
        )
        return summary

    async def reload_async(self) -> dict[str, Any]:
        async with self._lock:  # one reload at a time; file reads off the event loop
            return await asyncio.to_thread(self.reload)


def reload_on_sighup(
    material: TrustMaterial,
    reloaded: Callable[[dict[str, Any] | None, str | None], Awaitable[None]] | None = None,
) -> Callable[[], None]:
    """Install a SIGHUP handler that reloads `material`; returns a function removing it.
    `reloaded(summary, error)` is told of each reload (the audit log keeps them)."""
    loop = asyncio.get_running_loop()
    pending: set[asyncio.Task[None]] = set()

    async def reload() -> None:
        try:
            summary = await material.reload_async()
        except TrustReloadFailed as exc:  # logged; the previous material stays
            if reloaded is not None:
                await reloaded(None, str(exc))
            return
        if reloaded is not None:
            await reloaded(summary, None)

    def on_hangup() -> None:
        task = loop.create_task(reload())
        pending.add(task)
        task.add_done_callback(pending.discard)

    loop.add_signal_handler(signal.SIGHUP, on_hangup)

    def remove() -> None:
        loop.remove_signal_handler(signal.SIGHUP)

    return remove
