"""Real answers of a gateway checked against its OpenAPI documents (openapi-core)."""

from __future__ import annotations

import functools
import json
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from aiohttp import ClientResponse
from openapi_core import Config, OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from gateway.api.openapi import Listener, openapi_document


@functools.cache
def openapi(listener: Listener) -> OpenAPI:
    # openapi-core reads JSON only: problem details are JSON too, and text is read as UTF-8
    def text(value: bytes, **parameters: str) -> str:
        return value.decode(parameters.get("charset", "utf-8"))

    readers = {"text/csv": text, "text/html": text, "text/plain": text}
    problem = {"application/problem+json": lambda value, **_: json.loads(value)}
    config = Config(extra_media_type_deserializers={**readers, **problem})
    return OpenAPI.from_dict(json.loads(openapi_document(listener)), config=config)


async def conforms(
    listener: Listener, response: ClientResponse, body: bytes | None = None, **headers: str
) -> bytes:
    """Raise (naming the field) unless `response`, to the request it answers, is one the
    listener's document allows: its status, content type, headers and body. Returns the body."""
    url = urlsplit(str(response.url))
    request = MockRequest(
        "http://gateway",
        response.method.lower(),
        url.path,
        args=dict(parse_qsl(url.query)),
        headers={k.lower(): v for k, v in headers.items()},
        data=body,
        content_type=headers.get("Content-Type", "application/json"),
    )
    content = await response.read()
    answer = MockResponse(
        content,
        status_code=response.status,
        headers={k.lower(): v for k, v in response.headers.items()},
        content_type=response.headers.get("Content-Type", ""),
    )
    openapi(listener).validate_response(request, answer)
    return content


def loads(content: bytes) -> Any:
    return json.loads(content)
