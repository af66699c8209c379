"""The command's conventions: exit codes and clear errors (DESIGN.md, README)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

EXAMPLE = os.path.join(os.path.dirname(__file__), "..", "config", "examples", "haiphong.yaml")


def citysec(*args: str, cwd: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    exe = os.path.join(os.path.dirname(sys.executable), "citysec")
    return subprocess.run([exe, *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, **(env or {})}, timeout=120)


@pytest.fixture
def city(tmp_path):
    """The example configuration, copied so its store lives in a temporary folder."""
    cfg = tmp_path / "city.yaml"
    shutil.copy(EXAMPLE, cfg)
    return cfg


def test_valid_config_exits_0_with_a_summary(city, tmp_path):
    r = citysec("--config", str(city), "config", "check", "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["agencies"] == 10
    assert summary["registered_hosts"] == 22


def test_unknown_agency_is_a_usage_error(city, tmp_path):
    r = citysec("--config", str(city), "findings", "list", "--agency", "no-such", cwd=tmp_path)
    assert r.returncode == 2
    assert "unknown agency 'no-such'" in r.stderr


def test_unknown_finding_id_is_a_usage_error(city, tmp_path):
    r = citysec("--config", str(city), "findings", "show", "ffff", cwd=tmp_path)
    assert r.returncode == 2
    assert "ffff" in r.stderr


def test_bad_option_is_exit_2(city, tmp_path):
    r = citysec("--config", str(city), "findings", "list", "--severity", "apocalyptic", cwd=tmp_path)
    assert r.returncode == 2


def test_unwritable_store_is_a_runtime_failure(city, tmp_path):
    text = city.read_text().replace("store: {path: var/citysec.db}", "store: {path: /proc/citysec/x.db}")
    city.write_text(text)
    r = citysec("--config", str(city), "status", cwd=tmp_path)
    assert r.returncode == 3
    assert "store" in r.stderr


def test_fail_on_exits_1_when_findings_reach_the_severity(city, tmp_path):
    from findings import Finding, Store
    store = Store(tmp_path / "var" / "citysec.db")
    store.record([Finding(check="exposure.telnet", agency="so-yt", verdict="fail", severity="high",
                          host_ip="198.18.40.11", port=23, transport="tcp", message="telnet open")])
    r = citysec("--config", str(city), "findings", "list", "--fail-on", "high", "--json", cwd=tmp_path)
    assert r.returncode == 1, r.stderr
    assert json.loads(r.stdout)[0]["check_id"] == "exposure.telnet"
    r = citysec("--config", str(city), "findings", "list", "--fail-on", "critical", cwd=tmp_path)
    assert r.returncode == 0
