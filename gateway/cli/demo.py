"""`edocgw demo`: a working gateway with the city's agencies, in one command.

Writes a configuration (tokens are generated once and kept in `tokens.env`; a development PKI
is created once in `pki/`, and every agency must sign), starts the gateway on the embedded bus
and SQLite, sends a little signed traffic between agencies through the real HTTP API, and
prints what a new user needs to try it by hand.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from gateway.api.auth import token_sha256
from gateway.app import serve
from gateway.config import Settings, load_settings
from gateway.console.passwords import hash_password
from gateway.edxml import Organization, StatusCode, to_xml
from gateway.edxml.compose import compose_document, compose_status, pdf_attachment
from gateway.log import get_logger
from gateway.trust.pdf import simple_pdf
from gateway.trust.pki import DevPki
from gateway.trust.signers import Signers, ensure_dev_pki

log = get_logger(__name__)


@dataclass(frozen=True)
class DemoAgency:
    key: str  # the shell variable suffix: TOKEN_<key>
    id: str
    name: str
    group: str

    def organization(self) -> Organization:
        return Organization(self.id, self.name, "UBND Thành phố Hà Nội")


AGENCIES = (
    DemoAgency("CITY", "000.00.00.H26", "UBND Thành phố Hà Nội", "city"),
    DemoAgency("FINANCE", "000.00.13.H26", "Sở Tài chính", "department"),
    DemoAgency("HOME_AFFAIRS", "000.00.16.H26", "Sở Nội vụ", "department"),
    DemoAgency("ICT", "000.00.19.H26", "Sở Thông tin và Truyền thông", "department"),
    DemoAgency("BA_DINH", "H26.01", "UBND Quận Ba Đình", "district"),
    DemoAgency("HOAN_KIEM", "H26.02", "UBND Quận Hoàn Kiếm", "district"),
    DemoAgency("GOV_OFFICE", "000.00.00.G22", "Văn phòng Chính phủ", "central"),
)
USERS = (("OPERATOR", "ops", "operator"), ("AUDITOR", "audit", "auditor"))
BY_KEY = {a.key: a for a in AGENCIES}


def load_or_create_tokens(path: Path) -> dict[str, str]:
    """The demo's bearer tokens, generated on the first run and reused afterwards."""
    tokens: dict[str, str] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            if line.startswith("export TOKEN_"):
                key, _, value = line.removeprefix("export TOKEN_").partition("=")
                tokens[key] = value
    wanted = [a.key for a in AGENCIES] + [key for key, _, _ in USERS]
    if sorted(tokens) != sorted(wanted):
        tokens = {key: secrets.token_urlsafe(24) for key in wanted}
        lines = ["# edoc-gateway demo tokens: load them with  . var/demo/tokens.env"]
        lines += [f"export TOKEN_{key}={value}" for key, value in tokens.items()]
        path.write_text("\n".join(lines) + "\n")
        path.chmod(0o600)
    return tokens


def config_text(tokens: dict[str, str], listen: str, ops_listen: str, trust: list[str]) -> str:
    lines = [
        "# Written by `edocgw demo`; tokens are in tokens.env (only their SHA-256 is here).",
        "[server]",
        f'listen = "{listen}"',
        f'ops_listen = "{ops_listen}"',
        'data_dir = "data"',
        "",
        *trust,
    ]
    for agency in AGENCIES:
        lines += [
            "",
            "[[agencies]]",
            f'id = "{agency.id}"',
            f'name = "{agency.name}"',
            f'group = "{agency.group}"',
            f'token_sha256 = "{token_sha256(tokens[agency.key])}"',
            'pdf_signatures = "report"',
        ]
    for key, name, role in USERS:
        lines += [
            "",
            "[[users]]",
            f'name = "{name}"',
            f'role = "{role}"',
            f'token_sha256 = "{token_sha256(tokens[key])}"',
            f'password_argon2 = "{hash_password(console_password(tokens, key))}"',
        ]
    return "\n".join(lines) + "\n"


def console_password(tokens: dict[str, str], key: str) -> str:
    """A demo user's console password: short enough to type, random per demo folder."""
    return tokens[key][:12]


def write_tour_documents(folder: Path, signers: Signers) -> None:
    """The README tour's document, signed: a new DocumentId each run, so that the tour's first
    POST answers 202 and its second 200, however many times the demo was started."""
    folder.mkdir(parents=True, exist_ok=True)
    finance, home_affairs = BY_KEY["FINANCE"], BY_KEY["HOME_AFFAIRS"]
    pdf = simple_pdf("So Tai chinh - de nghi bo sung du toan ngan sach 2026")
    tour = compose_document(
        finance.organization(),
        [home_affairs.organization()],
        number=time.strftime("%H%M%S") + f"{time.time_ns() // 1_000_000 % 1000:03d}",
        notation="STC-NS",
        subject="V/v đề nghị bổ sung dự toán ngân sách năm 2026",
        attachments=[pdf_attachment("de-nghi-STC-NS.pdf", signers.sign_pdf(finance.id, pdf))],
    )
    (folder / "finance-to-home-affairs.edxml").write_bytes(signers.sign(finance.id, to_xml(tour)))


async def send_demo_traffic(base_url: str, tokens: dict[str, str], signers: Signers) -> list[str]:
    """A few documents and statuses between agencies; returns a line per step for the banner."""
    run = time.strftime("%H%M%S")
    steps: list[str] = []
    async with aiohttp.ClientSession(base_url) as http:

        async def post(key: str, path: str, body: bytes) -> dict[str, object]:
            headers = {"Authorization": f"Bearer {tokens[key]}", "Content-Type": "application/xml"}
            signed = signers.sign(BY_KEY[key].id, body)
            async with http.post(path, data=signed, headers=headers) as response:
                answer: dict[str, object] = await response.json(content_type=None)
                steps.append(f"{BY_KEY[key].name}: POST {path} -> {response.status}")
                return answer

        city = BY_KEY["CITY"].organization()
        districts = [BY_KEY[k].organization() for k in ("BA_DINH", "HOAN_KIEM")]
        departments = [BY_KEY[k].organization() for k in ("FINANCE", "HOME_AFFAIRS", "ICT")]
        plan = compose_document(
            city,
            departments + districts,
            number=f"{run}1",
            notation="UBND-KH",
            subject="Kế hoạch chuyển đổi số năm 2026 của Thành phố",
        )
        await post("CITY", "/v1/documents", to_xml(plan))
        urgent = compose_document(
            BY_KEY["FINANCE"].organization(),
            [city],
            number=f"{run}2",
            notation="STC-BC",
            subject="Báo cáo nhanh tình hình thu ngân sách tháng 11",
            priority=2,
        )
        await post("FINANCE", "/v1/documents", to_xml(urgent))
        report = compose_document(
            city,
            [BY_KEY["GOV_OFFICE"].organization()],
            number=f"{run}3",
            notation="UBND-BC",
            subject="Báo cáo kết quả liên thông văn bản điện tử năm 2026",
        )
        await post("CITY", "/v1/documents", to_xml(report))
        for key, code in (("FINANCE", StatusCode.ACCEPTED), ("BA_DINH", StatusCode.ARRIVED)):
            status = compose_status(BY_KEY[key].organization(), plan, code)
            await post(key, "/v1/statuses", to_xml(status))
    return steps


def banner(
    folder: Path, listen: str, ops_listen: str, steps: list[str], tokens: dict[str, str]
) -> str:
    rows = "\n".join(f"  {a.id:<15} {a.name:<30} $TOKEN_{a.key}" for a in AGENCIES)
    done = "\n".join(f"  {s}" for s in steps)
    return f"""
edoc-gateway demo is running.

  agency API     http://{listen}
  ops listener   http://{ops_listen}   (/healthz, /readyz, /metrics)
  configuration  {folder / "gateway.toml"}
  tokens         {folder / "tokens.env"}   (load them:  . {folder / "tokens.env"})
  signatures     required; keys and certificates in {folder / "pki"}
                 (edocgw sign --key K --cert C IN > OUT;  edocgw verify --config F IN)

Agencies:
{rows}
Operator: $TOKEN_OPERATOR   Auditor: $TOKEN_AUDITOR

Console (browser): http://{ops_listen}/
  operator  name ops     password {console_password(tokens, "OPERATOR")}
  auditor   name audit   password {console_password(tokens, "AUDITOR")}

Demo traffic just sent:
{done}

Try:  curl -s -H "Authorization: Bearer $TOKEN_CITY" http://{listen}/v1/inbox
Stop with Ctrl-C.
"""


def demo_pki(folder: Path) -> DevPki:
    """The demo's development PKI (gateway.trust.pki), made on the first run."""
    return ensure_dev_pki(folder / "pki", [(a.id, a.name) for a in AGENCIES])


def prepare(folder: Path, listen: str, ops_listen: str) -> tuple[Settings, dict[str, str]]:
    """Write the demo's configuration, tokens and tour documents; return what to run."""
    folder.mkdir(parents=True, exist_ok=True)
    tokens = load_or_create_tokens(folder / "tokens.env")
    config = folder / "gateway.toml"
    pki = demo_pki(folder)
    config.write_text(config_text(tokens, listen, ops_listen, pki.trust_section(folder)))
    write_tour_documents(folder / "documents", Signers(pki))
    return load_settings(config), tokens


def new_tour_document(folder: Path) -> Path:
    """A fresh tour document (a new DocumentId), so the tour can be run again and again."""
    write_tour_documents(folder / "documents", Signers(demo_pki(folder)))
    return folder / "documents" / "finance-to-home-affairs.edxml"


async def run_demo(folder: Path, settings: Settings, tokens: dict[str, str]) -> None:
    """Serve the prepared demo until SIGINT/SIGTERM, after sending its traffic."""
    listen, ops_listen = settings.server.listen, settings.server.ops_listen
    ready = asyncio.Event()
    server = asyncio.create_task(serve(settings, ready=ready, config_path=folder / "gateway.toml"))
    waiter = asyncio.create_task(ready.wait())
    await asyncio.wait({server, waiter}, return_when=asyncio.FIRST_COMPLETED)
    if server.done():  # it failed to start: show why
        waiter.cancel()
        await server
        return
    steps = await send_demo_traffic(f"http://{listen}", tokens, Signers(demo_pki(folder)))
    print(banner(folder, listen, ops_listen, steps, tokens), flush=True)
    await server
