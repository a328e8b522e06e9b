"""The national axis (VDXP) bridge: agencies outside the city, reached through the axis.

An agency configured with `delivery = { adapter = "vdxp", url = ..., systemid = ...,
secret = ... }` is a ministry (or another province) that the city reaches through the national
document interconnection axis. What the city sends it is uploaded with sendEdoc, signed as the
axis' SDK signs; what it sends the city is polled (getReceivedEdocList, getEdoc), submitted
through the gateway's intake in its name and acknowledged (updateStatus done or fail).

Besides the adapter API and the edXML model, this adapter imports `gateway.vdxp`: the axis'
protocol (signing, answers, a client), which imports nothing of the gateway and is shared with
the gateway's own façade of the axis, so that both sides sign and verify with one
implementation (docs/vdxp.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters.vdxp.link import link_for
from adapters.vdxp.options import AxisOptions
from gateway.adapter_api import AdapterHost, OutboundItem, TemporaryFailure
from gateway.vdxp.client import AxisError


class VdxpAdapter:
    def __init__(
        self, *, instance: str, agency: str, options: Mapping[str, Any], host: AdapterHost
    ) -> None:
        self.instance = instance
        self.agency = agency
        self._host = host
        self._link = link_for(AxisOptions.read(options))
        self._link.add(agency, host)

    async def start(self) -> None:
        await self._link.start(self.agency)

    async def deliver(self, item: OutboundItem) -> None:
        raw = await self._host.read_body(item)
        try:
            doc_id = await self._link.upload(item.message_id, raw, item.kind)
        except AxisError as exc:
            # whatever the axis answered, an operator can fix it (secret, endpoint) and replay
            raise TemporaryFailure(exc.reason) from exc
        await self._host.confirm_delivered(item, f"national axis DocId {doc_id}")

    async def close(self) -> None:
        await self._link.close(self.agency)
