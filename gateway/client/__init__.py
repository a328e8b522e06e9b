"""A small client of the gateway's agency API for department integrators (docs/client.md).

    from gateway.client import GatewayClient, build_document, sign

    raw = sign(build_document("000.00.13.H26", ["000.00.16.H26"], subject="...",
                              number="12", notation="STC-VP"), key_path, cert_path)
    async with GatewayClient("https://gateway.example", token) as gateway:
        receipt = await gateway.send(raw)
        for item in await gateway.inbox_all():
            fetched = await gateway.fetch(item.delivery_id)
            ...
            await gateway.ack(item.delivery_id)

`SyncGatewayClient` offers the same calls without asyncio. Refusals raise `Refused`, which
carries the gateway's problem+json (`code`, `detail`...); network failures `Unreachable`.
"""

from gateway.client.build import attachment, build_document, build_status, organization, sign
from gateway.client.http import GatewayClient, SyncGatewayClient
from gateway.client.models import (
    ClientError,
    Delivery,
    Fetched,
    InboxItem,
    InboxPage,
    Receipt,
    Refused,
    StatusReceipt,
    Unreachable,
)

__all__ = [
    "ClientError",
    "Delivery",
    "Fetched",
    "GatewayClient",
    "InboxItem",
    "InboxPage",
    "Receipt",
    "Refused",
    "StatusReceipt",
    "SyncGatewayClient",
    "Unreachable",
    "attachment",
    "build_document",
    "build_status",
    "organization",
    "sign",
]
