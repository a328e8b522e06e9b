"""`edocgw serve` in a child process, as an operator runs it, for tests that kill it."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp

from tests.harness import config_toml, free_port


class GatewayProcess:
    def __init__(self, workdir: Path, **config: str) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.ops_port = free_port()
        # a configuration folder of its own: departments' folders (under workdir) stay out of it
        self.config = workdir / "etc" / "gateway.toml"
        self.config.parent.mkdir(exist_ok=True)
        self.config.write_text(
            config_toml(
                workdir / "data",
                listen=f"127.0.0.1:{self.port}",
                ops_listen=f"127.0.0.1:{self.ops_port}",
                **config,
            )
        )
        self.log = workdir / "gateway.log"
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ops_url(self) -> str:
        return f"http://127.0.0.1:{self.ops_port}"

    async def start(self, timeout: float = 30.0) -> None:
        with self.log.open("ab") as log:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "gateway", "serve", "--config", str(self.config)],
                stdout=log,
                stderr=log,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        await self.wait_ready(timeout)

    async def wait_ready(self, timeout: float) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        async with aiohttp.ClientSession() as session:
            while True:
                assert self._proc is not None
                if self._proc.poll() is not None:
                    raise AssertionError(f"gateway exited: {self.log.read_text()[-3000:]}")
                try:
                    async with session.get(self.ops_url + "/readyz") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                if asyncio.get_running_loop().time() > deadline:
                    raise AssertionError(f"gateway not ready: {self.log.read_text()[-3000:]}")
                await asyncio.sleep(0.1)

    def kill(self) -> None:
        assert self._proc is not None
        self._proc.send_signal(signal.SIGKILL)
        self._proc.wait()

    def terminate(self) -> None:
        """SIGTERM, as an orchestrator stops it; `exit_code` then waits for the exit."""
        assert self._proc is not None
        self._proc.send_signal(signal.SIGTERM)

    async def exit_code(self, timeout: float) -> int:
        """The exit status once the process has ended; fails if it runs past `timeout` s."""
        assert self._proc is not None
        return await asyncio.to_thread(self._proc.wait, timeout)

    def stop(self) -> int:
        if self._proc is None or self._proc.poll() is not None:
            return self._proc.returncode if self._proc else 0
        self._proc.send_signal(signal.SIGTERM)
        return self._proc.wait(timeout=30)
