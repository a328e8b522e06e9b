"""docker/compose.yaml cannot run here (no container engine): check its wiring instead."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml
from prometheus_client import REGISTRY

import gateway.app  # noqa: F401 - declares every metric the gateway exports
from gateway.config import load_settings

DOCKER = Path(__file__).resolve().parents[2] / "docker"


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    return loaded


def test_services_are_the_three_node_cluster_postgres_two_gateways_and_prometheus() -> None:
    services = compose()["services"]
    assert set(services) == {
        "rabbitmq-1",
        "rabbitmq-2",
        "rabbitmq-3",
        "postgres",
        "gateway-1",
        "gateway-2",
        "prometheus",
        "grafana",
    }
    for name in ("rabbitmq-1", "rabbitmq-2", "rabbitmq-3", "postgres", "gateway-1", "gateway-2"):
        assert "healthcheck" in services[name], name


def test_gateways_wait_for_healthy_dependencies_and_reach_them_by_name() -> None:
    services = compose()["services"]
    for name in ("gateway-1", "gateway-2"):
        gateway = services[name]
        assert gateway["depends_on"] == {
            dep: {"condition": "service_healthy"}
            for dep in ("postgres", "rabbitmq-1", "rabbitmq-2", "rabbitmq-3")
        }
        env = gateway["environment"]
        assert (
            env["EDOCGW_BUS_URL"].startswith("amqp://")
            and "@rabbitmq-1:5672" in env["EDOCGW_BUS_URL"]
        )
        assert "@postgres:5432/" in env["EDOCGW_DATABASE_URL"]
        assert gateway["build"]["dockerfile"] == "docker/Dockerfile"
        assert (DOCKER / gateway["build"]["context"]).resolve() == DOCKER.parent


def test_the_cluster_forms_from_the_three_nodes() -> None:
    conf = (DOCKER / "rabbitmq.conf").read_text()
    services = compose()["services"]
    for number in (1, 2, 3):
        assert f"rabbit@rabbitmq-{number}" in conf
        assert services[f"rabbitmq-{number}"]["hostname"] == f"rabbitmq-{number}"
    cookies = {
        services[f"rabbitmq-{n}"]["environment"]["RABBITMQ_ERLANG_COOKIE"] for n in (1, 2, 3)
    }
    assert len(cookies) == 1


def test_prometheus_scrapes_both_gateways_ops_listener() -> None:
    scrape = yaml.safe_load((DOCKER / "prometheus.yml").read_text())["scrape_configs"][0]
    assert scrape["metrics_path"] == "/metrics"
    assert scrape["static_configs"][0]["targets"] == ["gateway-1:9090", "gateway-2:9090"]


def test_the_gateways_configuration_is_valid_with_the_compose_environment() -> None:
    env = compose()["services"]["gateway-1"]["environment"]
    settings = load_settings(DOCKER / "gateway.toml", env)
    assert settings.bus.url == env["EDOCGW_BUS_URL"]
    assert settings.database.url == env["EDOCGW_DATABASE_URL"]
    assert settings.server.ops_listen == "0.0.0.0:9090"
    port = int(settings.server.listen.rsplit(":", 1)[1])
    assert compose()["services"]["gateway-1"]["ports"][0].endswith(f":{port}")


def test_prometheus_loads_the_alert_rules_compose_mounts() -> None:
    config = yaml.safe_load((DOCKER / "prometheus.yml").read_text())
    volumes = compose()["services"]["prometheus"]["volumes"]
    assert config["rule_files"] == ["/etc/prometheus/alerts.yml"]
    assert "./prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro" in volumes
    assert (DOCKER / "prometheus" / "alerts.yml").is_file()


def test_grafana_is_provisioned_with_prometheus_and_the_dashboard() -> None:
    grafana = compose()["services"]["grafana"]
    mounts = {  # in the container: on the host
        inside: outside
        for outside, inside in (v.rsplit(":", 1)[0].split(":", 1) for v in grafana["volumes"])
    }
    provisioning = DOCKER / mounts["/etc/grafana/provisioning"]
    [source] = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())[
        "datasources"
    ]
    assert source["url"] == "http://prometheus:9090"  # the service name and its own port
    [provider] = yaml.safe_load((provisioning / "dashboards" / "edocgw.yml").read_text())[
        "providers"
    ]
    dashboards = DOCKER / mounts[provider["options"]["path"]]
    dashboard = json.loads((dashboards / "edocgw.json").read_text())
    assert dashboard["uid"] == "edocgw-overview"
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == source["uid"], panel["title"]
        assert panel["targets"], panel["title"]


def exported_names() -> set[str]:
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count")}
    names: set[str] = set()
    for metric in REGISTRY.collect():
        names.update(metric.name + s for s in suffixes.get(metric.type, ("",)))
    return names


def test_the_dashboard_and_the_alerts_use_only_metrics_the_gateway_exports() -> None:
    dashboard = (DOCKER / "grafana" / "dashboards" / "edocgw.json").read_text()
    alerts = (DOCKER / "prometheus" / "alerts.yml").read_text()
    used = set(re.findall(r"\bedocgw_[a-z_]+", dashboard + alerts))
    used -= {"edocgw_dlq", "edocgw_queues"}  # not metrics: `edocgw dlq`, `edocgw queues`
    assert used, "no metric found"
    assert used <= exported_names(), used - exported_names()
