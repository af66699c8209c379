"""A scheduled job's process and `citysec --help` load only what they need: the child never loads
the command (click and every command's libraries: paramiko, scapy, the range, jinja2 ...)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from sched_helpers import ROOT, cli_env, write_city

HEAVY = ("paramiko", "scapy", "jinja2", "nmap", "elasticsearch", "exercises", "playbooks", "reports")

CHILD = """
import json, os, sys
from citysec.scheduler.child import main
rc = main(sys.argv[1:] + ["--parent", str(os.getppid())])
print(json.dumps({"rc": rc, "modules": sorted(m for m in sys.modules if "." not in m or m.startswith(("config.", "citysec.")))}))
"""


def _run(code: str, *args: str, env: dict[str, str]) -> dict:
    proc = subprocess.run([sys.executable, "-c", code, *args], check=False, cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_job_process_does_not_load_the_command(tmp_path: Path) -> None:
    city = write_city(tmp_path)
    out = _run(CHILD, "--job", "t-ok", "--config", str(city), "--jobs-module", "citysec_test_jobs",
               "--log-file", str(tmp_path / "log.json"), env=cli_env(tmp_path))
    assert out["rc"] == 0
    loaded = set(out["modules"])
    assert "citysec.app" in loaded and "citysec.jobs" in loaded
    assert not {m for m in loaded if m.startswith("citysec.cli")}
    assert "click" not in loaded
    assert not loaded & set(HEAVY)


def test_help_loads_no_area_library(tmp_path: Path) -> None:
    code = ("import json, sys\nfrom click.testing import CliRunner\nfrom citysec.cli import cli\n"
            "r = CliRunner().invoke(cli, ['--help'])\nassert r.exit_code == 0 and 'report' in r.output, r.output\n"
            "print(json.dumps({'modules': sorted(m for m in sys.modules if '.' not in m)}))")
    out = _run(code, env=cli_env(tmp_path))
    assert not set(out["modules"]) & set(HEAVY)


def test_report_formats_match_the_renderer() -> None:
    from citysec.cli.report import FORMATS
    from reports.render import FORMATS as RENDERED
    assert FORMATS == RENDERED


def test_context_still_exports_app() -> None:
    from citysec.app import App
    from citysec.cli.context import App as ContextApp
    assert ContextApp is App
