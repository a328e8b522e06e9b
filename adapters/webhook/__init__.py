"""Push delivery: each document and status is POSTed to the department's URL, signed.

The body is the message exactly as its sender sent it; headers name the delivery, the message,
its kind and its sender, and `Edoc-Signature` is an HMAC-SHA256 under the agency's secret over
those headers and the body (adapters/webhook/signature.py). A 2xx answer is delivery;
timeouts, connection errors, 408, 429 and 5xx are temporary (the gateway backs off from the
agency, honouring Retry-After); any other answer is a refusal for good (dead-lettered, where
an operator can replay it). Delivery is at least once: a receiver dedupes on Edoc-Delivery-Id.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import aiohttp

from adapters.webhook.answers import verdict
from adapters.webhook.options import WebhookOptions
from adapters.webhook.signature import SIGNATURE_HEADER, signature
from gateway.adapter_api import AdapterHost, OutboundItem, TemporaryFailure

__all__ = ["WebhookAdapter"]

USER_AGENT = "edocgw-webhook/1"
MAX_ANSWER_READ = 64 * 1024  # an answer's body is drained (for keep-alive), never kept


class WebhookAdapter:
    def __init__(
        self, *, instance: str, agency: str, options: Mapping[str, Any], host: AdapterHost
    ) -> None:
        self.instance = instance
        self.agency = agency
        self.options = WebhookOptions.parse(options)
        self._host = host
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.options.timeout_s),
                connector=aiohttp.TCPConnector(limit=self.options.max_connections),
                headers={"User-Agent": USER_AGENT},
            )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def headers(self, item: OutboundItem, body: bytes, now: float) -> dict[str, str]:
        headers = {
            "Content-Type": "application/xml",
            "Edoc-Timestamp": str(int(now)),
            "Edoc-Delivery-Id": item.delivery_id,
            "Edoc-Message-Id": item.message_id,
            "Edoc-Kind": item.kind,
            "Edoc-From": item.sender,
            # DocumentIds hold Vietnamese (12/QĐ-UBND): a header carries ASCII only
            "Edoc-Document-Id": quote(item.document_id, safe=",/"),
            "Edoc-To": item.recipient,
            "Edoc-Priority": str(item.priority),
            "Edoc-Attempt": str(item.attempt),
        }
        headers[SIGNATURE_HEADER] = signature(self.options.secret, headers, body)
        return headers

    async def deliver(self, item: OutboundItem) -> None:
        if self._session is None:
            raise TemporaryFailure("the webhook adapter is not started")
        body = await self._host.read_body(item)
        headers = self.headers(item, body, time.time())
        try:
            async with self._session.post(
                self.options.url, data=body, headers=headers, allow_redirects=False
            ) as answer:
                status, retry_after = answer.status, answer.headers.get("Retry-After")
                await _drain(answer)
        except TimeoutError:
            raise TemporaryFailure(
                f"the receiver did not answer within {self.options.timeout_s:g} s"
            ) from None
        except aiohttp.ClientError as exc:
            raise TemporaryFailure(f"cannot reach the receiver: {_describe(exc)}") from None
        failure = verdict(status, retry_after)
        if failure is not None:
            raise failure
        await self._host.confirm_delivered(item, f"HTTP {status}")


async def _drain(answer: aiohttp.ClientResponse) -> None:
    read = 0
    while read < MAX_ANSWER_READ:
        chunk = await answer.content.read(MAX_ANSWER_READ)
        if not chunk:
            return
        read += len(chunk)


def _describe(exc: aiohttp.ClientError) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 300 else text[:299] + "…"
