"""What a console user did, in the audit log under the user's name."""

from __future__ import annotations

from gateway.audit import chain as audit
from gateway.audit.events import Event, EventName
from gateway.clock import Clock
from gateway.store.db import Database


class ActionLog:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def record(
        self,
        event: EventName,
        actor: str,
        *,
        recipient: str | None = None,
        message_id: str | None = None,
        **data: object,
    ) -> None:
        entry = Event(
            event,
            at=self._clock(),
            actor=actor[:64],
            message_id=message_id,
            recipient=recipient,
            data=dict(data),
        )
        await audit.record(self._db, [entry])
