"""The OpenAPI documents (schemas/openapi-*.json) name exactly the routes each listener serves,
and each listener serves its own at /v1/openapi.json without authentication."""

from __future__ import annotations

import json
from typing import Any

import pytest
import schemathesis
from aiohttp import web
from openapi_core import OpenAPI

from gateway.api.openapi import openapi_document
from tests.conftest import Net

METHODS = {"get", "put", "post", "delete", "patch", "options", "head", "trace"}


def served(app: web.Application) -> set[tuple[str, str]]:
    """(METHOD, path template) of every API route the app registered; HEAD comes with each GET.
    The console's pages (gateway.console, DESIGN §4.6) are HTML for people, not the API."""
    return {
        (route.method, route.resource.canonical)
        for route in app.router.routes()
        if route.resource is not None
        and route.method != "HEAD"
        and not getattr(route.handler, "__module__", "").startswith("gateway.console")
    }


def documented(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in METHODS
    }


@pytest.mark.parametrize("listener", ["agency", "ops"])
async def test_the_document_names_exactly_the_routes_of_its_listener(
    net: Net, listener: str
) -> None:
    app = net.gateway.agency_app if listener == "agency" else net.gateway.ops_app
    document = json.loads(openapi_document(listener))  # type: ignore[arg-type]

    assert sorted(served(app) - documented(document)) == [], "served but not documented"
    assert sorted(documented(document) - served(app)) == [], "documented but not served"


@pytest.mark.parametrize("listener", ["agency", "ops"])
async def test_each_listener_serves_its_document_without_a_token(net: Net, listener: str) -> None:
    client = net.client if listener == "agency" else net.ops
    response = await client.get("/v1/openapi.json")

    assert response.status == 200
    assert response.content_type == "application/json"
    body = await response.json()
    assert body == json.loads(openapi_document(listener))  # type: ignore[arg-type]
    assert body["openapi"].startswith("3.1")


@pytest.mark.parametrize("listener", ["agency", "ops"])
def test_the_document_is_a_valid_openapi_3_1_document(listener: str) -> None:
    document = json.loads(openapi_document(listener))  # type: ignore[arg-type]
    OpenAPI.from_dict(document)  # validates it, naming the place of anything 3.1 does not allow
    schema = schemathesis.openapi.from_dict(document)

    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == len(documented(document))


def test_every_authenticated_operation_says_which_role_it_admits() -> None:
    for listener, roles in (("agency", {"agency", "vdxp"}), ("ops", {"operator", "auditor"})):
        document = json.loads(openapi_document(listener))  # type: ignore[arg-type]
        for path, item in document["paths"].items():
            for method, operation in item.items():
                public = operation.get("security") == []
                tags = set(operation["tags"])
                assert tags == {"public"} if public else tags <= roles and tags, (method, path)
