"""Telling adapter instances what became of the items they delivered or their agency sent."""

from __future__ import annotations

from collections.abc import Mapping

from gateway.adapter_api import Adapter, EventName, LifecycleEvent, LifecycleListener, OutboundItem
from gateway.clock import Clock
from gateway.log import get_logger

log = get_logger(__name__)


class Listeners:
    """The instances that implement LifecycleListener, found once (most do not)."""

    def __init__(self, adapters: Mapping[str, Adapter], clock: Clock) -> None:
        self._listeners = {
            agency: adapter
            for agency, adapter in adapters.items()
            if isinstance(adapter, LifecycleListener)
        }
        self._clock = clock

    async def announce(
        self, name: EventName, item: OutboundItem, reason: str | None = None
    ) -> None:
        if not self._listeners:
            return
        event = LifecycleEvent(name, item, self._clock(), reason)
        for agency in dict.fromkeys((item.recipient, item.sender)):
            listener = self._listeners.get(agency)
            if listener is None:
                continue
            try:
                await listener.on_event(event)
            except Exception as exc:  # the delivery is settled whatever a listener does
                log.warning(
                    "lifecycle_listener_failed",
                    agency=agency,
                    lifecycle_event=name,
                    delivery_id=item.delivery_id,
                    error=str(exc) or type(exc).__name__,
                )
