"""The plan from the config: bad schedules and timeouts are config errors naming file, path, line."""

from __future__ import annotations

import json
import subprocess

import pytest
from sched_helpers import ROOT, cli_env, line_of, write_city

from citysec.jobs import JOBS
from config.loader import load_config
from citysec.scheduler.plan import build_plan, register_jobs
from findings.errors import ConfigError, UsageError

BAD = """
schedules:
  discovery: every 6 hourz
  services: every day at 01:00
  timeout_seconds: {discovery: 600, nmap: 60}
"""


def test_bad_schedule_and_unknown_timeout_name_file_path_and_line(tmp_path):
    path = write_city(tmp_path, BAD)
    with pytest.raises(ConfigError) as err:
        build_plan(load_config(str(path)))
    problems = err.value.problems
    assert len(problems) == 2
    assert problems[1].startswith(f"{path}: line {line_of(path, 'discovery: every 6 hourz')}: schedules.discovery: ")
    assert "unknown unit 'hourz'" in problems[1]
    assert problems[0].startswith(f"{path}: line {line_of(path, '^  timeout_seconds')}: schedules.timeout_seconds.nmap")


def test_plan_has_every_scheduled_job_with_its_timeout(tmp_path):
    path = write_city(tmp_path, "schedules:\n  timeout_seconds: {services: 7200}\n")
    plan = {j.name: j for j in build_plan(load_config(str(path)))}
    assert {"discovery", "services", "antivirus", "backup", "logs", "ship", "reports"} <= set(plan)
    assert plan["services"].timeout == 7200 and plan["services"].gate == "scan_windows"
    assert plan["discovery"].timeout == 3600 and plan["discovery"].spec.text == "every 6 hours"


def test_only_names_a_known_job(tmp_path):
    with pytest.raises(UsageError, match="--only nmap: unknown job"):
        build_plan(load_config(str(write_city(tmp_path))), only=["nmap"])


def test_a_job_module_cannot_replace_a_built_in_job():
    with pytest.raises(UsageError, match="'ship' is a built-in job"):
        register_jobs({"ship": "os:getcwd"})
    assert JOBS["ship"] == "citysec.jobs.ship:ship"



def test_citysec_run_with_a_bad_schedule_exits_2_and_names_the_line(tmp_path):
    path = write_city(tmp_path, BAD)
    res = subprocess.run([str(ROOT / ".venv/bin/citysec"), "--config", str(path), "run", "--once"],
                         capture_output=True, text=True, cwd=tmp_path, env=cli_env(tmp_path), timeout=120,
                         check=False)
    assert res.returncode == 2
    assert f"line {line_of(path, 'every 6 hourz')}: schedules.discovery" in res.stderr


def test_unknown_sensor_exits_2(tmp_path):
    path = write_city(tmp_path)
    res = subprocess.run([str(ROOT / ".venv/bin/citysec"), "--config", str(path), "--sensor", "nope",
                          "run", "--once"], capture_output=True, text=True, cwd=tmp_path,
                         env=cli_env(tmp_path), timeout=120, check=False)
    assert res.returncode == 2 and "unknown sensor 'nope'" in res.stderr


def test_status_shows_last_and_next_run(tmp_path):
    path = write_city(tmp_path)
    res = subprocess.run([str(ROOT / ".venv/bin/citysec"), "--config", str(path), "status", "--json"],
                         capture_output=True, text=True, cwd=tmp_path, env=cli_env(tmp_path), timeout=120,
                         check=False)
    assert res.returncode == 0, res.stderr
    sched = json.loads(res.stdout)["schedule"]
    assert sched["sensor"] == "city-soc"
    assert sched["discovery"] == {"schedule": "every 6 hours", "timeout_s": 3600.0, "last_start": None,
                                  "last_outcome": None, "next": "now"}
