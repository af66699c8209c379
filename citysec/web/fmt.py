"""Numbers, dates and durations on the console's pages: the reports' formats (one place for both)."""

from __future__ import annotations

from datetime import datetime

from findings.model import parse_ts
from reports import fmt as rf


def number(value, lang: str, digits: int = 0) -> str:
    return rf.number(value, lang, digits)


def percent(value, lang: str) -> str:
    return rf.percent(value, lang)


def date(value, lang: str) -> str:
    return rf.date(value, lang) if value else "—"


def when(value, lang: str) -> str:
    """A date and time (HH:MM) in the city's time zone."""
    return rf.datetime_(value, lang) if value else "—"


def duration(seconds: float | None, lang: str) -> str:
    """'2 ngày 3 giờ' / '2 d 3 h', '45 phút' / '45 min'; negative = overdue by that much."""
    if seconds is None:
        return "—"
    late = seconds < 0
    s = int(abs(seconds))
    d, h, m = s // 86400, s % 86400 // 3600, s % 3600 // 60
    units = (("ngày", "giờ", "phút") if lang == "vi" else ("d", "h", "min"))
    parts = [f"{v} {u}" for v, u in zip((d, h, m), units) if v][:2] or [f"0 {units[2]}"]
    text = " ".join(parts)
    if late:
        return ("quá hạn " if lang == "vi" else "overdue by ") + text
    return text


def left(deadline: str | datetime | None, now: datetime, lang: str) -> str:
    if not deadline:
        return "—"
    due = parse_ts(deadline) if isinstance(deadline, str) else deadline
    return duration((due - now).total_seconds(), lang)
