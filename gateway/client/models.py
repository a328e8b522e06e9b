"""What the agency API answers (DESIGN §4.3), as values, and how it refuses (§4.5)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class ClientError(Exception):
    """The call did not succeed."""


class Unreachable(ClientError):
    """The gateway could not be reached, or did not answer as the gateway does."""


class Refused(ClientError):
    """The gateway refused the call; `problem` is its application/problem+json body."""

    def __init__(self, problem: Mapping[str, Any]) -> None:
        self.problem = dict(problem)
        super().__init__(f"{self.status} {self.code}: {self.detail}")

    @property
    def status(self) -> int:
        return int(self.problem.get("status", 0))

    @property
    def code(self) -> str:
        return str(self.problem.get("code", ""))

    @property
    def detail(self) -> str:
        return str(self.problem.get("detail", ""))


@dataclass(frozen=True)
class Delivery:
    organ_id: str
    delivery_id: str
    state: str


@dataclass(frozen=True)
class Receipt:
    """A document accepted: `replayed` when the same bytes had been accepted before."""

    id: str
    document_id: str
    recipients: tuple[Delivery, ...]
    replayed: bool

    @classmethod
    def of(cls, body: Mapping[str, Any], replayed: bool) -> Receipt:
        return cls(
            id=body["id"],
            document_id=body["document_id"],
            recipients=tuple(
                Delivery(r["organ_id"], r["delivery_id"], r["state"]) for r in body["recipients"]
            ),
            replayed=replayed,
        )


@dataclass(frozen=True)
class StatusReceipt:
    id: str
    to: str
    replayed: bool


@dataclass(frozen=True)
class InboxItem:
    delivery_id: str
    kind: str  # edoc | status
    sender: str
    document_id: str
    priority: int
    received_at: str
    size: int

    @classmethod
    def of(cls, item: Mapping[str, Any]) -> InboxItem:
        return cls(
            delivery_id=item["delivery_id"],
            kind=item["kind"],
            sender=item["from"],
            document_id=item["document_id"],
            priority=int(item["priority"]),
            received_at=item["received_at"],
            size=int(item["size"]),
        )


@dataclass(frozen=True)
class InboxPage:
    items: tuple[InboxItem, ...]
    next: str | None  # the cursor of the next page


@dataclass(frozen=True)
class Fetched:
    """One item of the inbox: `body` is exactly what its sender sent."""

    delivery_id: str
    kind: str
    sender: str
    message_id: str
    body: bytes
