"""The configuration file: validated in full, and a bad one stops start-up naming the key."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gateway.config import MIB, ConfigError, load_settings
from tests.harness import config_toml

GOOD_TOKEN = "a" * 64


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "gateway.toml"
    path.write_text(text)
    return path


def agency(**fields: str) -> str:
    values = {"id": "000.00.00.H26", "name": "UBND", "token_sha256": GOOD_TOKEN, **fields}
    return "[[agencies]]\n" + "".join(f'{k} = "{v}"\n' for k, v in values.items())


def test_defaults_and_relative_paths(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, agency()))
    assert settings.limits.max_document_bytes == 50 * MIB
    assert settings.server.data_dir == tmp_path / "var"
    assert (settings.bus.url, settings.database.url) == ("local", "sqlite")
    assert (settings.stats.timezone, settings.stats.target) == ("Asia/Ho_Chi_Minh", 0.9)
    assert settings.trust.signature == "required"
    assert settings.agencies[0].delivery.adapter == "mailbox"


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('[server]\nlisten = "127.0.0.1:8080"\nport = 1\n', "server.port: unknown key"),
        ("[limits]\nmax_document_bytes = 12\n", "limits.max_document_bytes"),
        ('[bus]\nurl = "kafka://x"\n', "bus.url"),
        ('[database]\nurl = "mysql://x"\n', "database.url"),
        ('[stats]\ntimezone = "Mars/Olympus"\n', "stats.timezone"),
        ("[stats]\ntarget = 1.5\n", "stats.target"),
        ('[trust]\nsignature = "sometimes"\n', "trust.signature"),
        ('[trust]\nanchors = ["missing.pem"]\n', "trust.anchors[0]: no such file"),
        (agency(token_sha256="not-hex"), "agencies[0].token_sha256"),
        (agency(id="bad id!"), "agencies[0].id"),
        (agency() + agency(token_sha256="b" * 64), "configured twice"),
        (
            agency() + '[[users]]\nname = "x"\nrole = "root"\ntoken_sha256 = "' + "c" * 64 + '"\n',
            "users[0].role",
        ),
        ('[[agencies]]\nid = "000.00.00.H26"\n', "agencies[0].name"),
        ("not toml at all = = =", "not valid TOML"),
    ],
)
def test_a_bad_file_is_refused_naming_the_key(tmp_path: Path, text: str, named: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings(write(tmp_path, text))
    assert named in str(refused.value)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such configuration file"):
        load_settings(tmp_path / "absent.toml")


def test_check_config_command(tmp_path: Path) -> None:
    good = write(
        tmp_path,
        config_toml(tmp_path / "data", listen="127.0.0.1:8080", ops_listen="127.0.0.1:9090"),
    )
    ok = subprocess.run(
        [sys.executable, "-m", "gateway", "check-config", str(good)], capture_output=True, text=True
    )
    assert ok.returncode == 0
    assert "ok (5 agencies, 2 users" in ok.stdout

    bad = tmp_path / "bad.toml"
    bad.write_text(agency() + '[agencies.delivery]\nadapter = "carrier-pigeon"\n')
    refused = subprocess.run(
        [sys.executable, "-m", "gateway", "check-config", str(bad)], capture_output=True, text=True
    )
    assert refused.returncode != 0
    assert "carrier-pigeon" in refused.stderr


def test_environment_overrides_the_connection_urls(tmp_path: Path) -> None:
    path = write(tmp_path, agency())
    environ = {
        "EDOCGW_BUS_URL": "amqp://u:p@broker:5672/",
        "EDOCGW_DATABASE_URL": "postgresql://u:p@db/edocgw",
    }
    settings = load_settings(path, environ)
    assert (settings.bus.url, settings.database.url) == (
        environ["EDOCGW_BUS_URL"],
        environ["EDOCGW_DATABASE_URL"],
    )
    with pytest.raises(ConfigError, match=r"bus\.url"):
        load_settings(path, {"EDOCGW_BUS_URL": "kafka://x"})
