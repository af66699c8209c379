"""The query interface over the local SQLite store: each call is one SQL ``GROUP BY``."""

from __future__ import annotations

import json
from typing import Any

from findings.query import Query, Source, Where, check_source, doc_path, normalise, sort_rows
from findings.store import Store

# logical field → column, per source (what is not a column is read from the JSON document)
_COLUMNS: dict[str, dict[str, str]] = {
    "history": {"agency": "agency", "check": "check_id", "host": "host", "verdict": "verdict",
                "severity": "severity", "status": "status", "fingerprint": "fingerprint",
                "dataset": "dataset", "kind": "'state'"},
    "events": {"agency": "agency", "check": "check_id", "host": "host", "severity": "severity",
               "dataset": "dataset", "kind": "kind"},
}
_TABLES = {"history": "history", "events": "events"}
SCALAR = frozenset({"agency", "check", "host", "verdict", "severity", "status", "fingerprint", "dataset", "kind",
                    "first_seen", "last_seen", "host_name", "message", "port", "banner", "check_name"})


def _expr(source: str, name: str) -> str:
    col = _COLUMNS[source].get(name)
    if col:
        return col
    path = doc_path(name)
    return f"json_extract(doc, '$.{path}')"


def _in(expr: str, values: tuple, params: list) -> str:
    params.extend(values)
    return f"{expr} IN ({','.join('?' * len(values))})"


def where_sql(source: str, w: Where) -> tuple[str, list[Any]]:
    """The WHERE clause of a :class:`Where` (parameters separate, never spliced into SQL)."""
    parts, params = ["1=1"], []
    if w.start:
        parts.append("ts >= ?"), params.append(w.start_iso)
    if w.end:
        parts.append("ts < ?"), params.append(w.end_iso)
    exact, prefixes = w.check_ids()
    ors = []
    if exact:
        ors.append(_in("check_id", exact, params))
    for p in prefixes:
        ors.append("substr(check_id, 1, ?) = ?"), params.extend([len(p), p])
    if ors:
        parts.append("(" + " OR ".join(ors) + ")")
    for name, values in (("agency", w.agencies), ("kind", w.kinds), ("verdict", w.verdicts),
                         ("dataset", w.datasets)):
        if values:
            parts.append(_in(_expr(source, name), values, params))
    for name, value in w.equals:
        parts.append(f"{_expr(source, name)} = ?"), params.append(value)
    return " AND ".join(parts), params


class SqliteQuery(Query):
    """Reads the store's ``history`` and ``events`` tables."""

    name = "sqlite"

    def __init__(self, store: Store):
        self.store = store

    def _rows(self, sql: str, params: list[Any]) -> list[dict[str, Any]]:
        return [dict(r) for r in self.store.query(sql, params)]

    def group(self, source: Source, where: Where, by: tuple[str, ...], *,
              times: bool = False) -> list[dict[str, Any]]:
        check_source(source)
        cond, params = where_sql(source, where)
        exprs = [_expr(source, b) for b in by]
        cols = [f"{e} AS g{i}" for i, e in enumerate(exprs)]
        not_null = "".join(f" AND {e} IS NOT NULL" for e in exprs)
        stats = ", MIN(ts) AS first, MAX(ts) AS last" if times else ""
        group = f" GROUP BY {', '.join(f'g{i}' for i in range(len(by)))}" if by else ""
        sql = (f"SELECT {', '.join(cols + ['COUNT(*) AS count'])}{stats} FROM {_TABLES[source]}"
               f" WHERE {cond}{not_null}{group}")
        out = []
        for r in self._rows(sql, params):
            if not by and r["count"] == 0:
                continue
            row = {b: normalise(r[f"g{i}"]) for i, b in enumerate(by)} | {"count": r["count"]}
            if times:
                row |= {"first": r["first"], "last": r["last"]}
            out.append(row)
        return sort_rows(out, by)

    def latest(self, source: Source, where: Where, key: str,
               fields: tuple[str, ...]) -> list[dict[str, Any]]:
        check_source(source)
        cond, params = where_sql(source, where)
        kexpr = _expr(source, key)
        table = _TABLES[source]
        cols = [f for f in fields if f in _COLUMNS[source]]
        paths = [f for f in fields if f not in _COLUMNS[source]]
        # SQLite: in an aggregate query with one MAX(), bare columns come from the row of the max.
        # The inner query finds each key's latest row without parsing documents (an index on
        # (key, ts) covers it); only those rows' documents are read, each parsed once: one
        # json_extract with every path gives a JSON array of the values.
        extract = ", json_extract(doc" + "".join(f", '$.{doc_path(f)}'" for f in paths) + ")" if paths else ""
        sql = (f"SELECT m.k AS k, m.mts AS ts, m.n AS count{''.join(f', {_expr(source, c)}' for c in cols)}{extract}"
               f" FROM (SELECT {kexpr} AS k, MAX(ts) AS mts, COUNT(*) AS n, rowid AS rid FROM {table}"
               f" WHERE {cond} AND {kexpr} IS NOT NULL GROUP BY k) AS m JOIN {table} ON {table}.rowid = m.rid")
        out = []
        for r in self.store.query(sql, params):
            vals = {c: r[3 + i] for i, c in enumerate(cols)}
            if len(paths) == 1:
                v = r[3 + len(cols)]
                vals[paths[0]] = v if paths[0] in SCALAR else normalise(v)   # JSON text parsed
            elif paths:
                vals |= zip(paths, json.loads(r[3 + len(cols)], parse_float=_number))
            out.append({key: normalise(r[0]), "ts": r[1], "count": r[2]} | {f: vals[f] for f in fields})
        return sort_rows(out, (key,))


def _number(text: str) -> int | float:
    """A JSON number with a fraction: whole ones as integers (as :func:`findings.query.normalise`)."""
    v = float(text)
    return int(v) if v.is_integer() else v
