"""`edocgw conformance` against a running gateway, as a department integrator runs it."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from tests.e2e.process import GatewayProcess
from tests.harness import BA_DINH, CITY, FINANCE, GOV_OFFICE, HOME_AFFAIRS, free_port

SECRETS = {
    FINANCE.id: "finance-hook-secret-0123456789abcdef",
    CITY.id: "city-hook-secret-0123456789abcdef",
}


def conformance(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway", "conformance", "--timeout", "20", "--down-s", "1", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
    )


def passed_every_story(result: subprocess.CompletedProcess[str], channel: str) -> None:
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.endswith(f"8 of 8 stories passed on the {channel} channel\n")
    assert result.stdout.count(" pass ") == 8


async def test_the_stories_pass_on_each_channel_of_a_running_gateway(tmp_path: Path) -> None:
    listen = {agency: f"127.0.0.1:{free_port()}" for agency in SECRETS}
    folders = {a: tmp_path / a.replace(".", "-") for a in (HOME_AFFAIRS.id, BA_DINH.id)}
    deliveries = {
        **{
            agency: {
                "adapter": "webhook",
                "url": f"http://{listen[agency]}/",
                "hmac_secret": secret,
            }
            for agency, secret in SECRETS.items()
        },
        **{
            agency: {
                "adapter": "folder",
                "inbox": str(root / "in"),
                "outbox": str(root / "out"),
                "poll_s": 0.05,
                "settle_s": 0,
            }
            for agency, root in folders.items()
        },
    }
    gateway = GatewayProcess(tmp_path, deliveries=deliveries)
    await gateway.start()
    try:
        webhook = await asyncio.to_thread(
            conformance,
            "--channel=webhook",
            f"--url={gateway.url}",
            f"--sender={FINANCE.id}",
            f"--partner={CITY.id}",
            f"--sender-listen={listen[FINANCE.id]}",
            f"--partner-listen={listen[CITY.id]}",
            f"--sender-secret={SECRETS[FINANCE.id]}",
            EDOCGW_SENDER_TOKEN=FINANCE.token,
            EDOCGW_PARTNER_TOKEN=CITY.token,
            EDOCGW_PARTNER_HMAC_SECRET=SECRETS[CITY.id],
        )
        passed_every_story(webhook, "webhook")
        folder = await asyncio.to_thread(
            conformance,
            "--channel=folder",
            f"--sender={HOME_AFFAIRS.id}",
            f"--partner={BA_DINH.id}",
            f"--sender-inbox={folders[HOME_AFFAIRS.id] / 'in'}",
            f"--sender-outbox={folders[HOME_AFFAIRS.id] / 'out'}",
            f"--partner-inbox={folders[BA_DINH.id] / 'in'}",
            f"--partner-outbox={folders[BA_DINH.id] / 'out'}",
        )
        passed_every_story(folder, "folder")
        http = await asyncio.to_thread(
            conformance,
            f"--url={gateway.url}",
            f"--sender={GOV_OFFICE.id}",
            f"--sender-token={GOV_OFFICE.token}",
            "--partner=000.00.00.H26",
            "--story=correct_document",
        )
        # the http channel plays both parties through the agency API: both tokens are needed
        assert http.returncode == 1
        assert "--partner-token" in http.stderr
    finally:
        gateway.stop()


async def test_the_stories_pass_through_the_national_axis_facade(tmp_path: Path) -> None:
    secrets = {FINANCE.id: "finance-sdk-secret-0123456789", HOME_AFFAIRS.id: "home-sdk-0123456789"}
    fields = {
        FINANCE.id: {"vdxp_secret": secrets[FINANCE.id], "vdxp_systemid": "000.00.13.H26.SDK"},
        HOME_AFFAIRS.id: {"vdxp_secret": secrets[HOME_AFFAIRS.id]},
    }
    gateway = GatewayProcess(tmp_path, agency_fields=fields)
    await gateway.start()
    try:
        facade = await asyncio.to_thread(
            conformance,
            "--channel=vdxp",
            f"--url={gateway.url}",
            f"--sender={FINANCE.id}",
            f"--partner={HOME_AFFAIRS.id}",
            "--sender-systemid=000.00.13.H26.SDK",
            f"--sender-vdxp-secret={secrets[FINANCE.id]}",
            EDOCGW_PARTNER_VDXP_SECRET=secrets[HOME_AFFAIRS.id],
        )
        passed_every_story(facade, "vdxp")
        wrong = await asyncio.to_thread(
            conformance,
            "--channel=vdxp",
            f"--url={gateway.url}",
            f"--sender={FINANCE.id}",
            f"--partner={HOME_AFFAIRS.id}",
            "--sender-systemid=000.00.13.H26.SDK",
            "--sender-vdxp-secret=not-the-secret-0123456789",
            f"--partner-vdxp-secret={secrets[HOME_AFFAIRS.id]}",
            "--story=correct_document",
        )
        # a call signed with another secret is refused: the story fails and says why
        assert wrong.returncode == 1, wrong.stdout + wrong.stderr
        assert "0 of 1 stories passed on the vdxp channel" in wrong.stdout
        assert "unauthorized: XroadVnpt-hash-header is not the HMAC-SHA256" in wrong.stdout
    finally:
        gateway.stop()
