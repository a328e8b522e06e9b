"""What an adapter may see of the gateway, and what the gateway expects of an adapter.

Adapters connect a department's document system to the bus. They are plugins, found through
the `edocgw.adapters` entry-point group, and import only this module and `gateway.edxml`; the
gateway core never imports an adapter. The bus hands the gateway one delivery at a time; the
gateway hands it to the recipient's adapter, which either holds it for pickup (mailbox) or
pushes it and confirms, or raises `TemporaryFailure` (retried with backoff, dead-lettered when
the retries run out) or `PermanentFailure` (dead-lettered at once).

In the other direction an adapter hands what its department sends to `AdapterHost.submit`,
which runs the same intake pipeline as the agency API, every check included.

Each agency has one adapter instance, named in its configuration (`delivery.name`, by default
`<adapter>:<agency>`). The gateway, not the adapter, paces deliveries: after a temporary
failure it stops handing the agency's items to the instance until a jittered retry time that
grows with each failure, persisted and reset by an operator (docs/adapters.md). An instance
that also implements `LifecycleListener` is told what became of the items it delivered and of
those its agency sent.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

Kind = Literal["edoc", "status"]


@dataclass(frozen=True)
class OutboundItem:
    """One message on its way to one recipient."""

    delivery_id: str
    message_id: str
    kind: Kind
    sender: str
    recipient: str
    document_id: str
    priority: int
    size: int
    attempt: int


class TemporaryFailure(Exception):
    """The recipient cannot take the item now; try again later."""

    def __init__(self, reason: str, retry_after_s: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after_s = retry_after_s


class PermanentFailure(Exception):
    """The item can never be delivered as it is."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class OptionsError(ValueError):
    """An adapter's options are wrong; the message names the option."""


@dataclass(frozen=True)
class Submitted:
    """What the gateway accepted from a department through an adapter."""

    message_id: str
    kind: Kind
    document_id: str
    recipients: tuple[str, ...]
    replayed: bool  # the same bytes had been accepted before: nothing new was sent
    # named in the message, but reached by the network it came from (see AdapterHost.submit)
    left_to_others: tuple[str, ...] = ()


class SubmissionRefused(Exception):
    """The gateway refused the message; `problem` is the problem+json body (DESIGN §4.5)."""

    def __init__(self, problem: Mapping[str, Any]) -> None:
        super().__init__(str(problem.get("detail", "")))
        self.problem = dict(problem)

    @property
    def code(self) -> str:
        return str(self.problem.get("code", ""))

    @property
    def status(self) -> int:
        return int(self.problem.get("status", 500))


EventName = Literal["delivered", "delivery_failed"]


@dataclass(frozen=True)
class LifecycleEvent:
    """What became of one item: `delivered` (held or pushed), or `delivery_failed` for good
    (refused, or the retries ran out: the item is dead-lettered, and an operator may replay
    it). `reason` says why it failed."""

    name: EventName
    item: OutboundItem
    at: float  # unix seconds
    reason: str | None = None


@runtime_checkable
class LifecycleListener(Protocol):
    async def on_event(self, event: LifecycleEvent) -> None:
        """Told to the recipient's instance and to the sender's; must not raise or block long
        (the delivery is already settled: a failure here is logged and forgotten)."""


class AdapterHost(Protocol):
    """The gateway's side, as an adapter instance sees it."""

    @property
    def base_dir(self) -> Path:
        """The configuration file's directory: relative paths in options are relative to it."""

    async def submit(
        self,
        raw: bytes,
        *,
        sender: str,
        secrecy: str | None = None,
        beyond: Collection[str] | None = None,
    ) -> Submitted:
        """Run a department's message through the intake pipeline, every check included, in
        the name of `sender` (whom the adapter has authenticated); SubmissionRefused if not.

        `beyond` is for a bridge to another network (the national axis): a message from there
        may name recipients all over the country, and that network delivers to them itself.
        Give the agencies reached through the bridge: the message is then taken for the other
        recipients this gateway serves, and every recipient it does not take is left to that
        network (`Submitted.left_to_others`), not refused; `unknown_recipient` only if it
        names none this gateway takes. Without `beyond`, an unknown recipient is refused."""

    async def read_body(self, item: OutboundItem) -> bytes:
        """The message exactly as its sender sent it."""

    async def hold_for_pickup(self, item: OutboundItem) -> None:
        """Put the item in the recipient's mailbox, where the department fetches it."""

    async def confirm_delivered(self, item: OutboundItem, detail: str) -> None:
        """Record that the department's system has taken the item (after a push)."""

    async def audit_refusal(self, reason: str, details: Mapping[str, str]) -> None:
        """Append one `adapter_refused` entry to the audit log, in the instance's agency's
        name: something of the department that the adapter refused on its own (a file set
        aside, a folder it will not use). `details` is metadata only, never content."""


class Adapter(Protocol):
    async def start(self) -> None: ...

    async def deliver(self, item: OutboundItem) -> None:
        """Deliver or hold the item; raise TemporaryFailure or PermanentFailure otherwise."""

    async def close(self) -> None: ...


class AdapterFactory(Protocol):
    def __call__(
        self, *, instance: str, agency: str, options: Mapping[str, Any], host: AdapterHost
    ) -> Adapter:
        """Build an adapter instance; raise OptionsError for an unknown or bad option."""
