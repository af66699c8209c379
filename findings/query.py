"""The query interface reports read through: two primitives, two back ends, the same figures.

Back ends: :class:`findings.query_sqlite.SqliteQuery` (the local store: SQL ``GROUP BY``) and
:class:`findings.elastic.query.ElasticQuery` (the city-wide cluster: terms and top_hits
aggregations). Both aggregate in the store; callers get rows that are already grouped — one row
per group or per finding, never one per stored observation.

Sources: ``history`` (state observations: ``event.kind: state``) and ``events`` (alerts, workflow
events of cases and drills, metrics, asset sightings).

Fields are logical names (``agency``, ``check``, ``host``, ``verdict``, ``severity``, ``status``,
``fingerprint``, ``dataset``, ``kind``, ``first_seen``, ``last_seen``, ``remediation``) or a
dotted document path under ``citysec.`` (for example ``citysec.case.type``).
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from findings.errors import UsageError
from findings.model import iso

Source = Literal["history", "events"]
SOURCES = ("history", "events")

# logical field → document path (the Elasticsearch field, and the JSON path in the store's doc)
FIELDS: dict[str, str] = {
    "agency": "organization.id",
    "check": "citysec.check",
    "host": "host.ip",
    "verdict": "citysec.verdict",
    "severity": "citysec.severity",
    "status": "citysec.status",
    "fingerprint": "citysec.fingerprint",
    "dataset": "event.dataset",
    "kind": "event.kind",
    "first_seen": "citysec.first_seen",
    "last_seen": "citysec.last_seen",
    "remediation": "citysec.remediation",
    "host_name": "host.name",
    "message": "message",
    "port": "server.port",
    "banner": "service.version",
    "check_name": "rule.name",
}


def doc_path(name: str) -> str:
    """The document path of a logical field name, or the path itself (``citysec.*`` only)."""
    if name in FIELDS:
        return FIELDS[name]
    if name.startswith(("citysec.", "server.", "rule.", "host.", "service.")) and all(part.replace("_", "").isalnum() for part in name.split(".")):
        return name
    raise UsageError(f"unknown query field {name!r}; known: {', '.join(FIELDS)} or citysec.<area>.<field>")


@dataclass(frozen=True)
class Where:
    """Which documents: a half-open time range [start, end), and filters that all must hold.
    ``checks`` holds check ids or prefixes ending in '.'; ``equals`` more field = value pairs."""

    start: datetime | None = None
    end: datetime | None = None
    checks: tuple[str, ...] = ()
    agencies: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    verdicts: tuple[str, ...] = ()
    datasets: tuple[str, ...] = ()
    equals: tuple[tuple[str, Any], ...] = ()

    @property
    def start_iso(self) -> str | None:
        return iso(self.start) if self.start else None

    @property
    def end_iso(self) -> str | None:
        return iso(self.end) if self.end else None

    def check_ids(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(exact ids, prefixes ending in '.')."""
        return (tuple(c for c in self.checks if not c.endswith(".")),
                tuple(c for c in self.checks if c.endswith(".")))


def normalise(value: Any) -> Any:
    """The one representation both back ends return: JSON text parsed, timestamps as written."""
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


@dataclass(frozen=True)
class Ask:
    """One request of a batch (:meth:`Query.many`): a ``group`` or a ``latest`` with that
    method's arguments. Build it with :meth:`Ask.group` or :meth:`Ask.latest`."""

    op: Literal["group", "latest"]
    source: Source
    where: Where
    by: tuple[str, ...] = ()          # group: the fields; latest: (key,)
    fields: tuple[str, ...] = ()
    times: bool = False

    @classmethod
    def group(cls, source: Source, where: Where, by: tuple[str, ...], *, times: bool = False) -> Ask:
        return cls("group", source, where, by, times=times)

    @classmethod
    def latest(cls, source: Source, where: Where, key: str, fields: tuple[str, ...]) -> Ask:
        return cls("latest", source, where, (key,), fields)


class Query(ABC):
    """What reports may ask of a findings store."""

    name = "query"

    @abstractmethod
    def group(self, source: Source, where: Where, by: tuple[str, ...], *,
              times: bool = False) -> list[dict[str, Any]]:
        """Count documents per distinct combination of ``by`` fields (documents missing one of
        them are not counted). Each row: the ``by`` values and ``count``; with ``times``, also
        ``first`` and ``last`` (the earliest and latest ``@timestamp``). Sorted by the ``by`` values."""

    @abstractmethod
    def latest(self, source: Source, where: Where, key: str,
               fields: tuple[str, ...]) -> list[dict[str, Any]]:
        """For each distinct value of ``key``: the ``fields`` of its latest document, with
        ``ts`` (that document's time) and ``count`` (documents of that key). Sorted by key."""

    def many(self, asks: list[Ask]) -> list[list[dict[str, Any]]]:
        """The answers of several requests, in order. A back end may answer them together
        (Elasticsearch: one search, so the documents are read once); by default one by one."""
        return [self.group(a.source, a.where, a.by, times=a.times) if a.op == "group"
                else self.latest(a.source, a.where, a.by[0], a.fields) for a in asks]

    def close(self) -> None:
        """Release connections (nothing by default)."""


def check_source(source: str) -> None:
    if source not in SOURCES:
        raise UsageError(f"unknown query source {source!r}; known: {', '.join(SOURCES)}")


def sort_rows(rows: list[dict[str, Any]], by: tuple[str, ...]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda r: tuple("" if r.get(b) is None else str(r.get(b)) for b in by))
