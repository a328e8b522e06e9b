"""The message bus: the contract (`base`) and its implementations (`local`, `amqp`)."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from gateway.bus.base import (
    URGENT,
    Bus,
    BusError,
    BusUnavailable,
    DeadLetter,
    DeadLetterNotFound,
    Handler,
    OutgoingMessage,
    QueueStats,
    ReceivedMessage,
    Reject,
    RetryLater,
    RetryPolicy,
    Subscription,
    Unroutable,
)
from gateway.bus.local.bus import BusLocked, CommitStats, LocalBus, LocalBusTuning

__all__ = [
    "LOCAL_BUS_FILE",
    "URGENT",
    "Bus",
    "BusError",
    "BusLocked",
    "BusUnavailable",
    "CommitStats",
    "DeadLetter",
    "DeadLetterNotFound",
    "Handler",
    "LocalBus",
    "LocalBusTuning",
    "OutgoingMessage",
    "QueueStats",
    "ReceivedMessage",
    "Reject",
    "RetryLater",
    "RetryPolicy",
    "Subscription",
    "Unroutable",
    "open_bus",
]

LOCAL_BUS_FILE = "bus.sqlite3"  # in data_dir, beside the store's gateway.sqlite3


class BusSettingsLike(Protocol):
    """What `open_bus` reads of the `[bus]` settings (gateway.config.BusSettings)."""

    @property
    def url(self) -> str: ...


def open_bus(settings: BusSettingsLike, data_dir: Path, retry: RetryPolicy) -> Bus:
    """The bus that `[bus] url` names; not started yet."""
    if settings.url == "local":
        return LocalBus(data_dir / LOCAL_BUS_FILE, retry=retry)
    if settings.url.startswith(("amqp://", "amqps://")):
        from gateway.bus.amqp.bus import RabbitBus  # aio-pika is loaded only when it is used

        return RabbitBus(settings.url, retry=retry)
    raise BusUnavailable(f"bus url {settings.url!r}: not local, amqp:// or amqps://")
