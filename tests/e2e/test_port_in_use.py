"""A port already taken: `edocgw serve` says which option to change, without a traceback."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.harness import config_toml, free_port


@pytest.mark.parametrize("option", ["listen", "ops_listen"])
def test_a_port_in_use_names_the_option(tmp_path: Path, option: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = f"127.0.0.1:{taken.getsockname()[1]}"
        ports = {"listen": f"127.0.0.1:{free_port()}", "ops_listen": f"127.0.0.1:{free_port()}"}
        ports[option] = busy
        config = tmp_path / "gateway.toml"
        config.write_text(config_toml(tmp_path / "data", **ports))
        result = subprocess.run(
            [sys.executable, "-m", "gateway", "serve", "--config", str(config)],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert f"server.{option} = '{busy}'" in last and f"change server.{option}" in last, last
