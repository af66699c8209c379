"""Local formats: Vietnamese (30/11/2026, 1.234,5) and English (30 Nov 2026, 1,234.5)."""

from __future__ import annotations

from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from findings.errors import UsageError
from findings.model import parse_ts

from .period import LOCAL

LANGS = ("vi", "en")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


_ZONE: list[tzinfo] = [LOCAL]


def use_zone(name: str) -> None:
    """The city's time zone for every date and time of the documents (config reports.timezone)."""
    try:
        _ZONE[0] = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UsageError(f"reports.timezone: unknown time zone {name!r}") from exc


def zone() -> tzinfo:
    return _ZONE[0]


def number(value: float | None, lang: str, digits: int = 0) -> str:
    """Grouped thousands and the local decimal mark; ``—`` for no value."""
    if value is None:
        return "—"
    text = f"{value:,.{digits}f}"
    if lang == "vi":
        text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return text


def percent(value: float | None, lang: str, digits: int = 1) -> str:
    return "—" if value is None else number(value, lang, digits) + " %"


def signed(value: float | None, lang: str, digits: int = 0) -> str:
    if value is None:
        return "—"
    text = number(abs(value), lang, digits)
    return ("+" if value > 0 else "−" if value < 0 else "±") + text


def date(value: datetime | str | None, lang: str) -> str:
    """A date in the city's time zone (a plain ``2026-12-31`` is that day)."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str) and len(value) == 10:
        y, m, d_ = value.split("-")
        return f"{d_}/{m}/{y}" if lang == "vi" else f"{int(d_)} {_MONTHS[int(m) - 1]} {y}"
    d = (parse_ts(value) if isinstance(value, str) else value).astimezone(zone())
    return f"{d.day:02d}/{d.month:02d}/{d.year}" if lang == "vi" else f"{d.day} {_MONTHS[d.month - 1]} {d.year}"


def datetime_(value: datetime | str | None, lang: str) -> str:
    if value is None:
        return "—"
    d = (parse_ts(value) if isinstance(value, str) else value).astimezone(zone())
    return f"{date(d, lang)} {d.hour:02d}:{d.minute:02d}"


def duration(seconds: float | None, lang: str) -> str:
    """A duration in words: "4 ngày 23 giờ" / "4 days 23 h"; minutes below a day."""
    if seconds is None:
        return "—"
    m = int(round(seconds / 60))
    d, h, mi = m // 1440, m % 1440 // 60, m % 60
    units = (("ngày", "giờ", "phút") if lang == "vi" else ("d", "h", "min"))
    parts = [(d, units[0]), (h, units[1])] + ([(mi, units[2])] if d == 0 else [])
    if lang == "en":
        parts = [(d, "day" if d == 1 else "days"), (h, "h")] + ([(mi, "min")] if d == 0 else [])
    shown = [f"{n} {u}" for n, u in parts if n] or [f"0 {units[2] if lang == 'vi' else 'min'}"]
    return " ".join(shown)


def cell(value, kind: str, lang: str) -> str:
    """One table cell as text, by its column kind: text, code, int, num, pct, delta, date, datetime
    (a value already written as text is shown as it is)."""
    if isinstance(value, str) and kind in ("int", "num", "pct", "delta"):
        return value
    if kind == "int":
        return number(value, lang)
    if kind == "num":
        return number(value, lang, 1)
    if kind == "pct":
        return percent(value, lang)
    if kind == "delta":
        return signed(value, lang, 1 if isinstance(value, float) and not value.is_integer() else 0)
    if kind == "date":
        return date(value, lang)
    if kind == "datetime":
        return datetime_(value, lang)
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value) or "—"
    return "—" if value is None or value == "" else str(value)
