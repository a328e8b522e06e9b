"""The signature step of the intake, and `edocgw verify`: one code path for both.

`check_message` applies an agency's policies to one message: its XML-DSig (required or
optional), then the signatures of its PDF attachments (ignore, report or required). The intake
step runs it on a worker thread, never on the event loop, and afterwards the submission holds
only what the signature covers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from lxml import etree

from gateway.clock import Clock
from gateway.config import Settings
from gateway.directory import Agency
from gateway.edxml import Document, Message, XmlLimits, message_from_tree, read_xml
from gateway.errors import SignatureMissing
from gateway.runtime.workers import Workers
from gateway.trust.material import TrustMaterial, open_trust_store
from gateway.trust.pdf import check_pdf_attachments, is_pdf
from gateway.trust.policy import DEFAULT_POLICY
from gateway.trust.xmldsig import DS_NS, XmlSignatureVerifier, find_signature

if TYPE_CHECKING:
    from gateway.intake.submission import Submission

T = TypeVar("T")


@dataclass(frozen=True)
class Checked:
    """The outcome of the checks: what the signature covers, if signed, and the record."""

    root: etree._Element | None  # the signed tree (None: unsigned, accepted as such)
    message: Message | None
    record: dict[str, Any]  # stored with the message, shown in its trace


def check_message(
    verifier: XmlSignatureVerifier,
    raw: bytes,
    root: etree._Element,
    unverified: Message,
    agency: Agency,
    at: datetime,
) -> Checked:
    """Apply `agency`'s signature policies to `raw` (parsed as `root`, read as `unverified`)."""
    verified = verifier.verify(raw, root, agency.id, at)
    if verified is None:
        if agency.signature == "required":
            raise SignatureMissing(
                f"{agency.id} must sign its messages (signature policy 'required'): put one "
                f"XML-DSig ds:Signature ({DS_NS}) in edXMLHeader, enveloped, with a single "
                'Reference URI="" (`edocgw sign` does this)'
            )
        checked = Checked(None, None, {"status": "unsigned", "policy": agency.signature})
    else:
        checked = Checked(verified.root, verified.message, verified.signature.as_json())
    message = checked.message or unverified
    if isinstance(message, Document) and agency.pdf_signatures != "ignore":
        pdf = check_pdf_attachments(message, agency.pdf_signatures, verifier.store, at)
        if pdf:
            checked.record["pdf"] = pdf
    return checked


# The worker process' verifier, rebuilt when the gateway's trust material was reloaded.
_worker_verifier: tuple[int, XmlSignatureVerifier] | None = None


def worker_verifier(settings: Settings, generation: int) -> XmlSignatureVerifier:
    """The worker process' verifier for this generation of the trust material: built on the
    process' first message (or when `Workers.warm` runs this), rebuilt after a reload."""
    global _worker_verifier
    if _worker_verifier is None or _worker_verifier[0] != generation:
        _worker_verifier = (
            generation,
            XmlSignatureVerifier(open_trust_store(settings), DEFAULT_POLICY),
        )
    return _worker_verifier[1]


def prime_worker(settings: Settings, generation: int) -> None:
    """Build the worker's verifier ahead of its first message (see `Workers.warm`)."""
    worker_verifier(settings, generation)


def check_in_worker(
    settings: Settings, generation: int, raw: bytes, agency: Agency, at: datetime
) -> Checked:
    """`check_message` in a worker process: the tree cannot travel back, the model does."""
    verifier = worker_verifier(settings, generation)
    limits = XmlLimits(max_bytes=len(raw), max_depth=settings.limits.max_xml_depth)
    root = read_xml(raw, limits)  # the gateway read these very bytes already: no surprise
    checked = check_message(verifier, raw, root, message_from_tree(root), agency, at)
    return Checked(None, checked.message, checked.record)


def _needs_worker(root: etree._Element, message: Message, agency: Agency) -> bool:
    if find_signature(root) is not None:
        return True
    if agency.pdf_signatures == "ignore" or not isinstance(message, Document):
        return False
    return any(is_pdf(attachment) for attachment in message.attachments)


class SignatureCheck:
    """The intake step: verify off the event loop, then keep only the verified content."""

    def __init__(self, trust: TrustMaterial, workers: Workers, clock: Clock) -> None:
        self._trust = trust
        self._workers = workers
        self._clock = clock

    async def __call__(self, sub: Submission) -> None:
        assert sub.root is not None and sub.message is not None
        at = datetime.fromtimestamp(self._clock(), UTC)
        trust = self._trust
        if not _needs_worker(sub.root, sub.message, sub.caller):
            # nothing to verify (an unsigned message, no PDF to read): a hop would cost more
            checked = check_message(trust.verifier, sub.raw, sub.root, sub.message, sub.caller, at)
        elif self._workers.processes:
            checked = await self._workers.in_process(
                len(sub.raw),
                check_in_worker,
                trust.settings,
                trust.generation,
                sub.raw,
                sub.caller,
                at,
            )
        else:
            checked = await self._workers.in_thread(
                len(sub.raw),
                check_message,
                trust.verifier,
                sub.raw,
                sub.root,
                sub.message,
                sub.caller,
                at,
            )
        if checked.message is not None:
            # only what the signature covers from here on; a tree verified in the worker
            # process stays there (no later step reads the tree)
            sub.root, sub.message = checked.root, checked.message
        sub.signature = checked.record
