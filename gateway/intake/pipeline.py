"""The intake pipeline: every message, from the HTTP API or an adapter, passes the same steps.

limits → read (well-formed) → secrecy guard → schema and model → sender binding → signature →
recipients → record → publish.
Each step reads what the earlier ones learned from the `Submission` and either adds to it or
refuses the message with a `GatewayError`; nothing is stored before the last step.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Protocol

from lxml import etree

from gateway.directory import Directory
from gateway.edxml import (
    Document,
    Message,
    StatusMessage,
    XmlLimits,
    message_from_tree,
    read_xml,
    validate,
)
from gateway.errors import (
    GatewayError,
    NotFound,
    PayloadTooLarge,
    SchemaInvalid,
    SenderMismatch,
    UnknownRecipient,
    UnsupportedMessage,
)
from gateway.intake.exchange import Exchange, Receipt
from gateway.intake.refusals import RefusalLog
from gateway.intake.submission import Submission
from gateway.metrics import count_unread_pdf
from gateway.policy.secrecy import SecrecyGuard
from gateway.runtime.workers import Workers
from gateway.sizes import is_large
from gateway.store import messages as store
from gateway.store.db import Database, Tx


class Step(Protocol):
    async def __call__(self, sub: Submission) -> None: ...


class CheckSize:
    def __init__(self, max_bytes: int) -> None:
        self._max = max_bytes

    async def __call__(self, sub: Submission) -> None:
        if len(sub.raw) > self._max:
            raise PayloadTooLarge(
                f"the body has {len(sub.raw)} bytes; this gateway accepts at most {self._max}"
            )


class ReadXml:
    """Well-formed, UTF-8, no DTD, within the limits: the tree, before the schema."""

    def __init__(self, limits: XmlLimits) -> None:
        self._limits = limits

    async def __call__(self, sub: Submission) -> None:
        if not is_large(len(sub.raw)):  # a 10 MB document must not hold up the small ones
            sub.root = read_xml(sub.raw, self._limits)
        else:
            sub.root = await asyncio.to_thread(read_xml, sub.raw, self._limits)


class Model:
    """The schema check, then the model: after the secrecy guard has read the tree."""

    @staticmethod
    def _model(root: etree._Element) -> Message:
        validate(root)
        return message_from_tree(root)

    async def __call__(self, sub: Submission) -> None:
        assert sub.root is not None
        if not is_large(len(sub.raw)):
            sub.message = self._model(sub.root)
        else:
            sub.message = await asyncio.to_thread(self._model, sub.root)


class BindSender:
    async def __call__(self, sub: Submission) -> None:
        assert sub.message is not None
        declared = sub.message.sender.organ_id
        if declared != sub.caller.id:
            raise SenderMismatch(
                f"MessageHeader/From/OrganId is {declared!r} but the caller is authenticated "
                f"as {sub.caller.id!r}: an agency sends only in its own name"
            )


class ResolveRecipients:
    def __init__(self, directory: Directory, max_recipients: int) -> None:
        self._directory = directory
        self._max = max_recipients

    async def __call__(self, sub: Submission) -> None:
        wanted = list(dict.fromkeys(org.organ_id for org in sub.document.recipients))
        if not wanted:
            raise SchemaInvalid("MessageHeader has no To: name at least one recipient")
        if len(wanted) > self._max:
            raise SchemaInvalid(f"{len(wanted)} recipients; at most {self._max} per message")
        if sub.caller.id in wanted:
            # docs/edxml.md: an agency does not exchange a document with itself; such a
            # "document" would count toward its own 90% figure
            raise UnknownRecipient(
                f"To/OrganId names the sender itself ({sub.caller.id}): an agency does not "
                "send a document to itself; remove it from To",
                unknown=[sub.caller.id],
            )
        if sub.beyond is not None:
            self._take_ours(sub, wanted, sub.beyond)
            return
        unknown = [organ_id for organ_id in wanted if self._directory.get(organ_id) is None]
        if unknown:
            raise UnknownRecipient(
                "To/OrganId not in the directory: "
                + ", ".join(unknown)
                + " (GET /v1/agencies lists the agencies this gateway serves)",
                unknown=unknown,
            )
        found = [self._directory.get(organ_id) for organ_id in wanted]
        sub.recipients = tuple(agency for agency in found if agency is not None)

    def _take_ours(self, sub: Submission, wanted: list[str], beyond: frozenset[str]) -> None:
        """A message from another network: ours are the recipients served here and not
        reached through that network; it delivers to all the others itself."""
        ours = [
            agency
            for agency in map(self._directory.get, wanted)
            if agency is not None and agency.id not in beyond
        ]
        if not ours:
            raise UnknownRecipient(
                "none of the recipients (To/OrganId: "
                + ", ".join(wanted)
                + ") is an agency this gateway delivers to itself",
                unknown=wanted,
            )
        sub.recipients = tuple(ours)
        taken = {agency.id for agency in ours}
        sub.left_to_others = tuple(organ_id for organ_id in wanted if organ_id not in taken)


class ResolveOriginal:
    """A status goes back to the document's sender, and only from one of its recipients."""

    def __init__(self, db: Database, directory: Directory) -> None:
        self._db = db
        self._directory = directory

    async def __call__(self, sub: Submission) -> None:
        origin_id = sub.status.response_for.organ_id
        document_id = sub.status.response_for.document_id
        if not origin_id or not document_id:
            raise SchemaInvalid("ResponseFor must name the OrganId and DocumentId it answers")
        origin = self._directory.get(origin_id)
        original = None
        if origin is not None:

            async def find(tx: Tx) -> str | None:
                return await store.original_for_status(tx, origin_id, document_id, sub.caller.id)

            original = await self._db.read(find)
        if origin is None or original is None:
            raise NotFound(
                f"no document {document_id!r} from {origin_id!r} was delivered to "
                f"{sub.caller.id}: check ResponseFor/OrganId and DocumentId"
            )
        sub.original_id = original
        sub.recipients = (origin,)


class Pipeline:
    def __init__(self, steps: Sequence[Step]) -> None:
        self._steps = tuple(steps)

    async def run(self, sub: Submission) -> None:
        for step in self._steps:
            await step(sub)


class Intake:
    """Where documents and statuses enter: the common steps (size, parse), then the steps of
    the message's kind, then the exchange records and publishes. Every refusal is written to
    the audit log (metadata only)."""

    def __init__(
        self,
        *,
        common: Pipeline,
        documents: Pipeline,
        statuses: Pipeline,
        exchange: Exchange,
        refusals: RefusalLog,
    ) -> None:
        self._common = common
        self._documents = documents
        self._statuses = statuses
        self._exchange = exchange
        self._refusals = refusals

    async def submit_document(self, sub: Submission) -> Receipt:
        return await self._submit(sub, Document)

    async def submit_status(self, sub: Submission) -> Receipt:
        return await self._submit(sub, StatusMessage)

    async def submit(self, sub: Submission) -> Receipt:
        """Either kind, as the message says (adapters: a folder or the national axis)."""
        return await self._submit(sub, None)

    async def _submit(
        self, sub: Submission, expected: type[Document] | type[StatusMessage] | None
    ) -> Receipt:
        try:
            await self._common.run(sub)
            if expected is not None and not isinstance(sub.message, expected):
                raise UnsupportedMessage(WRONG_CALL[expected])
            if isinstance(sub.message, Document):
                await self._documents.run(sub)
                return await self._exchange.accept_document(sub)
            await self._statuses.run(sub)
            return await self._exchange.accept_status(sub)
        except GatewayError as error:
            await self._refusals.record(sub, error)
            raise


WRONG_CALL = {
    Document: "this is a status message: send it to POST /v1/statuses",
    StatusMessage: "this is a document: send it to POST /v1/documents",
}


def build_intake(
    *,
    directory: Directory,
    db: Database,
    exchange: Exchange,
    refusals: RefusalLog,
    limits: XmlLimits,
    max_recipients: int,
    signatures: Step,  # gateway.trust.check.SignatureCheck: verifies and keeps what is signed
    workers: Workers | None = None,  # where the secrecy guard reads PDFs
) -> Intake:
    # the secrecy guard reads the well-formed tree before the schema check: a secret document
    # is refused as secret (and counted) even when its structure is broken too
    common = Pipeline(
        [
            CheckSize(limits.max_bytes),
            ReadXml(limits),
            SecrecyGuard(on_pdf_problem=count_unread_pdf, workers=workers),
            Model(),
        ]
    )
    documents = Pipeline([BindSender(), signatures, ResolveRecipients(directory, max_recipients)])
    statuses = Pipeline([BindSender(), signatures, ResolveOriginal(db, directory)])
    return Intake(
        common=common,
        documents=documents,
        statuses=statuses,
        exchange=exchange,
        refusals=refusals,
    )
