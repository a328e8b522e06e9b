"""The audit log's vocabulary: what an entry says (gateway.audit.chain chains them), and the part
of an entry the statistics read (gateway.stats.counting counts them). DESIGN §4.6 is the
contract; a new kind of entry is added here first, so every writer and reader agrees on it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

EventName = Literal[
    # the intake (gateway.intake): a message accepted, or refused
    "accepted",
    "status",  # on the trace of the document a status answers
    "refused",
    "secret_excluded",  # a refused secret document, one per recipient named: counted apart
    # the delivery (gateway.delivery, the vdxp façade)
    "delivered",
    "delivery_failed",
    "acked",
    "transport_fail",
    "adapter_refused",  # an adapter set aside what its department handed it (metadata only)
    # the statistics: a document sent on paper (gateway.stats.paper)
    "paper_declared",
    # an operator's actions (the ops API)
    "adapter_reset",
    "replayed",  # data: delivery_id, dead_letter_id: the delivery keeps its id
    "dead_letters_purged",
    # retention (gateway.maintenance.retention): the bodies of finished messages removed
    "bodies_removed",
    # the console (gateway.console): who signed in, who failed to, and what they did there
    # beside the ops API's own actions above
    "console_signed_in",
    "console_sign_in_failed",
    "console_signed_out",
    "trust_reloaded",
    "audit_verified",
    "purged",  # one per purged dead letter, on its message's trace
]


@dataclass(frozen=True)
class Event:
    event: EventName
    at: float
    actor: str | None = None
    message_id: str | None = None
    recipient: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Counted:
    """What the statistics read from an entry's data: `accepted` entries carry all of it,
    `paper_declared` and `secret_excluded` the document and the day."""

    document_id: str
    day: str  # the local day (DESIGN §4.6), ISO
    kind: str | None = None  # edoc | status (gateway.store.messages.MessageKind)
    business_type: object = None
    paper_copy: bool = False

    @classmethod
    def read(cls, data: Mapping[str, Any]) -> Counted:
        return cls(
            document_id=str(data.get("document_id", "")),
            day=str(data.get("day", "")),
            kind=data.get("kind"),
            business_type=data.get("business_type"),
            paper_copy=bool(data.get("paper_copy")),
        )
