"""`config check` sees what later commands would refuse: for each class of error, `config check`
exits 2 exactly when the command that uses that setting does (and both pass once it is fixed);
every error of a file is printed at once, each with file, YAML path and line."""

from __future__ import annotations

import ipaddress
import os
import subprocess
import sys
from pathlib import Path

import pytest

from config.validate import DRILL_BLOCK, webhook_url_problem
from exercises.range.spec import RANGE_BLOCK
from findings.notify.send import SendError, post_json

ROOT = Path(__file__).resolve().parents[2]
HAIPHONG = ROOT / "config" / "examples" / "haiphong.yaml"

SMALL = """name: t
sensor: s
sensors: [{id: s, name: S, agency: a}]
agencies:
  - {id: a, name: A, kind: ward, networks: [{cidr: 198.18.250.0/24, zone: lan, sensor: s}]}
store: {path: %s}
"""


def citysec(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    argv = [sys.executable, "-c", "from citysec.cli import main; main()", *args]
    return subprocess.run(argv, capture_output=True, text=True, cwd=cwd, timeout=300,
                          env={**os.environ, "CITYSEC_USER": "tester", "CI": "1"}, check=False)


def city(tmp_path: Path, extra: str, base: str = "small") -> Path:
    path = tmp_path / "city.yaml"
    if base == "small":
        text = SMALL % (tmp_path / "citysec.db") + extra
    else:    # the Hải Phòng example (its agencies, which the built-in scenarios name), included
        text = f"include: {HAIPHONG}\n" + extra
    path.write_text(text, encoding="utf-8")
    return path


# (what, bad YAML, the fixed YAML, the command that uses the setting, base config)
CASES = [
    ("schedule", "schedules: {discovery: every fortnight}\n", "schedules: {discovery: every 2 weeks}\n",
     ("status", "--json"), "small"),
    ("schedule time", "schedules: {services: 'every day at 25:00'}\n", "schedules: {services: 'every day at 23:00'}\n",
     ("status", "--json"), "small"),
    ("weights", "reports: {weights: {coverage: 1, popularity: 1}}\n", "reports: {weights: {coverage: 1, drills: 1}}\n",
     ("report", "ranking", "--period", "2026-H2", "--format", "json"), "small"),
    ("negative weight", "reports: {weights: {coverage: 2, drills: -1}}\n", "reports: {weights: {coverage: 2, drills: 0}}\n",
     ("report", "ranking", "--period", "2026-H2", "--format", "json"), "small"),
    ("digest webhook", "notify: {digests: {webhooks: [soc]}}\n",
     "notify: {webhooks: {soc: 'http://127.0.0.1:9/x'}, digests: {webhooks: [soc], email: false}}\n",
     ("run", "--once", "--only", "triage"), "small"),
    ("webhook url", "notify: {webhooks: {soc: 'file:///etc/passwd'}, digests: {webhooks: [soc], email: false}}\n",
     "notify: {webhooks: {soc: 'https://127.0.0.1:9/x'}, digests: {webhooks: [soc], email: false}}\n",
     ("run", "--once", "--only", "triage"), "small"),
    ("approved target", "exercises:\n  approved_targets: [{address: 8.8.8.8, approved_by: G, reference: R}]\n",
     "exercises:\n  approved_targets: [{address: 198.19.7.7, approved_by: G, reference: R}]\n",
     ("exercise", "validate", "ransomware-district"), "haiphong"),
]


@pytest.mark.parametrize("what, bad, good, command, base", CASES, ids=[c[0] for c in CASES])
def test_config_check_fails_exactly_when_the_using_command_does(tmp_path, what, bad, good, command, base):
    for yaml_text, expect in ((bad, 2), (good, 0)):
        path = city(tmp_path, yaml_text, base)
        check = citysec(tmp_path, "--config", str(path), "config", "check")
        used = citysec(tmp_path, "--config", str(path), *command)
        assert (check.returncode, used.returncode) == (expect, expect), (what, check.stderr, used.stderr)
        if expect == 2:
            assert f"{path}: line " in check.stderr and "Traceback" not in check.stderr + used.stderr


def test_every_error_is_printed_at_once_with_file_path_and_line(tmp_path):
    path = city(tmp_path, "schedules: {discovery: every fortnight}\n"
                          "reports: {weights: {coverage: 1, popularity: 2}}\n"
                          "notify:\n  webhooks: {soc: 'ftp://h/x'}\n  digests: {webhooks: [nope]}\n"
                          "exercises:\n  approved_targets: [{address: 8.8.8.8, approved_by: G, reference: R}]\n")
    r = citysec(tmp_path, "--config", str(path), "config", "check")
    assert r.returncode == 2
    lines = [line.strip() for line in r.stderr.splitlines()[1:]]
    assert lines == [
        (f"{path}: line 7: schedules.discovery: 'every fortnight': unknown unit 'fortnight'; use seconds, minutes,"
         " hours, days, weeks or a weekday"),
        (f"{path}: line 8: reports.weights.popularity: unknown ranking component 'popularity'; the components:"
         " coverage, exposure, backups, time_to_fix, incidents, drills"),
        f"{path}: line 10: notify.webhooks.soc: 'ftp://h/x' is not an http:// or https:// URL with a host",
        f"{path}: line 11: notify.digests.webhooks[0]: webhook 'nope' is not in notify.webhooks",
        (f"{path}: line 13: exercises.approved_targets[0].address: 8.8.8.8 is outside 198.18.0.0/15: a drill never"
         " acts beyond that block, approved or not"),
    ]


def test_the_rules_config_check_applies_are_those_of_the_code_that_uses_the_setting():
    assert DRILL_BLOCK == ipaddress.ip_network(RANGE_BLOCK)       # the injects' scope check
    for url in ("file:///etc/passwd", "ftp://h/x", "gopher://h", "http:///x"):
        assert webhook_url_problem(url)
        with pytest.raises(SendError):
            post_json("soc", url, {}, "k")
    assert webhook_url_problem("https://hooks.example/x") is None


def test_schema_errors_and_the_later_rules_are_reported_together(tmp_path):
    path = tmp_path / "city.yaml"
    path.write_text("""name: t
sensors: [{id: s, name: S, agency: a}]
agencies:
  - {id: a, name: A, kind: ward, netwrks: [], networks: [{cidr: 198.18.250.0/24, zone: lan, sensor: s}]}
schedules: {discovery: every fortnight}
reports: {weights: {coverage: 1, exposure: -1}}
notify: {webhooks: {soc: "file:///etc/passwd"}}
""", encoding="utf-8")
    r = citysec(tmp_path, "--config", str(path), "config", "check")
    assert r.returncode == 2
    assert [line.strip().split(": ")[1:3] for line in r.stderr.splitlines()[1:]] == [
        ["line 4", "agencies[0].netwrks"], ["line 5", "schedules.discovery"], ["line 6", "reports.weights.exposure"],
        ["line 7", "notify.webhooks.soc"]]
