"""One account on the axis, shared by every agency reached through it.

The city is one system on the axis: what the ministries send to any city agency waits under
its one systemid, so one poller per account serves them all, however many ministries are
configured. A message addressed to several of them is uploaded once: the axis routes it by
its edXML To, so the other deliveries are confirmed by the same upload.

The adapter API makes one instance per agency; the instances of one account find their link
in a registry of the process, held weakly so that instances built only to check a
configuration leave nothing behind. A gateway process runs one gateway, so an account in use
is one gateway's; a link whose instances have all closed is replaced by the next one built.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from weakref import WeakValueDictionary

from adapters.vdxp.options import AxisOptions
from adapters.vdxp.poller import Poller
from gateway.adapter_api import AdapterHost, OptionsError
from gateway.vdxp.client import AxisClient

REMEMBERED_UPLOADS = 10_000
_links: WeakValueDictionary[tuple[str, str], AxisLink] = WeakValueDictionary()


def link_for(options: AxisOptions) -> AxisLink:
    """The link of `options`' account, made on first use."""
    link = _links.get(options.account)
    if link is None or not link.in_use:
        link = _links[options.account] = AxisLink(options)
    elif link.options != options:
        raise OptionsError(
            f"agencies reached through {options.url} as {options.systemid} share one poller: "
            "give them the same options"
        )
    return link


class AxisLink:
    def __init__(self, options: AxisOptions) -> None:
        self.options = options
        self.client = AxisClient(
            options.url,
            systemid=options.systemid,
            secret=options.secret,
            tz=options.tz,
            timeout_s=options.timeout_s,
        )
        self._hosts: dict[str, AdapterHost] = {}  # the agencies reached through this account
        self._running: set[str] = set()  # whose adapter is started
        self._uploads: OrderedDict[str, asyncio.Task[str]] = OrderedDict()
        self.poller: Poller | None = None

    @property
    def in_use(self) -> bool:
        return bool(self._hosts)

    def add(self, agency: str, host: AdapterHost) -> None:
        self._hosts[agency] = host

    def reached(self) -> frozenset[str]:
        """The agencies reached through this account."""
        return frozenset(self._hosts)

    def host_of(self, agency: str) -> AdapterHost | None:
        """The host of the agency's own instance (what it submits is counted under its name),
        or None if the agency is not reached through this account."""
        return self._hosts.get(agency)

    async def start(self, agency: str) -> None:
        if not self._running:
            await self.client.open()
            if self.options.poll:
                self.poller = Poller(
                    client=self.client,
                    options=self.options,
                    host_of=self.host_of,
                    reached=self.reached,
                )
                self.poller.start()
        self._running.add(agency)

    async def close(self, agency: str) -> None:
        self._running.discard(agency)
        if self._running:
            return
        if self.poller is not None:
            await self.poller.stop()
            self.poller = None
        for upload in self._uploads.values():
            upload.cancel()
        self._uploads.clear()
        await self.client.close()
        self._hosts.clear()

    async def upload(self, message_id: str, raw: bytes, kind: str) -> str:
        """Send the message to the axis once, however many of its recipients ask; its DocId."""
        upload = self._uploads.get(message_id)
        if upload is None or (upload.done() and (upload.cancelled() or upload.exception())):
            upload = asyncio.ensure_future(self.client.send_edoc(raw, kind=kind))
            self._uploads[message_id] = upload
            while len(self._uploads) > REMEMBERED_UPLOADS:
                self._uploads.popitem(last=False)
        self._uploads.move_to_end(message_id)
        return await upload
