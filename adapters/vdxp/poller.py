"""What the ministries send through the axis, brought in through the gateway's intake.

Each poll lists the documents, then the statuses, waiting for the city's system; each item is
fetched and submitted in the name of its sender, who must be what the axis says the item came
from, the edXML's From, and an agency configured as reachable through this axis account. The
transfer is then acknowledged to the axis (`done`, or `fail` with the reason); a business
status (01-16) is never sent this way. If the gateway cannot take an item now (503), it is not
acknowledged and comes back at the next poll; an item taken twice is accepted once (the
intake's dedupe replays it), so losing an acknowledgement costs nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Callable, Collection

import structlog

from adapters.vdxp.options import AxisOptions
from gateway.adapter_api import AdapterHost, SubmissionRefused
from gateway.edxml import parse_message
from gateway.vdxp.client import AxisClient, AxisError, AxisRefused, Listed

log = structlog.get_logger("adapters.vdxp")
PARSE_IN_PLACE_BYTES = 256 * 1024
Ack = tuple[str, str]  # (done | fail, reason)
_jitter = secrets.SystemRandom()


def backoff_s(failures: int, interval_s: float, cap_s: float) -> float:
    """The wait after `failures` failed polls in a row: doubling from the interval up to the
    cap, the upper half jittered so that several gateways do not retry in step."""
    ceiling = min(cap_s, interval_s * 2.0**failures)
    return ceiling / 2 + _jitter.uniform(0, ceiling / 2)


class Poller:
    def __init__(
        self,
        *,
        client: AxisClient,
        options: AxisOptions,
        host_of: Callable[[str], AdapterHost | None],
        reached: Callable[[], Collection[str]],
    ) -> None:
        self._client = client
        self._options = options
        self._host_of = host_of  # the host of an agency reached through the account
        self._reached = reached  # the agencies reached through the account
        self._task: asyncio.Task[None] | None = None
        self.failures = 0  # failed polls in a row

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"vdxp-poll:{self._options.systemid}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        interval, cap = self._options.poll_interval_s, self._options.max_backoff_s
        while True:
            try:
                await self.poll_once()
                self.failures = 0
                delay = interval
            except Exception as exc:  # an axis outage, or a bug: either way keep polling
                self.failures += 1
                delay = backoff_s(self.failures, interval, cap)
                reason = exc.reason if isinstance(exc, AxisError) else repr(exc)
                log.warning(
                    "axis_poll_failed", failures=self.failures, retry_in_s=delay, reason=reason
                )
            await asyncio.sleep(delay)

    async def poll_once(self) -> int:
        """Take everything the axis holds for the city now; how many items were taken."""
        taken = 0
        for kind in ("edoc", "status"):
            for item in await self._client.received(kind):
                await self._take(item)
                taken += 1
        return taken

    async def _take(self, item: Listed) -> None:
        try:
            raw = await self._client.get_edoc(item.doc_id)
        except AxisRefused as exc:
            await self._acknowledge(item, ("fail", exc.reason))
            return
        ack = await self._submit(item, raw)
        if ack is not None:
            await self._acknowledge(item, ack)

    async def _submit(self, item: Listed, raw: bytes) -> Ack | None:
        declared = await _edxml_sender(raw)
        sender = declared or item.sender
        if item.sender and declared and declared != item.sender:
            return "fail", (
                f"sender_mismatch: the edXML From is {declared} but the axis says the message "
                f"came from {item.sender}"
            )
        if not sender:
            return "fail", "unsupported_message: neither the axis nor the edXML names a sender"
        host = self._host_of(sender)
        if host is None:
            return "fail", f"forbidden: {sender} is not reached through this axis account"
        try:
            # a ministry's circular names provinces and ministries too: the axis delivers to
            # them, the city takes what is addressed to its own agencies
            submitted = await host.submit(raw, sender=sender, beyond=self._reached())
        except SubmissionRefused as refused:
            if refused.status >= 500:  # nothing was accepted: the next poll brings it again
                log.warning("axis_item_deferred", doc_id=item.doc_id, code=refused.code)
                return None
            log.info("axis_item_refused", doc_id=item.doc_id, sender=sender, code=refused.code)
            return "fail", f"{refused.code}: {refused.problem.get('detail', '')}"
        log.info(
            "axis_item_accepted",
            doc_id=item.doc_id,
            sender=sender,
            message_id=submitted.message_id,
            replayed=submitted.replayed,
            left_to_others=list(submitted.left_to_others),
        )
        return "done", ""

    async def _acknowledge(self, item: Listed, ack: Ack) -> None:
        status, reason = ack
        try:
            await self._client.update_status(item.doc_id, status, reason)
        except AxisError as exc:  # the item comes back at the next poll and is replayed
            log.warning("axis_ack_failed", doc_id=item.doc_id, ack=status, reason=exc.reason)


async def _edxml_sender(raw: bytes) -> str | None:
    """MessageHeader/From/OrganId, or None if the message cannot be read (the intake then
    refuses it with the precise reason)."""
    try:
        if len(raw) <= PARSE_IN_PLACE_BYTES:
            message = parse_message(raw)
        else:
            message = await asyncio.to_thread(parse_message, raw)
    except Exception:
        return None
    return message.sender.organ_id or None
