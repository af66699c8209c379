"""Incident reports of a case: the notice, the Initial Report (every field of Decision 05/2017
art. 11.4) and the Final Report, in Vietnamese and English, as printable HTML. The templates are
``reports/templates/incident_*.html.j2`` rendered in Jinja2's sandbox (they see finding data:
hostnames, banners), with autoescape and StrictUndefined."""

from __future__ import annotations

from importlib import resources
from typing import Any

from findings.errors import ConfigError
from findings.model import clean_text, iso, parse_ts, utcnow
from findings.support.yamlpos import load_one
from reports import fmt
from reports.i18n import check_name
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
    """The templates' words; Vietnamese and English must have the same keys (a missing
    translation is an error here, not a silent fallback)."""
    path = resources.files("reports").joinpath("templates", "incident_labels.yaml")
    data = load_one(str(path))[0]
    missing = sorted(set(data["vi"]) ^ set(data["en"]))
    if missing:
        raise ConfigError(f"{path}: labels without their translation: {', '.join(missing)}")
    return data


def _when(ts: str | None, lang: str) -> str | None:
    """A time as the reader writes it, in the city's time zone (dd/mm/yyyy HH:MM)."""
    return fmt.datetime_(ts, lang) if ts else None


def _summary(view: dict[str, Any], rec: dict[str, Any], lang: str) -> str | None:
    """The record's summary; the engine's default (the playbook's English title) in the
    document's language (``title`` is the Vietnamese one)."""
    summary = rec.get("summary")
    if summary and summary == view.get("title_en") and lang == "vi":
        return view.get("title") or summary
    return summary


def _dated(ts: str, lang: str, L: dict) -> str:
    d = parse_ts(ts).astimezone(fmt.zone())
    return L["dated"].format(d=f"{d.day:02d}", m=f"{d.month:02d}", y=d.year, date=fmt.date(d, lang))


def _deadline(d: dict[str, Any], lang: str, L: dict) -> dict[str, Any]:
    return d | {"name": L.get(f"dl_{d['name']}", d["name"]), "due": _when(d["due"], lang),
                "met_at": _when(d["met_at"], lang),
                "left": fmt.duration(d["left_seconds"], lang) if d.get("left_seconds") is not None else L["not_started"]}


def _hours(seconds: float | None, lang: str, L: dict) -> str | None:
    return None if seconds is None else f"{seconds / 3600:.1f} {L['hours']}"


def _local(values: dict[str, Any], key: str, lang: str) -> Any:
    """``key`` of a configured thing in the reader's language (``key_en`` in English when set)."""
    return (lang == "en" and values.get(f"{key}_en")) or values.get(key)


def _sign(f: dict[str, Any], lang: str, names: dict[str, dict[str, str]] | None, L: dict) -> str:
    """One finding of the case as a sign a reader understands: the check's name in the reader's
    language (not citysec's own English message), where, when, and for a log alert the line of
    the log that raised it, quoted as evidence (the machine's own words)."""
    cs = f.get("citysec", {})
    host = f.get("host", {})
    where = (host.get("ip") or [None])[0] or host.get("name")
    name = (host.get("name") if host.get("ip") else None)
    port = f.get("server", {}).get("port") or f.get("destination", {}).get("port")
    service = f.get("service", {}).get("name") or f.get("network", {}).get("protocol")
    place = " ".join(x for x in (name, f"{where}:{port}" if where and port else where) if x)
    if service:
        place += f" ({service})"
    sign = " — ".join(x for x in (check_name(cs.get("check", ""), lang, names), place, _when(f.get("@timestamp"), lang))
                      if x)
    area = (f.get("event", {}).get("dataset") or "").partition(".")[2]
    line = (cs.get(area) or {}).get("line") if area else None
    return f"{sign} — {L['log_line']}: «{str(line)[:300]}»" if isinstance(line, str) and line.strip() else sign


def report_fields(view: dict[str, Any], lang: str, now: str,
                  names: dict[str, dict[str, str]] | None = None) -> dict[str, Any]:
    """Everything the templates show, from a case view (pure); ``names``: check id → its name in
    both languages (the catalogues')."""
    L = labels()[lang]
    rec, ctx = view["record"], view["record"].get("context", {})
    system = ctx.get("system") or {}
    contacts = ctx.get("contacts") or []
    first = contacts[0] if contacts else {}
    done = [f"{s['title'][lang]} ({_when(s['ended_at'], lang)})" for s in view["steps"]
            if s["kind"] != "approval" and s["state"] == "done"]
    planned = [f"{s['title'][lang]}" for s in view["steps"] if s["state"] in ("pending", "waiting", "running")]
    custody = rec.get("chain_of_custody", [])
    level = view.get("level") or system.get("level")
    agency = (lang == "en" and ctx.get("agency_name_en")) or ctx.get("agency_name") or view["agency"]
    return {
        "case_id": view["id"], "dry_run": bool(view.get("dry_run")), "generated_at": _when(now, lang), "dated": _dated(now, lang, L), "agency": agency,
        "operator": ctx.get("operator_name") or _local(system, "operator", lang) or agency,
        "owner": ctx.get("owner_name") or _local(system, "owner", lang) or agency,
        "system": _local(system, "name", lang) or view.get("system"), "level": str(level) if level else None,
        "host": " ".join(x for x in (ctx.get("host_name"), view.get("host")) if x) or None,
        "detected_at": _when(view["detected_at"], lang), "response_ended_at": _when(view.get("response_ended_at"), lang),
        "contact": {"name": first.get("name"), "position": _local(first, "role", lang), "phone": first.get("phone"),
                    "email": first.get("email")},
        "type": TYPES[lang][view["incident_type"]], "severity": L.get(f"sev_{view['severity']}", view["severity"]),
        "status": L.get(f"status_{view['status']}", view["status"]),
        "summary": _summary(view, rec, lang), "indicators": view["nist"]["indicators"],
        "symptoms": rec.get("symptoms") or [_sign(f, lang, names, L) for f in view["findings"]] or None,
        "harm_estimate": rec.get("harm_estimate"), "spread": rec.get("spread"), "impact": rec.get("impact"),
        "infrastructure_provider": rec.get("infrastructure_provider"),
        "measures": done + [f"({'dự kiến' if lang == 'vi' else 'planned'}) {p}" for p in planned]
        + rec.get("measures", []),
        "helpers": rec.get("helpers", []), "first_result": rec.get("first_result"),
        "recommendations": rec.get("recommendations"),
        "handled": rec.get("handled") or L.get(f"status_{view['status']}", view["status"]),
        "detection_method": rec.get("detection_method") or ", ".join(sorted(
            {L.get(f"ds_{ds}", ds) for f in view["findings"] if (ds := f.get("event", {}).get("dataset"))})) or None,
        "services": rec.get("services", []), "security_measures": rec.get("security_measures", []),
        "public_addresses": rec.get("public_addresses", []),
        "attachments": rec.get("attachments", []) + [f"{c['stored_as']} (SHA-256 {c['sha256']})" for c in custody],
        "root_cause": rec.get("root_cause"), "lessons": rec.get("lessons"),
        "times": {k: _hours(v, lang, L) for k, v in view["times"].items()},
        "steps": [{"title": s["title"][lang], "state": L.get(f"st_{s['state']}", s["state"]),
                   "ended_at": _when(s["ended_at"], lang)} for s in view["steps"]],
        "deadlines": [_deadline(d, lang, L) for d in view["deadlines"]],
        "custody": [c | {"collected_at": _when(c.get("collected_at"), lang)} for c in custody],
    }


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def render(view: dict[str, Any], kind: str, lang: str, now: str | None = None,
           names: dict[str, dict[str, str]] | None = None) -> str:
    """The HTML of one report of a case; ``names`` as for :func:`report_fields`."""
    fields = _clean(report_fields(view, lang, now or iso(utcnow()), names))
    return environment().get_template(f"incident_{kind}.html.j2").render(r=fields, L=labels()[lang], lang=lang)
