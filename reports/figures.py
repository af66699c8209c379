"""Judge gathered rows into the figures of a period, per agency and for the city (pure functions).

Definitions (docs/reports.md has them for readers):
- a host is *known* in the period when any observation or asset sighting of it falls in the period;
- it is *covered* by antivirus when it has antivirus results and every ``av.*`` finding of it
  passes at the end of the period (coverage is measured against the hosts found, not reported);
- *open* findings are those whose latest status before the end of the period is open or reopened;
- a finding is *fixed* in the period when it failed during the period and is closed at its end;
  its time to fix is from its first sighting to the last sighting of the problem.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from statistics import mean, median
from typing import Any

from findings.model import SEVERITIES, SEVERITY_SCORE, parse_ts

OPEN = ("open", "reopened")
AGE_BUCKETS = (("0-30", 0, 30), ("31-90", 31, 90), ("91-180", 91, 180), (">180", 181, None))
NOT_EXPOSURE = ("exposure.scan",)      # scan completeness, not a service
ROGUE = "discovery.rogue"
HELP = ("self", "outside", "foreign", "national")


def _days(a: str | datetime, b: str | datetime) -> float:
    return (parse_ts(b) - parse_ts(a)).total_seconds() / 86400


def _pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def by_agency(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list] = defaultdict(list)
    for r in rows:
        out[r["agency"]].append(r)
    return out


def antivirus(state: list[dict], hosts: set[str], names: dict[str, str]) -> dict[str, Any]:
    bad: dict[str, list[str]] = defaultdict(list)
    seen: set[str] = set()
    for r in state:
        if r["check"].startswith("av.") and r.get("host"):
            seen.add(r["host"])
            if r["verdict"] != "pass":
                bad[r["host"]].append(r["check"])
    covered = {h for h in hosts if h in seen and h not in bad}
    uncovered = [{"host": h, "host_name": names.get(h), "reason": sorted(bad.get(h, ["no-data"]))}
                 for h in sorted(hosts) if h not in covered]
    return {"hosts": len(hosts), "covered": len(covered), "coverage_pct": _pct(len(covered), len(hosts)),
            "uncovered": uncovered}


def exposure(state: list[dict], start: datetime) -> dict[str, Any]:
    items = [r for r in state if r["check"].startswith("exposure.") and r["check"] not in NOT_EXPOSURE
             and r["status"] in OPEN and r["verdict"] == "fail"]
    sev = {s: sum(1 for r in items if r["severity"] == s) for s in SEVERITIES}
    new = sum(1 for r in items if r.get("first_seen") and parse_ts(r["first_seen"]) >= start)
    listed = sorted(items, key=lambda r: (-SEVERITY_SCORE[r["severity"]], r["host"] or "", r["port"] or 0))
    return {"open": len(items), "by_severity": sev, "new": new,
            "items": [{k: r.get(k) for k in ("host", "host_name", "port", "banner", "check", "severity",
                                           "first_seen")}
                      for r in listed]}


def backups(state: list[dict]) -> dict[str, Any]:
    rows = [r for r in state if r["check"].startswith("backup.")]
    failing = [r for r in rows if r["verdict"] != "pass"]
    ok = len(rows) - len(failing)
    return {"checked": len(rows), "compliant": ok, "pct": _pct(ok, len(rows)),
            "failing": [{"host": r["host"], "host_name": r.get("host_name"), "check": r["check"],
                         "verdict": r["verdict"], "subject": r.get("citysec.subject")} for r in sorted(failing, key=lambda r: (r["host"] or "", r["check"]))]}


def rogue(state: list[dict], failed: set[str]) -> dict[str, Any]:
    rows = [r for r in state if r["check"] == ROGUE]
    open_ = sorted((r for r in rows if r["status"] in OPEN), key=lambda r: r["host"] or "")
    return {"open": len(open_), "seen": sum(1 for r in rows if r["fingerprint"] in failed),
            "items": [{"host": r["host"], "host_name": r.get("host_name"), "first_seen": r.get("first_seen")}
                      for r in open_]}


def detections(rows: list[dict]) -> dict[str, Any]:
    by_check: dict[str, int] = defaultdict(int)
    by_sev = {s: 0 for s in SEVERITIES}
    for r in rows:
        by_check[r["check"]] += r["count"]
        by_sev[r["severity"]] += r["count"]
    return {"total": sum(by_sev.values()), "by_check": dict(sorted(by_check.items())), "by_severity": by_sev}


def open_by_age(state: list[dict], end: datetime) -> dict[str, int]:
    ages = [_days(r["first_seen"], end) for r in state if r["status"] in OPEN and r.get("first_seen")]
    return {label: sum(1 for a in ages if lo <= int(a) and (hi is None or int(a) <= hi))
            for label, lo, hi in AGE_BUCKETS}


def time_to_fix(state: list[dict], failed: set[str]) -> dict[str, Any]:
    days = [_days(r["first_seen"], r["last_seen"]) for r in state
            if r["fingerprint"] in failed and r["status"] == "closed" and r.get("first_seen") and r.get("last_seen")]
    return {"fixed": len(days), "median_days": round(median(days), 1) if days else None,
            "mean_days": round(mean(days), 1) if days else None}


def remedies(state: list[dict], texts: dict[str, dict]) -> list[dict[str, Any]]:
    """Open findings grouped by check, riskiest first (risk = the sum of their severity scores)."""
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in state:
        if r["status"] in OPEN:
            groups[r["check"]].append(r)
    out = []
    for check, rows in groups.items():
        worst = max(rows, key=lambda r: SEVERITY_SCORE[r["severity"]])["severity"]
        info = texts.get(check, {})
        out.append({"check": check, "name": info.get("name"), "count": len(rows), "max_severity": worst,
                    "risk": sum(SEVERITY_SCORE[r["severity"]] for r in rows),
                    "remediation": info.get("remediation") or {}})
    return sorted(out, key=lambda r: (-r["risk"], r["check"]))
