"""check-config refuses listeners that cannot work and department folders inside the gateway's."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gateway.config import load_settings
from tests.harness import FINANCE, config_toml


def check_config(tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "etc").mkdir(exist_ok=True)
    path = tmp_path / "etc" / "gateway.toml"
    path.write_text(text)
    return subprocess.run(
        [sys.executable, "-m", "gateway", "check-config", str(path)],
        capture_output=True,
        text=True,
    )


def folders(inbox: str, outbox: str) -> dict[str, dict[str, str]]:
    return {FINANCE.id: {"adapter": "folder", "inbox": inbox, "outbox": outbox}}


@pytest.mark.parametrize(
    ("listen", "ops_listen", "deliveries", "named"),
    [
        (
            "127.0.0.1:99999",
            "127.0.0.1:9090",
            {},
            "server.listen: Value error, '127.0.0.1:99999': ",
        ),
        ("127.0.0.1:8080", "127.0.0.1:8080", {}, "server: Value error, ops_listen: 127.0.0.1:8080"),
        ("0.0.0.0:8080", "127.0.0.1:8080", {}, "server: Value error, ops_listen: 127.0.0.1:8080"),
        ("127.0.0.1:8080", "127.0.0.1:9090", folders("DATA/in", "/x/out"), "[1].delivery.inbox"),
        ("127.0.0.1:8080", "127.0.0.1:9090", folders("/x/in", "out"), "[1].delivery.outbox"),
        ("127.0.0.1:8080", "127.0.0.1:9090", folders("/x/in", "ROOT"), "[1].delivery.outbox"),
    ],
)
def test_check_config_refuses_naming_the_key(
    tmp_path: Path, listen: str, ops_listen: str, deliveries: dict[str, dict[str, str]], named: str
) -> None:
    for options in deliveries.values():  # DATA: the data folder, ROOT: what holds it all
        for key, value in options.items():
            options[key] = value.replace("DATA", str(tmp_path / "data"))
            options[key] = options[key].replace("ROOT", str(tmp_path))
    text = config_toml(
        tmp_path / "data", listen=listen, ops_listen=ops_listen, deliveries=deliveries
    )
    refused = check_config(tmp_path, text)
    assert refused.returncode != 0
    assert named in refused.stderr
    if "delivery" in named:
        assert "give the department a folder apart from the gateway's own" in refused.stderr


def test_folders_apart_and_the_connection_limits_are_accepted(tmp_path: Path) -> None:
    text = config_toml(
        tmp_path / "data",
        listen="127.0.0.1:8080",
        ops_listen="127.0.0.1:9090",
        deliveries=folders(str(tmp_path / "dept" / "in"), "../dept/out"),
    ).replace(
        "worker_processes = 0\n",
        "worker_processes = 0\nheader_timeout_s = 5\nbody_timeout_s = 60\n"
        "max_connections_per_client = 16\n",
    )
    ok = check_config(tmp_path, text)
    assert ok.returncode == 0, ok.stderr
    server = load_settings(tmp_path / "etc" / "gateway.toml").server
    assert (server.header_timeout_s, server.body_timeout_s) == (5, 60)
    assert server.max_connections_per_client == 16
