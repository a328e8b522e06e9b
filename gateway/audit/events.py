"""What an audit entry says (gateway.audit.chain chains them; gateway.stats.facts counts them)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Event:
    event: str
    at: float
    actor: str | None = None
    message_id: str | None = None
    recipient: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
