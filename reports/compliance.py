"""The annual level-compliance report per information system (Circular 12/2022 art. 13–14).

Each criterion maps a TCVN 11930 clause (``x`` = 4 + the system's level) to check ids or
prefixes. For each system, the findings of its hosts at the end of the compliance year decide:
met (every matching finding passes), not met (with the failing ones as evidence and a roadmap
entry), or not assessed (no finding of those checks on its hosts).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from findings.model import SEVERITY_SCORE

from . import fmt, i18n
from .document import Document, Section, table
from .period import Period

# The default mapping (regulations.md); the command passes the profile's when it has one.
CRITERIA: tuple[dict[str, Any], ...] = (
    {"id": "x.2.2.5", "title": {"vi": "Phòng chống phần mềm độc hại", "en": "Malware protection"}, "checks": ["av."]},
    {"id": "x.2.2.2", "title": {"vi": "Dịch vụ không cần thiết, không an toàn", "en": "Unnecessary or insecure services"},
     "checks": ["exposure."]},
    {"id": "x.2.4.3", "title": {"vi": "Sao lưu dự phòng", "en": "Backup"}, "checks": ["backup."]},
    {"id": "x.1.5.1", "title": {"vi": "Quản lý thiết bị trên mạng", "en": "Devices on the network"},
     "checks": ["discovery.rogue"]},
    {"id": "x.2.1.4", "title": {"vi": "Nhật ký hệ thống", "en": "System logs"}, "checks": ["log.", "collect."]},
)
# Titles of the TCVN 11930 clauses the profiles map checks to (regulations.md); a clause of a
# profile without a title here is a load-time error of the report (never a bare number).
TITLES: dict[str, dict[str, str]] = {c["id"]: c["title"] for c in CRITERIA} | {
    "x.1.5.7": {"vi": "Kiểm tra, đánh giá an toàn thông tin (rà quét điểm yếu định kỳ)",
                "en": "Security assessment (periodic vulnerability scanning)"},
    "x.1.5.8": {"vi": "Ứng cứu sự cố an toàn thông tin (phương án, đội ứng cứu, diễn tập)",
                "en": "Incident response (plan, team, drills)"},
    "x.2.1.2": {"vi": "Kiểm soát truy cập từ bên ngoài (cổng, dịch vụ mở ra ngoài)",
                "en": "Access control at the perimeter (ports and services reachable from outside)"},
    "x.2.2.3": {"vi": "Nhật ký hệ thống và đồng bộ thời gian", "en": "System logs and time synchronisation"},
}
TARGET_DAYS = {"critical": 30, "high": 90, "medium": 180, "low": 365, "info": 365}


@dataclass(frozen=True)
class System:
    id: str
    name: str
    owner: str
    level: int
    hosts: tuple[str, ...]        # addresses (or names) as the findings carry them
    name_en: str | None = None    # English documents' name (the name when None)


def _matches(check: str, patterns: list[str]) -> bool:
    return any(check == p or (p.endswith(".") and check.startswith(p)) for p in patterns)


def clause(cid: str, level: int) -> str:
    return cid.replace("x.", f"{4 + level}.", 1) if cid.startswith("x.") else cid


def assess(system: System, state: list[dict], criteria, period: Period) -> list[dict[str, Any]]:
    rows = [r for r in state if r.get("host") in system.hosts and r["agency"]]
    out = []
    for c in criteria:
        hits = [r for r in rows if _matches(r["check"], c["checks"])]
        failing = [r for r in hits if r["verdict"] != "pass"]
        met = None if not hits else not failing
        worst = max((r["severity"] for r in failing), key=SEVERITY_SCORE.get, default=None)
        out.append({"criterion": clause(c["id"], system.level), "title": c["title"], "met": met,
                    "checked": len(hits), "failing": sorted({(r["check"], r["host"]) for r in failing}),
                    "last_checked": max((r["ts"] for r in hits), default=None),
                    "target": (period.end + timedelta(days=TARGET_DAYS[worst])).date().isoformat() if worst else None})
    return out


def figures(systems: list[System], state: list[dict], period: Period, criteria=CRITERIA) -> dict[str, Any]:
    return {"period": {"label": period.label, "start": period.start.isoformat(), "end": period.end.isoformat()},
            "systems": [{"id": s.id, "name": s.name, "name_en": s.name_en or s.name, "owner": s.owner, "level": s.level,
                         "criteria": assess(s, state, criteria, period)} for s in systems]}


def _met(v: bool | None, lang: str) -> str:
    return i18n.tr("not_assessed" if v is None else ("yes" if v else "no"), lang)


def build(fig: dict[str, Any], lang: str, meta: list[tuple[str, str]]) -> Document:
    """One section per system: each criterion (clause number and title) met or not, with its
    evidence in words (how many checks, when last checked, which check failed on which host), and
    the roadmap of what is not met."""
    names = fig.get("check_names")
    sections = []
    for s in fig["systems"]:
        rows = []
        for c in s["criteria"]:
            failing = "; ".join(f"{i18n.check_name(chk, lang, names)} ({host})" for chk, host in c["failing"])
            evidence = i18n.tr("evidence_text", lang, n=fmt.number(c["checked"], lang),
                               d=fmt.date(c["last_checked"], lang)) if c["checked"] else i18n.tr("no_evidence", lang)
            rows.append({"clause": c["criterion"], "criterion": c["title"][lang], "met": _met(c["met"], lang),
                         "evidence": evidence + (f" {i18n.tr('failing', lang)}: {failing}." if failing else ""),
                         "target": c["target"]})
        road = [r for r, c in zip(rows, s["criteria"]) if c["met"] is not True]
        name = s.get("name_en") or s["name"] if lang == "en" else s["name"]
        title = f"{name} ({i18n.tr('level', lang).lower()} {s['level']})"
        sections.append(Section(s["id"], title, [], [
            table(f"{s['id']}-criteria", lang, f"{i18n.tr('criteria', lang)} — {name}", [("clause", "clause", "code"), ("criterion", "criterion", "text"),
                  ("met", "criterion_met", "text"), ("evidence", "evidence", "text")], rows),
            table(f"{s['id']}-roadmap", lang, f"{i18n.tr('roadmap', lang)} — {name}", [("clause", "clause", "code"), ("criterion", "criterion", "text"),
                  ("target", "target", "date")], road)]))
    label = fig["period"]["label"]
    return Document("compliance", i18n.tr("compliance", lang), i18n.period_name(label, lang).capitalize(), lang, meta,
                    sections, fig)
