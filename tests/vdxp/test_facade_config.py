"""The configuration of the façade's callers and of agencies that hold no token."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.api.auth import Authenticator, token_sha256
from gateway.config import ConfigError, load_settings
from gateway.directory import Directory

AGENCY = """
[[agencies]]
id = "{id}"
name = "Cơ quan {id}"
{extra}
"""


def config(tmp_path: Path, *agencies: tuple[str, str]) -> Path:
    path = tmp_path / "edocgw.toml"
    path.write_text("".join(AGENCY.format(id=i, extra=extra) for i, extra in agencies))
    return path


def test_an_agency_may_hold_a_secret_a_token_both_or_neither(tmp_path: Path) -> None:
    token = token_sha256("t-1")
    settings = load_settings(
        config(
            tmp_path,
            ("000.00.13.H26", 'vdxp_secret = "finance-secret-0123456789"'),
            ("000.00.16.H26", f'token_sha256 = "{token}"'),
            (
                "H26.01",
                f'token_sha256 = "{token_sha256("t-2")}"\nvdxp_secret = "ba-dinh-secret-01234"\n'
                'vdxp_systemid = "vxp.badinh"\nvdxp_window_s = 900',
            ),
            ("000.00.00.G22", 'delivery = { adapter = "mailbox" }'),
        )
    )

    by_id = {a.id: a for a in settings.agencies}
    assert by_id["000.00.13.H26"].token_sha256 is None
    assert by_id["000.00.00.G22"].vdxp_secret is None
    assert (by_id["H26.01"].vdxp_systemid, by_id["H26.01"].vdxp_window_s) == ("vxp.badinh", 900)
    Authenticator(settings, Directory(settings))


@pytest.mark.parametrize(
    ("agencies", "message"),
    [
        (
            [("A.1", 'vdxp_secret = "short"')],
            r"agencies\[0\]\.vdxp_secret: Value error, a secret of at least 16 characters",
        ),
        (
            [("A.1", 'vdxp_secret = "env:EDOCGW_TEST_UNSET_FACADE_SECRET"')],
            "environment variable EDOCGW_TEST_UNSET_FACADE_SECRET is not set",
        ),
        (
            [
                ("A.1", 'vdxp_secret = "first-secret-0123456789"\nvdxp_systemid = "vxp.x"'),
                ("A.2", 'vdxp_secret = "second-secret-0123456789"\nvdxp_systemid = "vxp.x"'),
            ],
            "two agencies share one systemid",
        ),
        ([("A.1", "vdxp_window_s = 5")], r"agencies\[0\]\.vdxp_window_s: Input should be greater"),
    ],
)
def test_bad_facade_settings_stop_start_up(
    tmp_path: Path, agencies: list[tuple[str, str]], message: str
) -> None:
    with pytest.raises(ConfigError, match=message) as raised:
        load_settings(config(tmp_path, *agencies))
    assert "first-secret" not in str(raised.value)


def test_a_secret_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDOCGW_TEST_FACADE_SECRET", "from-the-environment-0123")
    settings = load_settings(
        config(tmp_path, ("A.1", 'vdxp_secret = "env:EDOCGW_TEST_FACADE_SECRET"'))
    )
    assert settings.agencies[0].vdxp_secret == "env:EDOCGW_TEST_FACADE_SECRET"
    Authenticator(settings, Directory(settings))
