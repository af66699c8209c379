"""`citysec report ...`: outputs, languages and exit codes."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import dataset
import pytest

HERE = Path(__file__).parent
ROOT = HERE.parents[1]


@pytest.fixture(scope="module")
def city(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("city")
    shutil.copy(HERE / "city.yaml", d / "city.yaml")
    dataset.build(d / "citysec.db")
    return d / "city.yaml"


def citysec(city: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(Path(sys.executable).parent / "citysec"), "--config", str(city), "report", *args],
                          capture_output=True, text=True, timeout=300, cwd=ROOT, check=False)


def test_periodic_json_and_markdown(city):
    r = citysec(city, "periodic", "--period", "2026-H2", "--format", "json")
    assert r.returncode == 0, r.stderr
    assert '"av_coverage_pct": 25.0' in r.stdout
    r = citysec(city, "periodic", "--period", "2026-H2", "--agency", "so-b", "--format", "md", "--lang", "en")
    assert r.returncode == 0 and "Department B" in r.stdout and "Department A" not in r.stdout


def test_pdf_written_to_the_reports_folder_named_by_language(city):
    for lang in ("vi", "en"):
        r = citysec(city, "member", "--period", "2026", "--format", "pdf", "--lang", lang)
        assert r.returncode == 0, r.stderr
    vi, en = (city.parent / "reports-out" / f"member-2026.{lang}.pdf" for lang in ("vi", "en"))
    assert vi.read_bytes()[:5] == b"%PDF-" and en.read_bytes()[:5] == b"%PDF-"
    assert vi.read_bytes() != en.read_bytes()


def test_ranking_and_compliance(city, tmp_path):
    out = tmp_path / "rank.html"
    assert citysec(city, "ranking", "--period", "2026-H2", "--out", str(out)).returncode == 0
    assert "Xếp hạng" in out.read_text(encoding="utf-8")
    r = citysec(city, "compliance", "--year", "2026", "--format", "csv")
    assert r.returncode == 0 and "he-thong-a-criteria" in r.stdout


@pytest.mark.parametrize("args, message", [
    (("periodic", "--period", "2026-Q3"), "--period '2026-Q3'"),
    (("periodic", "--period", "2026", "--agency", "nobody"), "unknown agency 'nobody'"),
    (("periodic", "--period", "2026", "--lang", "fr"), "'fr' is not one of 'vi', 'en'"),
    (("compliance", "--year", "1900"), "--year 1900"),
    (("periodic", "--period", "2026", "--source", "es"), "no Elasticsearch hosts"),
])
def test_bad_usage_exits_2_with_a_clear_message(city, args, message):
    r = citysec(city, *args)
    assert r.returncode == 2 and message in r.stderr


def test_a_false_positive_fails_no_run_and_leaves_the_reports(tmp_path):
    """`findings list --fail-on` and every report figure agree: a false positive is not a finding."""
    from findings import triage
    d = tmp_path / "fp"
    d.mkdir()
    shutil.copy(HERE / "city.yaml", d / "city.yaml")
    store = dataset.build(d / "citysec.db")
    fails = [r for r in store.current(status=("open", "reopened")) if r["severity"] in ("high", "critical")]
    for r in fails:
        triage.decide(store, r["fingerprint"], "false_positive", reason="kiểm tra lại: không đúng", by="Bình")
    run = subprocess.run([str(Path(sys.executable).parent / "citysec"), "--config", str(d / "city.yaml"),
                          "findings", "list", "--fail-on", "high", "--json"], capture_output=True, text=True,
                         timeout=300, cwd=ROOT, check=False)
    assert run.returncode == 0, run.stderr
    r = citysec(d / "city.yaml", "periodic", "--period", "2026-H2", "--format", "json")
    figs = __import__("json").loads(r.stdout)["figures"]
    assert figs["agencies"]["so-a"]["exposure"]["open"] == 0
    assert all(x["max_severity"] not in ("high", "critical") for x in figs["agencies"]["so-a"]["remedies"])
