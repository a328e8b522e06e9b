"""What travels on the bus: a claim on a stored message for one recipient, not the message.

Documents reach 50 MB; the bus carries a few hundred bytes per delivery and the body stays in
the store, written once however many recipients there are (the claim-check pattern).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from gateway.bus.base import OutgoingMessage
from gateway.store.messages import DeliveryRecord

VERSION = 1


@dataclass(frozen=True)
class Claim:
    delivery_id: str
    message_id: str
    kind: str
    sender: str
    recipient: str
    document_id: str
    priority: int
    size: int

    @classmethod
    def of(cls, delivery: DeliveryRecord) -> Claim:
        return cls(
            delivery_id=delivery.delivery_id,
            message_id=delivery.message_id,
            kind=delivery.kind,
            sender=delivery.sender,
            recipient=delivery.recipient,
            document_id=delivery.document_id,
            priority=delivery.priority,
            size=delivery.size,
        )

    def to_message(self) -> OutgoingMessage:
        body = json.dumps({"v": VERSION, **asdict(self)}, ensure_ascii=False).encode()
        headers = {"kind": self.kind, "sender": self.sender, "message_id": self.message_id}
        return OutgoingMessage(
            queue=self.recipient,
            message_id=self.delivery_id,
            body=body,
            priority=self.priority,
            headers=headers,
        )

    @classmethod
    def from_bytes(cls, body: bytes) -> Claim:
        data = json.loads(body)
        if data.pop("v", None) != VERSION:
            raise ValueError("unknown claim version")
        return cls(**data)
