"""What several command families share: reading the configuration file, and calling the ops
listener of a running gateway with an operator token."""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path
from typing import Any

import aiohttp

from gateway.config import ConfigError, Settings, load_settings


def settings_or_exit(path: Path) -> Settings:
    """The configuration in `path`, or exit with the reason it cannot be used."""
    try:
        return load_settings(path)
    except ConfigError as exc:
        raise SystemExit(f"edocgw: configuration error: {exc}") from None


DEFAULT_OPS_URL = "http://127.0.0.1:9090"


class OpsCallFailed(SystemExit):
    pass


async def _call(args: argparse.Namespace, method: str, path: str, **params: str) -> Any:
    token = args.token or os.environ.get("EDOCGW_TOKEN")
    if not token:
        raise OpsCallFailed("edocgw: give an operator token with --token or EDOCGW_TOKEN")
    headers = {"Authorization": f"Bearer {token}"}
    url = args.url.rstrip("/") + path
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http,
            http.request(method, url, params=params or None, headers=headers) as response,
        ):
            body = await response.json(content_type=None)
            if response.status >= 400:
                raise OpsCallFailed(
                    f"edocgw: {response.status} {body.get('code')}: {body.get('detail')}"
                )
            return body
    except aiohttp.ClientError as exc:
        raise OpsCallFailed(f"edocgw: cannot reach {url}: {exc}") from None


def ops_call(args: argparse.Namespace, method: str, path: str, **params: str) -> Any:
    return asyncio.run(_call(args, method, path, **params))


def ops_connection_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", default=DEFAULT_OPS_URL, help="the ops listener")
    parser.add_argument("--token", help="an operator token (default: $EDOCGW_TOKEN)")
