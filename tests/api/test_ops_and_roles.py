"""The ops listener's public probes, and the rule that every route declares who may call it."""

from __future__ import annotations

from gateway.api.auth import roles_of
from tests.conftest import Net


async def test_healthz_and_readyz_answer_while_running(net: Net) -> None:
    health = await net.ops.get("/healthz")
    assert (health.status, await health.json()) == (200, {"status": "ok"})
    ready = await net.ops.get("/readyz")
    assert ready.status == 200
    assert (await ready.json())["status"] == "ready"


async def test_readyz_is_503_when_the_store_is_gone(net: Net) -> None:
    await net.gateway.db.close()
    ready = await net.ops.get("/readyz")
    assert ready.status == 503
    assert (await ready.json())["failing"] == ["store"]


async def test_metrics_are_prometheus_text_with_the_prefix(net: Net) -> None:
    await net.client.get("/v1/agencies")  # a refusal, counted
    response = await net.ops.get("/metrics")
    text = await response.text()

    assert response.status == 200
    assert response.content_type == "text/plain"
    assert 'edocgw_refusals_total{agency="anonymous",code="unauthorized"}' in text
    assert "edocgw_http_request_seconds_bucket" in text


async def test_every_route_declares_its_roles(net: Net) -> None:
    for app in (net.gateway.agency_app, net.gateway.ops_app):
        for route in app.router.routes():
            if route.method == "HEAD":
                continue
            roles = roles_of(route.handler)
            assert roles, f"{route.method} {route.resource.canonical} declares no roles"
    agency_routes = {
        r.resource.canonical: roles_of(r.handler)
        for r in net.gateway.agency_app.router.routes()
        if r.method != "HEAD" and r.resource is not None
    }
    # the OpenAPI document alone is public there (DESIGN §4.4)
    assert agency_routes.pop("/v1/openapi.json") == frozenset({"*"})
    assert set(agency_routes.values()) == {frozenset({"agency"})}


async def test_bus_metrics_count_publishes_and_deliveries(net: Net) -> None:
    from tests.api.test_exchange import wait_inbox
    from tests.factories import document_bytes
    from tests.harness import CITY, FINANCE

    def sample(text: str, name: str) -> float:
        line = next(line for line in text.splitlines() if line.startswith(name + " "))
        return float(line.split()[-1])

    before = await (await net.ops.get("/metrics")).text()
    raw = document_bytes(sender=FINANCE.id, recipients=(CITY.id,))
    assert (await net[FINANCE.id].submit(raw))[0] == 202
    await wait_inbox(net, CITY.id, 1)
    after = await (await net.ops.get("/metrics")).text()

    published = "edocgw_bus_published_total"
    delivered = 'edocgw_bus_handled_total{outcome="delivered"}'
    assert sample(after, published) - sample(before, published) == 1
    assert sample(after, delivered) - (sample(before, delivered) if delivered in before else 0) == 1
    assert "edocgw_bus_confirm_seconds_bucket" in after
    for gauge in ("queue_ready", "queue_in_flight", "queue_dead", "queue_oldest_age_seconds"):
        assert f'edocgw_{gauge}{{agency="{CITY.id}"}}' in after
