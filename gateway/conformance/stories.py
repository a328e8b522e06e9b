"""The conformance stories every channel passes, written once (gateway.conformance.driver).

Each story sends fresh messages (its own DocumentIds), so stories neither see each other's
items nor depend on their order, and a department integrator can run them again and again
against the same gateway. A story returns a line for the report or raises StoryFailed.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from gateway.conformance.driver import Driver, Kind, Outcome, Received
from gateway.edxml import Document, Organization, to_xml
from gateway.edxml.compose import compose_document, compose_status

Signer = Callable[[bytes, str], bytes]  # (raw, sender id) -> raw signed in the sender's name
UNKNOWN_AGENCY = "000.00.00.Z99"  # in no directory: QCVN 102's form, a letter no province has
MARKER = (
    "/CT-"  # in every story's DocumentId (<organ>,<date>,<n>/CT-<run>): drivers take only these
)


def unsigned(raw: bytes, sender: str) -> bytes:
    return raw


@dataclass(frozen=True)
class Parties:
    sender: str
    recipient: str
    unknown: str = UNKNOWN_AGENCY


@dataclass(frozen=True)
class Context:
    driver: Driver
    parties: Parties
    sign: Signer = unsigned
    timeout_s: float = 60.0  # for an item to arrive
    down_s: float = 2.0  # how long the recipient stays down in `recipient_down_then_back`
    poll_s: float = 0.1
    run: str = field(default_factory=lambda: secrets.token_hex(3).upper())


@dataclass(frozen=True)
class StoryResult:
    story: str
    passed: bool
    detail: str
    seconds: float


class StoryFailed(AssertionError):
    pass


# --- what the stories send ----------------------------------------------------------------------
_serial = iter(range(1, 1_000_000))


def compose(
    ctx: Context,
    subject: str,
    *,
    recipients: Sequence[str] | None = None,
    business_type: int = 0,
    document_id: str | None = None,
) -> tuple[Document, bytes]:
    """A fresh document from the sender, and its bytes as the sender's system sends them."""
    number = f"{next(_serial)}"
    doc = compose_document(
        Organization(ctx.parties.sender, f"Cơ quan {ctx.parties.sender}"),
        [Organization(r, f"Cơ quan {r}") for r in (recipients or [ctx.parties.recipient])],
        number=number,
        notation=f"{MARKER[1:]}{ctx.run}",
        subject=f"Kiểm thử tuân thủ: {subject}",
        business_type=business_type,
        document_id=document_id,
    )
    return doc, ctx.sign(to_xml(doc), ctx.parties.sender)


def status_about(ctx: Context, original: Document, code: str) -> bytes:
    status = compose_status(
        Organization(ctx.parties.recipient, f"Cơ quan {ctx.parties.recipient}"),
        original,
        code,
        description="Đã tiếp nhận",
    )
    return ctx.sign(to_xml(status), ctx.parties.recipient)


# --- what the stories check ---------------------------------------------------------------------
def accepted(outcome: Outcome, what: str) -> str:
    if not outcome.accepted or not outcome.id:
        raise StoryFailed(f"{what} was refused: {outcome.code}: {outcome.detail}")
    return outcome.id


def refused(outcome: Outcome, codes: Sequence[str], what: str) -> str:
    if outcome.accepted:
        raise StoryFailed(f"{what} was accepted (id {outcome.id}); expected {' or '.join(codes)}")
    if outcome.code not in codes:
        raise StoryFailed(
            f"{what} was refused with {outcome.code} ({outcome.detail}); "
            f"expected {' or '.join(codes)}"
        )
    return str(outcome.code)


def copies(items: Sequence[Received], body: bytes, kind: Kind) -> int:
    return sum(1 for item in items if item.body == body and item.kind == kind)


async def arrives_once(ctx: Context, recipient: str, body: bytes, kind: Kind = "edoc") -> None:
    """The item reaches `recipient` within the timeout, exactly once, byte for byte."""
    deadline = time.monotonic() + ctx.timeout_s
    while True:
        found = copies(await ctx.driver.received(recipient), body, kind)
        if found == 1:
            return
        if found > 1:
            raise StoryFailed(f"the {kind} reached {recipient} {found} times")
        if time.monotonic() > deadline:
            raise StoryFailed(f"the {kind} did not reach {recipient} within {ctx.timeout_s:g} s")
        await asyncio.sleep(ctx.poll_s)


# --- the stories ----------------------------------------------------------------------------------
async def correct_document(ctx: Context) -> str:
    _, raw = compose(ctx, "văn bản đúng")
    message_id = accepted(await ctx.driver.send(raw, ctx.parties.sender), "a correct document")
    await arrives_once(ctx, ctx.parties.recipient, raw)
    return f"accepted as {message_id}, delivered once, byte for byte"


async def malformed(ctx: Context) -> str:
    _, raw = compose(ctx, "văn bản hỏng")
    code = refused(
        await ctx.driver.send(raw[: len(raw) // 2], ctx.parties.sender),
        ["malformed_xml"],
        "half a document",
    )
    return f"refused: {code}"


async def not_edxml(ctx: Context) -> str:
    raw = b'<?xml version="1.0" encoding="UTF-8"?>\n<invoice><total>1000</total></invoice>\n'
    code = refused(
        await ctx.driver.send(raw, ctx.parties.sender),
        ["schema_invalid", "unsupported_message"],
        "an XML file that is not edXML",
    )
    return f"refused: {code}"


async def duplicate(ctx: Context) -> str:
    _, raw = compose(ctx, "văn bản gửi hai lần")
    first = accepted(await ctx.driver.send(raw, ctx.parties.sender), "the first sending")
    second = accepted(await ctx.driver.send(raw, ctx.parties.sender), "the second sending")
    if first != second:
        raise StoryFailed(f"the same bytes were accepted twice as {first} and {second}")
    await arrives_once(ctx, ctx.parties.recipient, raw)
    return f"both sendings answered {first}; delivered once"


async def unknown_addressee(ctx: Context) -> str:
    _, raw = compose(ctx, "gửi cơ quan không có", recipients=[ctx.parties.unknown])
    code = refused(
        await ctx.driver.send(raw, ctx.parties.sender),
        ["unknown_recipient"],
        f"a document to {ctx.parties.unknown}",
    )
    return f"refused: {code}"


async def revocation(ctx: Context) -> str:
    original, raw = compose(ctx, "văn bản sẽ thu hồi")
    accepted(await ctx.driver.send(raw, ctx.parties.sender), "the document")
    await arrives_once(ctx, ctx.parties.recipient, raw)
    _, revoke = compose(ctx, "thu hồi văn bản", business_type=1, document_id=original.document_id)
    message_id = accepted(await ctx.driver.send(revoke, ctx.parties.sender), "the revocation")
    await arrives_once(ctx, ctx.parties.recipient, revoke)
    return f"the revocation {message_id} followed the document to the recipient"


async def status_round_trip(ctx: Context) -> str:
    original, raw = compose(ctx, "văn bản chờ trạng thái")
    accepted(await ctx.driver.send(raw, ctx.parties.sender), "the document")
    await arrives_once(ctx, ctx.parties.recipient, raw)
    status = status_about(ctx, original, "03")
    accepted(await ctx.driver.send(status, ctx.parties.recipient), "the status 03")
    await arrives_once(ctx, ctx.parties.sender, status, "status")
    return "the recipient's status 03 (accepted) reached the sender"


async def recipient_down_then_back(ctx: Context) -> str:
    _, raw = compose(ctx, "người nhận tạm ngừng")
    await ctx.driver.recipient_down(ctx.parties.recipient)
    try:
        accepted(await ctx.driver.send(raw, ctx.parties.sender), "a document to a recipient down")
        await asyncio.sleep(ctx.down_s)  # the gateway tries meanwhile, and fails
        if copies(await ctx.driver.received(ctx.parties.recipient), raw, "edoc"):
            raise StoryFailed("the document reached the recipient while it was down")
    finally:
        await ctx.driver.recipient_up(ctx.parties.recipient)
    await arrives_once(ctx, ctx.parties.recipient, raw)
    return f"held while the recipient was down ({ctx.down_s:g} s), then delivered once"


Story = Callable[[Context], Awaitable[str]]
STORIES: dict[str, Story] = {
    "correct_document": correct_document,
    "malformed": malformed,
    "not_edxml": not_edxml,
    "duplicate": duplicate,
    "unknown_addressee": unknown_addressee,
    "revocation": revocation,
    "status_round_trip": status_round_trip,
    "recipient_down_then_back": recipient_down_then_back,
}


async def run_story(ctx: Context, name: str) -> StoryResult:
    started = time.monotonic()
    try:
        detail = await STORIES[name](ctx)
    except StoryFailed as failure:
        return StoryResult(name, False, str(failure), time.monotonic() - started)
    return StoryResult(name, True, detail, time.monotonic() - started)


async def run_stories(ctx: Context, names: Sequence[str] | None = None) -> list[StoryResult]:
    return [await run_story(ctx, name) for name in (names or list(STORIES))]
