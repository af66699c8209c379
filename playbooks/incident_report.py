"""Incident reports of a case: the notice, the Initial Report (every field of Decision 05/2017
art. 11.4) and the Final Report, in Vietnamese and English, as printable HTML. The templates are
``reports/templates/incident_*.html.j2`` rendered in Jinja2's sandbox (they see finding data:
hostnames, banners), with autoescape and StrictUndefined."""

from __future__ import annotations

from importlib import resources
from typing import Any

import yaml

from findings.model import clean_text, iso, utcnow
from reports.render import environment

TYPES = {
    "vi": {"denial_of_service": "Tấn công từ chối dịch vụ", "phishing": "Tấn công giả mạo, lừa đảo",
           "malware": "Tấn công bằng mã độc", "unauthorized_access": "Truy cập trái phép, chiếm quyền điều khiển",
           "defacement": "Thay đổi giao diện", "ransomware": "Mã hóa dữ liệu, thiết bị (ransomware)",
           "data_destruction": "Phá hoại thông tin, dữ liệu, phần mềm", "data_theft": "Nghe lén, đánh cắp dữ liệu",
           "combined": "Tấn công tổng hợp", "other": "Khác"},
    "en": {"denial_of_service": "Denial of service", "phishing": "Spoofing / phishing", "malware": "Malware",
           "unauthorized_access": "Unauthorised access or takeover", "defacement": "Defacement",
           "ransomware": "Encryption of data or devices (ransomware)", "data_destruction": "Destruction of data or software",
           "data_theft": "Eavesdropping or theft of data", "combined": "Combined attack", "other": "Other"},
}


def labels() -> dict[str, dict[str, str]]:
    text = resources.files("reports").joinpath("templates", "incident_labels.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def _hours(seconds: float | None, lang: str, L: dict) -> str | None:
    return None if seconds is None else f"{seconds / 3600:.1f} {L['hours']}"


def report_fields(view: dict[str, Any], lang: str, now: str) -> dict[str, Any]:
    """Everything the templates show, from a case view (pure)."""
    L = labels()[lang]
    rec, ctx = view["record"], view["record"].get("context", {})
    system = ctx.get("system") or {}
    contacts = ctx.get("contacts") or []
    first = contacts[0] if contacts else {}
    done = [f"{s['title'][lang]} ({s['ended_at']})" for s in view["steps"]
            if s["kind"] != "approval" and s["state"] == "done"]
    planned = [f"{s['title'][lang]}" for s in view["steps"] if s["state"] in ("pending", "waiting", "running")]
    custody = rec.get("chain_of_custody", [])
    level = view.get("level") or system.get("level")
    return {
        "case_id": view["id"], "dry_run": bool(view.get("dry_run")), "generated_at": now, "agency": ctx.get("agency_name") or view["agency"],
        "operator": ctx.get("operator_name") or system.get("operator") or ctx.get("agency_name") or view["agency"],
        "owner": ctx.get("owner_name") or system.get("owner") or ctx.get("agency_name") or view["agency"],
        "system": system.get("name") or view.get("system"), "level": str(level) if level else None,
        "host": " ".join(x for x in (ctx.get("host_name"), view.get("host")) if x) or None,
        "detected_at": view["detected_at"], "response_ended_at": view.get("response_ended_at"),
        "contact": {"name": first.get("name"), "position": first.get("role"), "phone": first.get("phone"),
                    "email": first.get("email")},
        "type": TYPES[lang][view["incident_type"]], "severity": view["severity"], "status": view["status"],
        "summary": rec.get("summary"), "indicators": view["nist"]["indicators"],
        "symptoms": rec.get("symptoms") or [f.get("message") for f in view["findings"] if f.get("message")] or None,
        "harm_estimate": rec.get("harm_estimate"), "spread": rec.get("spread"), "impact": rec.get("impact"),
        "infrastructure_provider": rec.get("infrastructure_provider"),
        "measures": done + [f"({'dự kiến' if lang == 'vi' else 'planned'}) {p}" for p in planned]
        + rec.get("measures", []),
        "helpers": rec.get("helpers", []), "first_result": rec.get("first_result"),
        "recommendations": rec.get("recommendations"),
        "handled": rec.get("handled") or view["status"],
        "detection_method": rec.get("detection_method") or ", ".join(sorted(
            {f.get("event", {}).get("dataset", "") for f in view["findings"]})) or None,
        "services": rec.get("services", []), "security_measures": rec.get("security_measures", []),
        "public_addresses": rec.get("public_addresses", []),
        "attachments": rec.get("attachments", []) + [f"{c['stored_as']} (SHA-256 {c['sha256']})" for c in custody],
        "root_cause": rec.get("root_cause"), "lessons": rec.get("lessons"), "custody": custody,
        "times": {k: _hours(v, lang, L) for k, v in view["times"].items()},
        "steps": [{"title": s["title"][lang], "state": s["state"], "ended_at": s["ended_at"]} for s in view["steps"]],
        "deadlines": view["deadlines"],
    }


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def render(view: dict[str, Any], kind: str, lang: str, now: str | None = None) -> str:
    """The HTML of one report of a case."""
    fields = _clean(report_fields(view, lang, now or iso(utcnow())))
    return environment().get_template(f"incident_{kind}.html.j2").render(r=fields, L=labels()[lang], lang=lang)
