"""`GET /v1/openapi.json` on each listener: the OpenAPI 3.1 document of its routes.

The documents are `schemas/openapi-<listener>.json`, shipped in the wheel as
`gateway/_schemas/` like the edXML XSD; tests keep them and the routes in step.
"""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path
from typing import Literal

from aiohttp import web

from gateway.api.auth import public

Listener = Literal["agency", "ops"]


@functools.cache
def openapi_document(listener: Listener) -> bytes:
    """The document's bytes: `gateway/_schemas/` in an installed wheel, else `schemas/`."""
    name = f"openapi-{listener}.json"
    packaged = resources.files("gateway") / "_schemas" / name
    if packaged.is_file():
        return packaged.read_bytes()
    return (Path(__file__).resolve().parents[2] / "schemas" / name).read_bytes()


class OpenApi:
    def __init__(self, listener: Listener) -> None:
        self._listener: Listener = listener

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/v1/openapi.json", self.document)]

    @public
    async def document(self, request: web.Request) -> web.Response:
        return web.Response(body=openapi_document(self._listener), content_type="application/json")
