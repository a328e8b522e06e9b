"""A gateway in the test process, driven over HTTP as department systems and operators would."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from gateway.api.auth import token_sha256
from gateway.config import (
    AdapterSettings,
    AgencySettings,
    BusSettings,
    DeliverySettings,
    LimitSettings,
    ServerSettings,
    Settings,
    TrustSettings,
    UserSettings,
)


@dataclass(frozen=True)
class Org:
    id: str
    name: str
    group: str

    @property
    def token(self) -> str:
        return f"test-token-{self.id}"


CITY = Org("000.00.00.H26", "UBND Thành phố Hà Nội", "city")
FINANCE = Org("000.00.13.H26", "Sở Tài chính", "department")
HOME_AFFAIRS = Org("000.00.16.H26", "Sở Nội vụ", "department")
BA_DINH = Org("H26.01", "UBND Quận Ba Đình", "district")
GOV_OFFICE = Org("000.00.00.G22", "Văn phòng Chính phủ", "central")
AGENCIES = (CITY, FINANCE, HOME_AFFAIRS, BA_DINH, GOV_OFFICE)
OPERATOR_TOKEN = "test-token-operator"
AUDITOR_TOKEN = "test-token-auditor"


def make_settings(
    data_dir: Path,
    *,
    signature: str = "optional",
    agencies: tuple[Org, ...] = AGENCIES,
    deliveries: Mapping[str, DeliverySettings] | None = None,
    **sections: Any,
) -> Settings:
    deliveries = deliveries or {}
    return Settings(
        server=ServerSettings(data_dir=data_dir, worker_processes=0),
        bus=sections.pop("bus", BusSettings(retry_initial_s=0.05, retry_max_s=0.2)),
        adapters=sections.pop(
            "adapters", AdapterSettings(backoff_initial_s=0.05, backoff_max_s=0.2)
        ),
        limits=sections.pop("limits", LimitSettings()),
        trust=sections.pop("trust", TrustSettings(signature=signature)),  # type: ignore[arg-type]
        agencies=tuple(
            AgencySettings(
                id=a.id,
                name=a.name,
                group=a.group,
                token_sha256=token_sha256(a.token),
                delivery=deliveries.get(a.id, DeliverySettings()),
            )
            for a in agencies
        ),
        users=(
            UserSettings(name="ops", role="operator", token_sha256=token_sha256(OPERATOR_TOKEN)),
            UserSettings(name="audit", role="auditor", token_sha256=token_sha256(AUDITOR_TOKEN)),
        ),
        **sections,
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class AgencyCalls:
    """The agency API as one department system uses it."""

    def __init__(self, client: TestClient[Any, Any], agency: Org) -> None:
        self.client = client
        self.agency = agency
        self.headers = bearer(agency.token)

    async def submit(self, raw: bytes, **headers: str) -> tuple[int, dict[str, Any]]:
        response = await self.client.post(
            "/v1/documents",
            data=raw,
            headers={**self.headers, "Content-Type": "application/xml", **headers},
        )
        return response.status, await response.json(content_type=None)

    async def send_status(self, raw: bytes) -> tuple[int, dict[str, Any]]:
        response = await self.client.post(
            "/v1/statuses", data=raw, headers={**self.headers, "Content-Type": "application/xml"}
        )
        return response.status, await response.json(content_type=None)

    async def inbox(self, **query: str | int) -> dict[str, Any]:
        response = await self.client.get(
            "/v1/inbox", params={k: str(v) for k, v in query.items()}, headers=self.headers
        )
        assert response.status == 200, await response.text()
        body: dict[str, Any] = await response.json()
        return body

    async def inbox_all(self, kind: str | None = None) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        after: str | None = None
        while True:
            query: dict[str, str | int] = {"limit": 100}
            if kind:
                query["kind"] = kind
            if after:
                query["after"] = after
            page = await self.inbox(**query)
            items += page["items"]
            after = page["next"]
            if after is None:
                return items

    async def fetch(self, delivery_id: str) -> tuple[int, bytes]:
        response = await self.client.get(f"/v1/inbox/{delivery_id}", headers=self.headers)
        return response.status, await response.read()

    async def ack(self, delivery_id: str) -> int:
        response = await self.client.post(f"/v1/inbox/{delivery_id}/ack", headers=self.headers)
        return response.status

    async def trace(self, message_id: str) -> tuple[int, dict[str, Any]]:
        response = await self.client.get(f"/v1/documents/{message_id}/trace", headers=self.headers)
        return response.status, json.loads(await response.read())


def config_toml(
    data_dir: Path,
    *,
    listen: str,
    ops_listen: str,
    signature: str = "optional",
    bus_url: str = "local",
    database_url: str = "sqlite",
    agencies: tuple[Org, ...] = AGENCIES,
    deliveries: Mapping[str, Mapping[str, Any]] | None = None,
    agency_fields: Mapping[str, Mapping[str, Any]] | None = None,
) -> str:
    """The same gateway as `make_settings`, as the TOML file `edocgw serve` reads;
    `deliveries` gives agencies their `delivery = {...}` table, `agency_fields` other keys."""
    lines = [
        "[server]",
        f'listen = "{listen}"',
        f'ops_listen = "{ops_listen}"',
        f'data_dir = "{data_dir}"',
        "worker_processes = 0",
        "[bus]",
        f'url = "{bus_url}"',
        "retry_initial_s = 0.05",
        "retry_max_s = 0.2",
        "[adapters]",
        "backoff_initial_s = 0.05",
        "backoff_max_s = 0.2",
        "[database]",
        f'url = "{database_url}"',
        "[trust]",
        f'signature = "{signature}"',
    ]
    for agency in agencies:
        lines += [
            "[[agencies]]",
            f'id = "{agency.id}"',
            f'name = "{agency.name}"',
            f'group = "{agency.group}"',
            f'token_sha256 = "{token_sha256(agency.token)}"',
        ]
        if deliveries and agency.id in deliveries:
            fields = ", ".join(f"{k} = {json.dumps(v)}" for k, v in deliveries[agency.id].items())
            lines.append(f"delivery = {{ {fields} }}")
        for key, value in (agency_fields or {}).get(agency.id, {}).items():
            lines.append(f"{key} = {json.dumps(value)}")
    for name, role, token in (
        ("ops", "operator", OPERATOR_TOKEN),
        ("audit", "auditor", AUDITOR_TOKEN),
    ):
        lines += [
            "[[users]]",
            f'name = "{name}"',
            f'role = "{role}"',
            f'token_sha256 = "{token_sha256(token)}"',
        ]
    return "\n".join(lines) + "\n"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
