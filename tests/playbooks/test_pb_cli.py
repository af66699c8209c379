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


def test_case_list_marks_dry_runs_fields_are_checked_and_every_command_prints_json(tmp_path):
    cfg = _city(tmp_path)
    r = citysec("case", "open", "--playbook", "website-defacement", "--agency", "so-tttt", "--host",
                "198.18.22.10", "--dry-run", "--json", cfg=cfg)
    cid = json.loads(r.stdout)["id"]
    r = citysec("case", "show", cid, cfg=cfg)
    assert "DRY RUN — not an incident" in r.stdout.splitlines()[0]
    header, row, *_ = citysec("case", "list", cfg=cfg).stdout.splitlines()
    assert header.split() == ["ID", "PLAYBOOK", "SEVERITY", "AGENCY", "HOST", "STATUS", "PHASE", "DETECTED", "DRY",
                              "RUN"]
    assert row.split()[0] == cid and row.split()[-1] == "yes"
    assert header.index("DRY RUN") == row.index("yes") and header.index("HOST") == row.index("198.18.22.10")
    for field, value, accepts in (("help", "banana", "one of self, outside, foreign, national"),
                                  ("damage_vnd", "-5", "a whole number of đồng, 0 or more")):
        r = citysec("case", "set", cid, field, value, cfg=cfg)
        assert r.returncode == 2 and f"case field {field}: '{value}' is not accepted; {field} takes {accepts}" \
            in r.stderr, r.stderr
    r = citysec("case", "set", cid, "damage_vnd", "1500000", "--json", cfg=cfg)
    assert r.returncode == 0 and json.loads(r.stdout) == {"case": cid, "field": "damage_vnd", "value": 1500000}
    lines = citysec("case", "timeline", cid, cfg=cfg).stdout.splitlines()
    assert lines[0].split() == ["#", "TIME", "BY", "WHAT", "DETAILS"]
    assert lines[-1].split()[2:] == ["tester", "field_set", "field=damage_vnd", "value=1500000"]
    assert json.loads(citysec("case", "resume", "--json", cfg=cfg).stdout) == {"resumed": [cid]}
    r = citysec("playbook", "validate", "playbooks/library/ssh-brute-force.yaml", "--json")
    d = json.loads(r.stdout)
    assert (d["valid"], d["id"], d["version"], len(d["sha256"])) == (True, "ssh-brute-force", 2, 64) and d["steps"] > 5
    for decision in ("approve", "decline"):
        r = citysec("case", decision, "--help")
        assert f"{decision.capitalize()} an approval step as ROLE" in r.stdout
