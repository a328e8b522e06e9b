"""The default delivery: documents wait in the gateway until the department pulls them.

This is the national axis' model (getReceivedEdocList / getEdoc / updateStatus): the agency
API's `/v1/inbox` lists what is held here, and the department acknowledges what it stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.adapter_api import AdapterHost, OptionsError, OutboundItem


class MailboxAdapter:
    def __init__(
        self, *, instance: str, agency: str, options: Mapping[str, Any], host: AdapterHost
    ) -> None:
        if options:
            raise OptionsError(f"unknown option(s) for the mailbox adapter: {', '.join(options)}")
        self.instance = instance
        self.agency = agency
        self._host = host

    async def start(self) -> None:
        return None

    async def deliver(self, item: OutboundItem) -> None:
        await self._host.hold_for_pickup(item)

    async def close(self) -> None:
        return None
