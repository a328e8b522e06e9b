"""A gateway whose operator and auditor also have console passwords, on a clock the tests move."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from gateway.config import Settings
from gateway.console.passwords import hash_password
from tests.conftest import Net
from tests.console.browser import chromium, open_browser

__all__ = ["chromium", "open_browser"]  # fixtures of tests/console/browser.py
from tests.harness import make_settings

OPERATOR = ("ops", "mật-khẩu vận hành")
AUDITOR = ("audit", "mật-khẩu kiểm toán")
_HASHES = {name: hash_password(password) for name, password in (OPERATOR, AUDITOR)}
START = datetime(2026, 1, 15, 3, 0, tzinfo=UTC).timestamp()  # 10:00 in Hà Nội


class MovableClock:
    def __init__(self, now: float = START) -> None:
        self.now = now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def __call__(self) -> float:
        return self.now


def console_settings(data_dir: Path, **sections: Any) -> Settings:
    settings = make_settings(data_dir, **sections)
    users = tuple(
        dataclasses.replace(user, password_argon2=_HASHES[user.name]) for user in settings.users
    )
    return dataclasses.replace(settings, users=users)


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
async def console_net(
    net_factory: Callable[..., Awaitable[Net]], tmp_path: Path, clock: MovableClock
) -> Net:
    return await net_factory(console_settings(tmp_path / "data"), clock=clock)


_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_in(html: str) -> str:
    found = _CSRF.search(html)
    assert found is not None, html
    return found.group(1)


async def sign_in(client: Any, name: str, password: str) -> Any:
    """The sign-in form filled in as a browser would; answers the POST's response."""
    form = await client.get("/login")
    token = csrf_in(await form.text())
    return await client.post(
        "/login",
        data={"name": name, "password": password, "csrf": token, "next": "/"},
        allow_redirects=False,
    )
