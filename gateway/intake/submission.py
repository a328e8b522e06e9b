"""A message on its way through the intake steps (gateway.intake.pipeline): what each step
established so far. The steps elsewhere (trust.check, policy.secrecy) and the services after the
pipeline (exchange, refusals) read it from here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from gateway.directory import Agency
from gateway.edxml import Document, Message, StatusMessage
from gateway.policy.secrecy_view import SecrecyView


@dataclass
class Submission:
    """A message on its way through the steps; each step fills in what it established."""

    raw: bytes
    caller: Agency
    received_at: float
    declared_secrecy: str | None = None
    root: etree._Element | None = None
    message: Message | None = None
    signature: dict[str, Any] = field(default_factory=dict)
    recipients: tuple[Agency, ...] = ()
    original_id: str | None = None  # a status: the document it answers
    # from a bridge to another network: the agencies that network reaches (AdapterHost.submit)
    beyond: frozenset[str] | None = None
    left_to_others: tuple[str, ...] = ()  # recipients named but left to that network
    # what the secrecy guard read of the tree (before the schema check): a secret refusal is
    # counted for its recipients even when the document never became a model
    secrecy_view: SecrecyView | None = None

    def recipients_ids(self) -> list[str]:
        return [agency.id for agency in self.recipients]

    @property
    def document(self) -> Document:
        assert isinstance(self.message, Document)
        return self.message

    @property
    def status(self) -> StatusMessage:
        assert isinstance(self.message, StatusMessage)
        return self.message
