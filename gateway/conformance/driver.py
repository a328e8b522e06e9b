"""The conformance driver: how the stories reach the gateway through one channel.

A channel is the way a department system talks to the gateway: the agency HTTP API and its
mailbox, a webhook, a drop folder, the national axis' façade... A driver sends messages as a
department system would through that channel and collects what the channel delivers to a
recipient. The stories (gateway.conformance.stories) are written once against this protocol,
as Estonia's DHX publishes its test stories, and run against every driver.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

Kind = Literal["edoc", "status"]


@dataclass(frozen=True)
class Outcome:
    """The gateway's verdict on one message sent through the channel."""

    accepted: bool
    id: str | None = None  # the gateway's message id, when accepted (the same on a resend)
    code: str | None = None  # the problem code when refused (DESIGN §4.5), e.g. malformed_xml
    detail: str | None = None  # what the refusal said, for the report


@dataclass(frozen=True)
class Received:
    """One item the channel delivered to a recipient's system."""

    kind: Kind
    body: bytes  # exactly as the sender sent it
    delivery_id: str | None = None  # when the channel tells it


class Driver(Protocol):
    name: str  # the channel, in reports: "http", "webhook", "folder", "vdxp"...

    async def send(self, raw: bytes, sender: str) -> Outcome:
        """Submit `raw` (a document or a status) as `sender`'s system would, and return once
        the gateway has accepted or refused it."""

    async def received(self, recipient: str) -> list[Received]:
        """Everything the channel has delivered to `recipient`'s system since the driver
        started, in arrival order, redeliveries included (a story counts them). A pull
        channel pulls (and acknowledges) here, unless the recipient is down."""

    async def recipient_down(self, recipient: str) -> None:
        """From now on `recipient`'s system takes nothing: it answers errors, is unreachable,
        or does not collect."""

    async def recipient_up(self, recipient: str) -> None:
        """`recipient`'s system takes deliveries again."""
