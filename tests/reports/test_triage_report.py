"""Triage in the periodic report and the ranking: decisions per agency, overdue findings, the
share fixed within deadline (accepted risks documented, false positives not exposures)."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, datetime

import pytest

from findings import Finding, Store, triage
from tests.config.triage_support import CITY

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
CITSEC = os.path.join(ROOT, ".venv", "bin", "citysec")


def seen(check, host, when, verdict="fail", run=None):
    return Finding(check=check, agency="ward", verdict=verdict, severity="high" if verdict == "fail" else "info",
                   message=f"{check} open", host_ip=host, port={"exposure.telnet": 23, "exposure.ftp": 21,
                                                                "exposure.rdp": 3389, "exposure.vnc": 5900}[check],
                   transport="tcp", timestamp=when, run_id=run or f"{check}-{when:%m%d}")


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    d = tmp_path_factory.mktemp("triage-report")
    (d / "city.yaml").write_text(CITY.format(db=d / "citysec.db", smtp_port=25, hook_port=80, udp_port=514,
                                             tcp_port=514), encoding="utf-8")
    store = Store(d / "citysec.db")
    aug, sep = datetime(2026, 8, 1, tzinfo=UTC), datetime(2026, 9, 1, tzinfo=UTC)
    store.record([seen("exposure.telnet", "198.19.209.11", aug), seen("exposure.ftp", "198.19.209.12", aug),
                  seen("exposure.rdp", "198.19.209.13", aug), seen("exposure.vnc", "198.19.209.14", sep)])
    store.record([seen("exposure.vnc", "198.19.209.14", datetime(2026, 9, 10, tzinfo=UTC), verdict="pass")])
    fp = {r["check_id"]: r["fingerprint"] for r in store.current()}
    triage.decide(store, fp["exposure.telnet"], "accepted", reason="thay thế trong ngân sách 2027", by="Bình",
                  approved_by="Chủ tịch UBND phường", until=datetime(2099, 6, 30, tzinfo=UTC))
    triage.decide(store, fp["exposure.ftp"], "false_positive", reason="máy in, không phải FTP", by="An")
    store.close()
    return str(d / "city.yaml")


def report(city, *args):
    out = subprocess.run([CITSEC, "--config", city, "report", *args], capture_output=True, text=True,
                         timeout=300, cwd=ROOT, check=False)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_periodic_report_lists_decisions_overdue_and_share_within_deadline(city):
    figs = json.loads(report(city, "periodic", "--period", "2026-H2", "--format", "json"))["figures"]
    ward = figs["agencies"]["ward"]
    t = ward["triage"]
    assert [(d["check"], d["kind"], d["approved_by"]) for d in t["decisions"]] == [
        ("exposure.ftp", "false_positive", None), ("exposure.telnet", "accepted", "Chủ tịch UBND phường")]
    assert [r["check"] for r in t["overdue"]] == ["exposure.rdp"]
    assert t["deadlines"] == {"met": 1, "late": 0, "overdue": 1, "accepted": 1, "pct": 50.0}
    assert {i["check"] for i in ward["exposure"]["items"]} == {"exposure.telnet", "exposure.rdp"}  # not the FP
    html = report(city, "periodic", "--period", "2026-H2", "--lang", "en")
    assert "Accepted risks and false positives" in html and "Chủ tịch UBND phường" in html
    assert "30 Jun 2099" in html
    vi = report(city, "periodic", "--period", "2026-H2", "--format", "md")
    assert "Tỷ lệ khắc phục đúng hạn" in vi


def test_ranking_time_to_fix_is_the_share_within_deadline(city):
    rank = json.loads(report(city, "ranking", "--period", "2026-H2", "--format", "json"))["figures"]
    ward = next(r for r in rank["ranking"] if r["agency"] == "ward")
    assert ward["parts"]["time_to_fix"]["value"] == 50.0
