"""The `citysec playbook` and `citysec case` commands (no range: dry run and reports only)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def citysec(*args, cfg=None, env=None):
    e = {**os.environ, "CITYSEC_USER": "tester", **(env or {})}
    argv = [sys.executable, "-c", "from citysec.cli import main; main()"]
    argv += (["--config", cfg] if cfg else []) + list(args)
    return subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, env=e, timeout=120)


def _city(tmp_path):
    text = Path(ROOT, "config/examples/haiphong.yaml").read_text(encoding="utf-8")
    text = text.replace("path: var/citysec.db", f"path: {tmp_path}/db").replace(
        "out_dir: var/reports", f"out_dir: {tmp_path}/reports")
    p = tmp_path / "city.yaml"
    p.write_text(text, encoding="utf-8")
    return str(p)


def test_validate_bad_file_exits_2_with_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\nversion: 1\nbogus: 2\n")
    r = citysec("playbook", "validate", str(bad))
    assert r.returncode == 2 and f"{bad}: line 3: bogus: unknown key 'bogus'" in r.stderr


def test_case_open_dry_run_show_report_verify(tmp_path):
    cfg = _city(tmp_path)
    r = citysec("case", "open", "--playbook", "website-defacement", "--agency", "so-tttt", "--host",
                "198.18.22.10", "--dry-run", "--json", cfg=cfg)
    assert r.returncode == 0, r.stderr
    case = json.loads(r.stdout)
    cid = case["id"]
    assert case["dry_run"] == 1 and {d["name"] for d in case["deadlines"]} >= {"notice", "final_report"}
    r = citysec("case", "step", cid, "verify", "--done", "--json", cfg=cfg)
    steps = {s["id"]: s for s in json.loads(r.stdout)["steps"]}
    assert steps["collect"]["result"]["would_copy"] == ["/var/log/auth.log"], "dry run: nothing copied"
    assert steps["approve-isolate"]["state"] == "waiting"
    r = citysec("case", "approve", cid, "approve-isolate", "--as", "soc", cfg=cfg)
    assert r.returncode == 2 and "incident_lead" in r.stderr
    r = citysec("case", "report", cid, "--kind", "initial", cfg=cfg)
    assert r.returncode == 0 and "incident_initial.vi.html" in r.stdout
    html = Path(r.stdout.split()[0]).read_text(encoding="utf-8")
    assert "Sở Thông tin và Truyền thông" in html and "Lê Minh Cường" in html
    assert citysec("case", "verify", cid, cfg=cfg).returncode == 0
    r = citysec("case", "timeline", cid, "--json", cfg=cfg)
    assert [e["what"] for e in json.loads(r.stdout)][0] == "opened"
