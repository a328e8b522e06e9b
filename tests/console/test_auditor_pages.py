"""An auditor in the console, in headless Chromium, on real traffic: statistics equal to the
API's figures, a download from the browser, the audit log and its verification; and in the
browser too: the wrong role, a form without its token, an expired session."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from gateway.config import AgencySettings
from tests.console.browser import Browser
from tests.console.conftest import AUDITOR, OPERATOR, MovableClock, console_settings
from tests.factories import document_bytes
from tests.harness import AUDITOR_TOKEN, BA_DINH, CITY, FINANCE, HOME_AFFAIRS, bearer
from tests.waiting import eventually

LONG_NAME = (
    "Ban Quản lý các khu công nghiệp và chế xuất thành phố Hà Nội, Văn phòng đại diện "
    "tại các quận huyện phía Nam và phía Tây của thành phố"
)
LONG_ID = "000.00.99.H26"
API_STATS = "/v1/stats/exchanges?from=2026-01-01&to=2026-01-31&period=month&by=agency"


async def traffic(net: Any) -> None:
    """Finance sends two documents electronically and declares one on paper; the city one."""
    for recipients in ((CITY.id, HOME_AFFAIRS.id), (BA_DINH.id,)):
        status, _ = await net[FINANCE.id].submit(
            document_bytes(sender=FINANCE.id, recipients=recipients)
        )
        assert status == 202
    status, _ = await net[CITY.id].submit(document_bytes(sender=CITY.id, recipients=(LONG_ID,)))
    assert status == 202
    body = {"document_id": "P-1", "recipients": [CITY.id], "dispatched_on": "2026-01-14"}
    paper = await net.client.post(
        "/v1/paper-dispatches", json=body, headers=net[FINANCE.id].headers
    )
    assert paper.status == 201


async def test_an_auditor_sees_the_api_figures_downloads_them_and_verifies_the_log(
    net_factory: Callable[..., Awaitable[Any]],
    open_browser: Callable[[Any], Awaitable[Browser]],
    tmp_path: Path,
    clock: MovableClock,
) -> None:
    settings = console_settings(tmp_path / "data")
    long_named = AgencySettings(id=LONG_ID, name=LONG_NAME, group="district")
    settings = dataclasses.replace(settings, agencies=(*settings.agencies, long_named))
    net = await net_factory(settings, clock=clock)
    await traffic(net)
    browser = await open_browser(net)
    await browser.sign_in(*AUDITOR)

    await browser.open("/stats?kind=month&month=2026-01&by=agency")
    api = await (await net.ops.get(API_STATS, headers=bearer(AUDITOR_TOKEN))).json()
    assert len(api) == len(await browser.texts("#stats tbody tr")) == 6
    for row in api:
        ratio = "–" if row["ratio"] is None else f"{row['ratio'] * 100:.1f}%"
        figures = ("electronic", "paper", "secret_excluded", "with_paper_copy", "undelivered")
        expected = [row[name] for name in figures]
        assert await numbers(browser, row["agency"]) == [*map(str, expected), ratio]
    finance = await browser.text(f'tr[data-key="{FINANCE.id}"]')
    assert FINANCE.name in finance
    order = await browser.script(
        "return [...document.querySelectorAll('#stats tbody tr')].map(r => r.dataset.key)"
    )
    assert order[:2] == [FINANCE.id, CITY.id]  # 75% then 100%: worst first
    assert await numbers(browser, "total") == ["4", "1", "0", "0", "0", "80.0%"]
    assert LONG_NAME in await browser.text("#stats")
    assert await browser.fits_the_window()
    await browser.screenshot("statistics")

    await browser.click_download("#download-csv")
    csv_file = await eventually(
        lambda: _listed(browser.downloads), lambda found: any(p.suffix == ".csv" for p in found)
    )
    api_csv = await net.ops.get(API_STATS + "&format=csv", headers=bearer(AUDITOR_TOKEN))
    assert next(p for p in csv_file if p.suffix == ".csv").read_text() == await api_csv.text()

    await browser.open("/audit")
    await browser.click("#verify")
    assert "Chuỗi nguyên vẹn" in await browser.text("#verification")
    log = await net.ops.get("/v1/audit/events?limit=1000", headers=bearer(AUDITOR_TOKEN))
    *before, verified = (await log.json())["events"]
    assert (verified["event"], verified["actor"]) == ("audit_verified", "audit")
    assert await browser.value("#head") == verified["data"]["head"] == before[-1]["hash"]
    await browser.open(f"/audit?event=accepted&recipient={BA_DINH.id}")
    rows = await browser.texts("#events tbody tr")
    assert len(rows) == 1 and BA_DINH.name in rows[0] and "15/01/2026 10:00" in rows[0]
    await browser.open("/audit")
    await browser.screenshot("audit-log")

    await browser.open("/queues")  # an operator's page
    assert "không có quyền" in await browser.text("main")


async def numbers(browser: Browser, key: str) -> list[str]:
    """The figures of one row of the statistics table, as shown."""
    cells = await browser.script(
        f"return [...document.querySelectorAll('tr[data-key=\"{key}\"] td.num')]"
        ".map(c => c.textContent.trim())"
    )
    return list(cells)


async def _listed(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if not p.name.endswith(".crdownload")]


async def test_in_the_browser_a_form_without_its_token_is_refused_and_sessions_expire(
    console_net: Any, open_browser: Callable[[Any], Awaitable[Browser]], clock: MovableClock
) -> None:
    browser = await open_browser(console_net)
    await browser.open("/queues")
    assert (await browser.path()).startswith("/login?next=")
    await browser.screenshot("sign-in")
    await browser.sign_in(*OPERATOR, here=True)
    assert await browser.path() == "/queues"
    await browser.script("document.querySelectorAll('input[name=csrf]').forEach(e => e.remove())")
    await browser.click(f'tr[data-agency="{FINANCE.id}"] form button')
    assert "Biểu mẫu đã cũ hoặc không hợp lệ" in await browser.text("main")
    clock.advance(31 * 60)
    await browser.open("/trust")
    assert (await browser.path()).startswith("/login?next=")
    assert "hết hạn" in await browser.text("main")
