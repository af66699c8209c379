"""Reporting periods in the city's local time (UTC+7): half years, years, compliance years."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from findings.errors import UsageError

LOCAL = timezone(timedelta(hours=7), "ICT")
_HALF = re.compile(r"^(\d{4})-H([12])$")
_YEAR = re.compile(r"^(\d{4})$")


@dataclass(frozen=True)
class Period:
    """[start, end) in local time. ``label``: ``2026-H2``, ``2026`` or ``C2026`` (compliance year:
    15 December of the year before to 14 December, Circular 12 art. 13)."""

    label: str
    start: datetime
    end: datetime

    @property
    def kind(self) -> str:
        return "compliance" if self.label.startswith("C") else ("half" if "-H" in self.label else "year")

    @property
    def last_day(self) -> datetime:
        return self.end - timedelta(days=1)

    def previous(self) -> Period:
        if self.kind == "half":
            year, half = int(self.label[:4]), int(self.label[-1])
            return parse_period(f"{year}-H1" if half == 2 else f"{year - 1}-H2")
        if self.kind == "year":
            return parse_period(str(int(self.label) - 1))
        return compliance_year(int(self.label[1:]) - 1)

    def history(self, count: int) -> list[Period]:
        """This period and the ``count - 1`` before it, oldest first."""
        out = [self]
        while len(out) < count:
            out.append(out[-1].previous())
        return out[::-1]


def _local(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, tzinfo=LOCAL)


def parse_period(text: str) -> Period:
    """``2026-H1``, ``2026-H2`` or ``2026``; anything else is a usage error."""
    text = (text or "").strip()
    if m := _HALF.match(text):
        year, half = int(m.group(1)), int(m.group(2))
        start = _local(year, 1 if half == 1 else 7, 1)
        end = _local(year, 7, 1) if half == 1 else _local(year + 1, 1, 1)
        return Period(text, start, end)
    if m := _YEAR.match(text):
        year = int(m.group(1))
        return Period(text, _local(year, 1, 1), _local(year + 1, 1, 1))
    raise UsageError(f"--period {text!r}: expected a half year like 2026-H2 or a year like 2026")


def compliance_year(year: int) -> Period:
    if not 2000 <= year <= 2100:
        raise UsageError(f"--year {year}: expected a year like 2026")
    return Period(f"C{year}", _local(year - 1, 12, 15), _local(year, 12, 15))
