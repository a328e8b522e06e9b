"""The adapter instances as configured, and the host each of them is given."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Protocol

from gateway.adapter_api import OutboundItem, SubmissionRefused, Submitted
from gateway.config import ConfigError
from gateway.delivery import metrics
from gateway.delivery.pacing import Instance
from gateway.directory import Directory


def instances(directory: Directory) -> dict[str, Instance]:
    """Each agency's adapter instance, named `delivery.name` or `<adapter>:<agency>`."""
    found: dict[str, Instance] = {}
    named: dict[str, str] = {}
    for agency in directory:
        delivery = agency.delivery
        name = delivery.name or f"{delivery.adapter}:{agency.id}"
        if name in named:
            raise ConfigError(
                f"agency {agency.id}: delivery.name {name!r} is already the name of "
                f"agency {named[name]}'s adapter instance"
            )
        named[name] = agency.id
        found[agency.id] = Instance(agency=agency.id, name=name, adapter=delivery.adapter)
    return found


class CoreHost(Protocol):
    """The gateway's side of the adapter API, shared by every instance."""

    async def submit(
        self,
        raw: bytes,
        *,
        sender: str,
        secrecy: str | None = None,
        beyond: Collection[str] | None = None,
    ) -> Submitted: ...

    async def read_body(self, item: OutboundItem) -> bytes: ...

    async def hold_for_pickup(self, item: OutboundItem) -> None: ...

    async def confirm_delivered(self, item: OutboundItem, detail: str) -> None: ...

    async def audit_refusal(
        self, agency: str, instance: str, reason: str, details: Mapping[str, str]
    ) -> None: ...


class InstanceHost:
    """gateway.adapter_api.AdapterHost for one instance: its submissions counted under its name."""

    def __init__(self, core: CoreHost, instance: Instance, base_dir: Path) -> None:
        self._core = core
        self._label = instance.name
        self._agency = instance.agency
        self._base_dir = base_dir

    @property
    def base_dir(self) -> Path:
        return self._base_dir

    async def submit(
        self,
        raw: bytes,
        *,
        sender: str,
        secrecy: str | None = None,
        beyond: Collection[str] | None = None,
    ) -> Submitted:
        try:
            submitted = await self._core.submit(raw, sender=sender, secrecy=secrecy, beyond=beyond)
        except SubmissionRefused:
            metrics.SUBMISSIONS.labels(self._label, "refused").inc()
            raise
        outcome = "replayed" if submitted.replayed else "accepted"
        metrics.SUBMISSIONS.labels(self._label, outcome).inc()
        return submitted

    async def read_body(self, item: OutboundItem) -> bytes:
        return await self._core.read_body(item)

    async def hold_for_pickup(self, item: OutboundItem) -> None:
        await self._core.hold_for_pickup(item)

    async def confirm_delivered(self, item: OutboundItem, detail: str) -> None:
        await self._core.confirm_delivered(item, detail)

    async def audit_refusal(self, reason: str, details: Mapping[str, str]) -> None:
        await self._core.audit_refusal(self._agency, self._label, reason, details)
