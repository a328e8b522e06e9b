"""The README's five-minute tour, run as written against `edocgw demo` (only the ports change,
since the test may not own 8080 and 9090)."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.harness import free_port

README = Path(__file__).resolve().parents[2] / "README.md"


def tour_script(agency_port: int, ops_port: int) -> str:
    text = README.read_text()
    section = text[text.index("## A five-minute tour") :]
    script = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert script is not None, "the README has no tour"
    body = script.group(1)
    body = body.replace(".venv/bin/edocgw", f"{sys.executable} -m gateway")
    body = body.replace("127.0.0.1:8080", f"127.0.0.1:{agency_port}")
    return body.replace("127.0.0.1:9090", f"127.0.0.1:{ops_port}")


@pytest.fixture
async def demo(tmp_path: Path) -> AsyncIterator[tuple[Path, int, int]]:
    agency_port, ops_port = free_port(), free_port()
    log = (tmp_path / "demo.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gateway",
            "demo",
            "--dir",
            "var/demo",
            "--listen",
            f"127.0.0.1:{agency_port}",
            "--ops-listen",
            f"127.0.0.1:{ops_port}",
        ],
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(300):
                try:
                    async with http.get(f"http://127.0.0.1:{ops_port}/readyz") as response:
                        if (
                            response.status == 200
                            and "Demo traffic just sent" in (tmp_path / "demo.log").read_text()
                        ):
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
            else:
                raise AssertionError((tmp_path / "demo.log").read_text()[-3000:])
        yield tmp_path, agency_port, ops_port
    finally:
        process.terminate()
        assert process.wait(timeout=30) == 0
        log.close()


async def test_the_tour_works_verbatim_and_again(demo: tuple[Path, int, int]) -> None:
    folder, agency_port, ops_port = demo
    for _ in range(2):  # the second run against the same demo works as the first did
        result = subprocess.run(
            ["bash", "-u", "-c", tour_script(agency_port, ops_port)],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr, result.stderr
        check_tour_output(result.stdout)


def check_tour_output(out: str) -> None:
    assert '{"status": "ok"}' in out
    assert out.count('"document_id": "000.00.13.H26,') >= 2  # the 202 and the 200 answers
    assert "HTTP 200" in out
    assert '"code": "sender_mismatch"' in out
    assert "<edXML" in out and "ack: HTTP 204" in out
    assert '"event": "acked"' in out and '"status": "verified"' in out
    assert re.search(r'edocgw_messages_accepted_total\{kind="edoc"\} [1-9]', out)
