"""The embedded default beside RabbitMQ + PostgreSQL, in one run (issue 5). Prints a table.

    .venv/bin/python -m bench.compare                       # signed 10 kB, then the X-Road mix
    .venv/bin/python -m bench.compare --scenario signed --scenario rate300

Each scenario runs `bench.load` twice in a row with the same arguments: once on the embedded
bus and SQLite, once with `--bus-url` and a fresh PostgreSQL database (created from
`--postgres-url`, dropped afterwards). The table gives docs/s end to end and the p99 submit
latency of each, their ratio, and the CPU other processes took meanwhile (RabbitMQ and
PostgreSQL themselves, the gateway's worker processes, or neighbours on a shared machine):
figures from a run where that is high for one side only are not comparable.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import asyncpg
from tabulate import tabulate

SCENARIOS: dict[str, list[str]] = {
    "signed": ["--size", "10k", "--concurrency", "32", "--duration", "15", "--signed"],
    "xroad": ["--mix", "xroad", "--concurrency", "16", "--duration", "30"],
    "unsigned": ["--size", "10k", "--concurrency", "32", "--duration", "15"],
    "rate300": ["--size", "10k", "--rate", "300", "--duration", "15"],
}


def load(arguments: list[str], out: Path) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.load", *arguments, "--json", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if not out.exists():
        raise SystemExit(f"bench.load failed ({done.returncode}):\n{done.stderr[-3000:]}")
    record: dict[str, Any] = json.loads(out.read_text())
    return record


async def create_database(admin_url: str, name: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def drop_database(admin_url: str, name: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def database_url(admin_url: str, name: str) -> str:
    base, _, _ = admin_url.rpartition("/")
    return f"{base}/{name}"


def summary(record: dict[str, Any]) -> tuple[float, float, float | None]:
    others = record["cpu"]["other_processes_cores"]
    return record["docs_per_s_acked"], record["submit_latency_ms"]["p99"], others


def run(args: argparse.Namespace) -> list[list[Any]]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="edocgw-compare-") as tmp:
        for name in args.scenario or ["signed", "xroad"]:
            scenario = SCENARIOS[name]
            print(f"{name}: embedded ...", file=sys.stderr, flush=True)
            embedded = load(scenario, Path(tmp) / f"{name}-embedded.json")
            database = f"edocgw_compare_{secrets.token_hex(4)}"
            asyncio.run(create_database(args.postgres_url, database))
            try:
                print(f"{name}: RabbitMQ + PostgreSQL ...", file=sys.stderr, flush=True)
                brokered = load(
                    [
                        *scenario,
                        "--bus-url",
                        args.amqp_url,
                        "--database-url",
                        database_url(args.postgres_url, database),
                    ],
                    Path(tmp) / f"{name}-brokered.json",
                )
            finally:
                asyncio.run(drop_database(args.postgres_url, database))
            (e_rate, e_p99, e_others), (b_rate, b_p99, b_others) = (
                summary(embedded),
                summary(brokered),
            )
            rows.append(
                [
                    name,
                    f"{e_rate:.1f}",
                    f"{e_p99:.0f}",
                    f"{b_rate:.1f}",
                    f"{b_p99:.0f}",
                    f"{b_rate / e_rate:.2f}" if e_rate else "-",
                    _cores(e_others),
                    _cores(b_others),
                ]
            )
    return rows


def _cores(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench.compare", description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", action="append", choices=sorted(SCENARIOS))
    parser.add_argument("--amqp-url", default="amqp://guest:guest@127.0.0.1:5672/")
    parser.add_argument(
        "--postgres-url",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="a database to connect to while creating and dropping the bench's own",
    )
    rows = run(parser.parse_args())
    headers = [
        "scenario",
        "embedded docs/s",
        "p99 ms",
        "RabbitMQ+PG docs/s",
        "p99 ms",
        "ratio",
        "others (emb.)",
        "others (RMQ+PG)",
    ]
    print(tabulate(rows, headers=headers))


if __name__ == "__main__":
    main()
