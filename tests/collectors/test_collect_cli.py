"""The collectors' commands: bad usage and bad configuration give exit 2 with file and line."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

CITYSEC = os.path.join(os.path.dirname(__file__), "..", "..", ".venv", "bin", "citysec")
TEMPLATE = os.path.join(os.path.dirname(__file__), "..", "fixtures", "collectors", "city-co.yaml.tmpl")


def _config(tmp_path, replace=None) -> str:
    text = Path(TEMPLATE).read_text().replace("{STATE}", str(tmp_path)).replace("{VAR}", str(tmp_path))
    for old, new in (replace or {}).items():
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / "city.yaml"
    path.write_text(text)
    return str(path)


def run(config, *args):
    return subprocess.run([CITYSEC, "--config", config, *args], capture_output=True, text=True, timeout=60)


def test_backup_policy_without_glob_names_file_and_line(tmp_path):
    cfg = _config(tmp_path, {'method: files, glob: "/var/backups/*.tar.gz", ': "method: files, "})
    p = run(cfg, "collect", "backup")
    assert p.returncode == 2
    assert f"{cfg}: line " in p.stderr and "policies.backups[1].method: method files needs glob" in p.stderr


def test_glob_with_shell_characters_is_refused(tmp_path):
    cfg = _config(tmp_path, {'"/var/backups/*.tar.gz"': '"/var/backups/$(reboot).tar.gz"'})
    p = run(cfg, "collect", "backup")
    assert p.returncode == 2 and "policies.backups[1].glob" in p.stderr


def test_bad_usage_exits_2(tmp_path):
    cfg = _config(tmp_path)
    assert "unknown agency 'nope'" in run(cfg, "collect", "antivirus", "--agency", "nope").stderr
    p = run(cfg, "syslog", "serve", "--bind", "nonsense")
    assert p.returncode == 2 and "ADDRESS:PORT" in p.stderr
    who = ("--by", "Bình", "--result", "ok")
    p = run(cfg, "backup", "record-restore-test", "no-such-system", *who)
    assert p.returncode == 2 and "unknown information system" in p.stderr
    p = run(cfg, "backup", "record-restore-test", "sys-ok", "--date", "2999-01-01", *who)
    assert p.returncode == 2 and "future" in p.stderr
    # a restore test is recorded only with who did it and what it showed
    # the result must be said; who did it is --by or, without it, the logged-in user (never empty)
    p = run(cfg, "backup", "record-restore-test", "sys-ok", "--by", "Bình")
    assert p.returncode == 2 and "Missing option '--result'" in p.stderr
    p = run(cfg, "backup", "record-restore-test", "sys-ok", "--by", " ", "--result", "ok")
    assert p.returncode == 2 and "--by: give a name" in p.stderr
    assert '"restore_tests": 0' in run(cfg, "status", "--json").stdout


def test_restore_test_recorded(tmp_path):
    cfg = _config(tmp_path)
    p = run(cfg, "backup", "record-restore-test", "sys-ok", "--date", "2026-10-01", "--by", "Trần Thị Bình",
            "--result", "ok", "--json")
    assert p.returncode == 0 and '"tested_at": "2026-10-01T00:00:00+00:00"' in p.stdout


def test_unknown_jump_host_names_file_and_line(tmp_path):
    cfg = _config(tmp_path, {"      - {name: a2-pc1, ip: 198.19.36.11}":
                             "      - {name: a2-pc1, ip: 198.19.36.11, ssh: {key: range-operator, jump: nowhere}}"})
    p = run(cfg, "hosts", "list")
    assert p.returncode == 2 and "line 37: agencies[2].hosts[0].ssh.jump:" in p.stderr and "'nowhere'" in p.stderr
