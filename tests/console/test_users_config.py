"""Console users in the configuration, `edocgw users hash-password`, and the demo's sign-ins."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gateway.cli.demo import console_password, prepare
from gateway.config import ConfigError, load_settings
from gateway.console.passwords import hash_password, verify_password

HASH = hash_password("mật khẩu đúng")


def write(tmp_path: Path, user: str) -> Path:
    path = tmp_path / "gateway.toml"
    path.write_text(f'[[users]]\nname = "ops"\nrole = "operator"\n{user}\n', encoding="utf-8")
    return path


def test_a_user_may_have_a_password_instead_of_a_token(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, f'password_argon2 = "{HASH}"'))
    [user] = settings.users
    assert user.token_sha256 is None
    assert verify_password(user.password_argon2, "mật khẩu đúng")
    assert not verify_password(user.password_argon2, "mật khẩu sai")


def test_a_user_needs_a_token_or_a_password(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"users\[0\]: .*token_sha256, password_argon2"):
        load_settings(write(tmp_path, ""))


def test_a_password_hash_that_is_not_argon2id_stops_start_up(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"users\[0\]\.password_argon2"):
        load_settings(write(tmp_path, 'password_argon2 = "$2b$12$bcrypt-is-not-accepted"'))


def test_hash_password_reads_stdin_and_prints_an_argon2id_hash() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "gateway", "users", "hash-password"],
        input="mật khẩu mới\n",
        capture_output=True,
        text=True,
        check=True,
    )
    printed = done.stdout.strip()
    assert printed.startswith("$argon2id$")
    assert verify_password(printed, "mật khẩu mới")
    assert "mật khẩu mới" not in done.stdout + done.stderr


def test_the_demo_signs_in_its_operator_and_auditor(tmp_path: Path) -> None:
    settings, tokens = prepare(tmp_path / "demo", "127.0.0.1:18080", "127.0.0.1:19090")
    users = {user.name: user for user in settings.users}
    assert verify_password(users["ops"].password_argon2, console_password(tokens, "OPERATOR"))
    assert verify_password(users["audit"].password_argon2, console_password(tokens, "AUDITOR"))
