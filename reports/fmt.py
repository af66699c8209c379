"""Local formats: Vietnamese (30/11/2026, 1.234,5) and English (30 Nov 2026, 1,234.5)."""

from __future__ import annotations

from datetime import datetime

from findings.model import parse_ts

from .period import LOCAL

LANGS = ("vi", "en")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


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
    """A date in the city's time zone."""
    if value is None:
        return "—"
    d = (parse_ts(value) if isinstance(value, str) else value).astimezone(LOCAL)
    return f"{d.day:02d}/{d.month:02d}/{d.year}" if lang == "vi" else f"{d.day} {_MONTHS[d.month - 1]} {d.year}"


def datetime_(value: datetime | str | None, lang: str) -> str:
    if value is None:
        return "—"
    d = (parse_ts(value) if isinstance(value, str) else value).astimezone(LOCAL)
    return f"{date(d, lang)} {d.hour:02d}:{d.minute:02d}"


def cell(value, kind: str, lang: str) -> str:
    """One table cell as text, by its column kind: text, int, num, pct, delta, date."""
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
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value) or "—"
    return "—" if value is None or value == "" else str(value)
