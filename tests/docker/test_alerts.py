"""The shipped Prometheus alert rules are valid and fire, and do not fire, where they should:
`promtool check rules` and `promtool test rules` (docker/prometheus/alerts_test.yml holds a
case each way per alert). promtool comes with the Debian package `prometheus`; .ci/run
installs it, so under CI a missing promtool fails instead of skipping."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

RULES = Path(__file__).resolve().parents[2] / "docker" / "prometheus"
ALERTS = {
    "EdocgwDeadLetters",
    "EdocgwAdapterBackingOff",
    "EdocgwMailboxUncollected",
    "EdocgwTrustExpiring",
    "EdocgwRefusalsSpiking",
    "EdocgwNotReady",
}


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        message = "promtool is not installed (Debian package `prometheus`)"
        if os.environ.get("CI"):
            pytest.fail(f"{message}: under CI the alert rules are always tested (.ci/run)")
        pytest.skip(message)
    return found


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [promtool(), *args], cwd=RULES, capture_output=True, text=True, timeout=120
    )


def test_the_rules_are_valid() -> None:
    result = run("check", "rules", "alerts.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 6 rules found" in result.stdout


def test_every_alert_fires_and_stays_quiet_where_it_should() -> None:
    result = run("test", "rules", "alerts_test.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_has_a_case_that_fires_and_one_that_does_not() -> None:
    rules = yaml.safe_load((RULES / "alerts.yml").read_text())
    assert {r["alert"] for g in rules["groups"] for r in g["rules"]} == ALERTS
    cases = yaml.safe_load((RULES / "alerts_test.yml").read_text())["tests"]
    checks = [check for case in cases for check in case["alert_rule_test"]]
    fired = {c["alertname"] for c in checks if c["exp_alerts"]}
    quiet = {c["alertname"] for c in checks if not c["exp_alerts"]}
    assert fired == quiet == ALERTS


def test_a_rule_that_would_not_fire_makes_the_test_fail(tmp_path: Path) -> None:
    """The test cases can fail: raise a threshold and promtool says so."""
    changed = (RULES / "alerts.yml").read_text().replace("outage_seconds) > 900", ") > 9000")
    (tmp_path / "alerts.yml").write_text(changed)
    shutil.copy(RULES / "alerts_test.yml", tmp_path / "alerts_test.yml")
    result = subprocess.run(
        [promtool(), "test", "rules", "alerts_test.yml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "EdocgwAdapterBackingOff" in result.stdout + result.stderr
