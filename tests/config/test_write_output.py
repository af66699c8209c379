"""An --out path that cannot be written (`config schema`, `report …`, and
`exercise aar` through the same citysec.cli.report.deliver) exits 3 with one
line naming the path, never a traceback; a writable one is written whole, its folder made."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def citysec(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    argv = [sys.executable, "-c", "from citysec.cli import main; main()", *args]
    return subprocess.run(argv, capture_output=True, text=True, cwd=cwd, timeout=300,
                          env={**os.environ, "CITYSEC_USER": "tester", "CI": "1"}, check=False)


@pytest.fixture
def city(tmp_path):
    path = tmp_path / "city.yaml"
    path.write_text(f"""name: t
sensor: s
sensors: [{{id: s, name: S, agency: a}}]
agencies:
  - {{id: a, name: A, kind: ward, networks: [{{cidr: 198.18.250.0/24, zone: lan, sensor: s}}]}}
store: {{path: {tmp_path / 'citysec.db'}}}
""", encoding="utf-8")
    return path


def unwritable(tmp_path: Path) -> list[Path]:
    """Paths no one can write, even root: under a regular file, and a folder itself."""
    (tmp_path / "plain-file").write_text("x")
    return [tmp_path / "plain-file" / "out.json", tmp_path]


@pytest.mark.parametrize("command", [
    ("config", "schema"),
    ("report", "ranking", "--period", "2026-H2", "--format", "json"),
    ("report", "periodic", "--period", "2026-H2", "--format", "md"),
], ids=["config-schema", "report-ranking", "report-periodic"])   # exercise aar: the same deliver()
def test_an_unwritable_out_is_exit_3_in_one_line(tmp_path, city, command):
    for out in unwritable(tmp_path):
        r = citysec(tmp_path, "--config", str(city), *command, "--out", str(out))
        assert r.returncode == 3, r.stderr
        assert r.stderr.strip().splitlines() == [r.stderr.strip()] and f"cannot write {out}: " in r.stderr
        assert "Traceback" not in r.stderr


def test_a_writable_out_is_written_whole_in_a_new_folder(tmp_path, city):
    out = tmp_path / "new" / "folder" / "ranking.json"
    r = citysec(tmp_path, "--config", str(city), "report", "ranking", "--period", "2026-H2", "--format", "json",
                "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert json.loads(out.read_text(encoding="utf-8"))
    assert [p.name for p in out.parent.iterdir()] == ["ranking.json"]      # no temporary file left
