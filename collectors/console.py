"""Import of a central AV console's export (CSV). The column mapping comes from the config
(``policies.antivirus.console_import.columns``: our field → the CSV's column name).

Our fields: ``ip`` (required), ``host``, ``product``, ``version``, ``signature_time``,
``realtime`` (enabled/on/true/yes/1 → running), ``last_seen``. Hosts the console knows are
only a source of state: coverage is still measured against the hosts the scanners found.
"""

from __future__ import annotations

import csv
import io
import ipaddress
from datetime import datetime, timezone

from findings.errors import UsageError
from findings.model import clean_text

from .antivirus import AvState

FIELDS = {"ip", "host", "product", "version", "signature_time", "realtime", "last_seen"}
TRUE = {"enabled", "on", "true", "yes", "1", "running", "bật"}


def _time(value: str) -> datetime | None:
    value = value.strip()
    if not value:
        return None
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y"):
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=timezone.utc)
        except ValueError:
            continue
    ts = datetime.fromisoformat(value)
    return ts if ts.tzinfo else ts.replace(tzinfo=timezone.utc)


def parse_console_csv(text: str, columns: dict[str, str], source: str = "<csv>") -> dict[str, AvState]:
    """ip → AvState. Raises UsageError naming the file, the row and the column on bad input."""
    unknown = set(columns) - FIELDS
    if unknown or "ip" not in columns:
        raise UsageError(f"{source}: column mapping: unknown fields {sorted(unknown)} (known: {sorted(FIELDS)}); "
                         "'ip' is required")
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in columns.values() if c not in (reader.fieldnames or [])]
    if missing:
        raise UsageError(f"{source}: the CSV has no column {', '.join(map(repr, missing))} "
                         f"(it has: {', '.join(reader.fieldnames or [])})")
    out: dict[str, AvState] = {}
    for n, row in enumerate(reader, start=2):
        get = {f: (row.get(c) or "").strip() for f, c in columns.items()}
        try:
            ip = str(ipaddress.ip_address(get["ip"]))
            sig = _time(get["signature_time"]) if "signature_time" in get else None
        except ValueError as exc:
            raise UsageError(f"{source}: line {n}: {exc}") from None
        realtime = get["realtime"].lower() in TRUE if "realtime" in get else None
        out[ip] = AvState(source="console", installed=True, product=clean_text(get.get("product"), 200),
                          version=clean_text(get.get("version"), 100), db_time=sig, enabled=realtime, updater=None,
                          raw={"host": clean_text(get.get("host"), 255), "last_seen": get.get("last_seen"),
                               "line": n})
    return out
