"""The floor under bench.load: what aiohttp alone costs per request on this machine.

A server that reads a POST body and answers 204, doing nothing else, in a child process; this
process posts `--count` bodies of `--size` bytes, `--concurrency` at a time, as bench.load's
client does. Prints requests/s and the CPU per request of each side. A document end to end is
about 4.4 such requests in bench.load (submit, fetch and ack for 1.5 recipients, a share of the
listings), which bounds what any gateway written on aiohttp can do on these cores.

    .venv/bin/python -m bench.http_floor [--count 20000] [--concurrency 32] [--size 10240]
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time

from aiohttp import ClientSession, TCPConnector, web

from bench.child import cpu_seconds, free_port, own_cpu


async def _answer(request: web.Request) -> web.Response:
    await request.read()
    return web.Response(status=204)


def serve(port: int) -> None:
    app = web.Application()
    app.router.add_post("/", _answer)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


async def post_all(url: str, count: int, concurrency: int, size: int) -> float:
    body = b"x" * size
    gate = asyncio.Semaphore(concurrency)
    async with ClientSession(connector=TCPConnector(limit=concurrency)) as session:

        async def one() -> None:
            async with gate, session.post(url, data=body) as response:
                await response.read()
                if response.status != 204:
                    raise RuntimeError(f"answered {response.status}")

        started = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(count)))
        return time.perf_counter() - started


async def wait_listening(url: str, within_s: float = 10.0) -> None:
    deadline = time.monotonic() + within_s
    async with ClientSession() as session:
        while True:
            try:
                async with session.post(url, data=b"") as response:
                    if response.status == 204:
                        return
            except OSError:
                if time.monotonic() > deadline:
                    raise
            await asyncio.sleep(0.05)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.http_floor", description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--size", type=int, default=10 * 1024)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)  # the child's side
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve)
        return 0
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "bench.http_floor", "--serve", str(port)])
    try:
        url = f"http://127.0.0.1:{port}/"
        asyncio.run(wait_listening(url))
        server_before, client_before = cpu_seconds(server.pid) or 0.0, own_cpu()
        elapsed = asyncio.run(post_all(url, args.count, args.concurrency, args.size))
        server_used = (cpu_seconds(server.pid) or 0.0) - server_before
        client_used = own_cpu() - client_before
    finally:
        server.terminate()
        server.wait()
    per_request = 1e6 / args.count
    print(
        f"aiohttp, {args.size}-byte POST answered 204, concurrency {args.concurrency}: "
        f"{args.count / elapsed:,.0f} requests/s; CPU per request: server "
        f"{server_used * per_request:.0f} µs, client {client_used * per_request:.0f} µs"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
