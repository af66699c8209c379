"""The query interface over Elasticsearch: terms and top_hits aggregations, one search per batch.

History and events live in the data streams ``logs-citysec.<area>-<namespace>`` (history: the
documents with ``event.kind: state``). Only aggregations every Elasticsearch-compatible server
here answers are used (terms, filters, top_hits): no composite aggregation, no min/max over dates
(the test server answers those with null), no CIDR queries — the agency is on every document.
A ``host`` is ``host.ip`` or, for documents without an address, ``host.name`` (as in the store).
"""

from __future__ import annotations

from typing import Any

from .errors import RuntimeFailure
from .query import Ask, Query, Source, Where, check_source, doc_path, normalise, sort_rows

BUCKETS = 500_000   # terms size: more than any city has agencies, hosts or findings


def _term_values(path: str, values: tuple) -> dict:
    return {"terms": {path: list(values)}}


def where_dsl(source: str, w: Where) -> dict:
    """The bool query of a :class:`Where` for one source."""
    flt: list[dict] = []
    must_not: list[dict] = []
    rng = {k: v for k, v in (("gte", w.start_iso), ("lt", w.end_iso)) if v}
    if rng:
        flt.append({"range": {"@timestamp": rng}})
    if source == "history":
        flt.append({"term": {"event.kind": "state"}})
    else:
        must_not.append({"term": {"event.kind": "state"}})
    exact, prefixes = w.check_ids()
    should = ([_term_values("citysec.check", exact)] if exact else []) + [
        {"prefix": {"citysec.check": p}} for p in prefixes]
    if should:
        flt.append({"bool": {"should": should, "minimum_should_match": 1}})
    for name, values in (("agency", w.agencies), ("kind", w.kinds), ("verdict", w.verdicts),
                         ("dataset", w.datasets)):
        if values:
            flt.append(_term_values(doc_path(name), values))
    for name, value in w.equals:
        flt.append({"term": {doc_path(name): value}})
    return {"bool": {"filter": flt, "must_not": must_not}}


def _get(src: dict, path: str) -> Any:
    node: Any = src
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _source_value(src: dict, name: str) -> Any:
    if name == "host":
        ips = _get(src, "host.ip")
        return (ips[0] if isinstance(ips, list) else ips) if ips else _get(src, "host.name")
    return _get(src, doc_path(name))


def _first_hit(order: str) -> dict:
    return {"top_hits": {"size": 1, "sort": [{"@timestamp": {"order": order}}],
                         "_source": {"includes": ["@timestamp"]}}}


def _ts(bucket: dict, name: str) -> str:
    return bucket[name]["hits"]["hits"][0]["_source"]["@timestamp"]


def _parts(a: Ask) -> list[tuple[dict, dict]]:
    """(query, aggregations) of one request: a group by host is two (by address, then documents
    without one by name, as the store's host column)."""
    check_source(a.source)
    query = where_dsl(a.source, a.where)
    if a.op == "latest":
        return [(query, _latest_aggs(a.by[0], a.fields))]
    if "host" not in a.by:
        return [(query, _group_aggs([doc_path(b) for b in a.by], a.times))]
    paths = [doc_path(b) if b != "host" else "host.ip" for b in a.by]
    named = {"bool": {"filter": [query], "must_not": [{"exists": {"field": "host.ip"}}]}}
    return [(query, _group_aggs(paths, a.times)),
            (named, _group_aggs([p if p != "host.ip" else "host.name" for p in paths], a.times))]


def _group_aggs(paths: list[str], times: bool) -> dict:
    aggs: dict[str, Any] = {"first": _first_hit("asc"), "last": _first_hit("desc")} if times else {}
    for i in reversed(range(len(paths))):
        aggs = {f"g{i}": {"terms": {"field": paths[i], "size": BUCKETS}, **({"aggs": aggs} if aggs else {})}}
    return aggs


def _latest_aggs(key: str, fields: tuple[str, ...]) -> dict:
    includes = ["@timestamp"] + [("host" if f == "host" else doc_path(f)) for f in fields]
    return {"k": {"terms": {"field": doc_path(key), "size": BUCKETS}, "aggs": {"top": {"top_hits": {
        "size": 1, "sort": [{"@timestamp": {"order": "desc"}}], "_source": {"includes": includes}}}}}}


def _rows(a: Ask, node: dict) -> list[dict[str, Any]]:
    """The rows of one request from its ``filters`` bucket."""
    if a.op == "latest":
        return _latest_rows(a.by[0], a.fields, node.get("k", {"buckets": []})["buckets"])
    if not a.by:
        if not node["doc_count"]:
            return []
        row: dict[str, Any] = {"count": node["doc_count"]}
        if a.times:
            row |= {"first": _ts(node, "first"), "last": _ts(node, "last")}
        return [row]
    out: list[dict] = []
    _walk(node.get("g0", {"buckets": []})["buckets"], a.by, 0, {}, a.times, out)
    return out


def _walk(buckets: list, by: tuple[str, ...], depth: int, prefix: dict, times: bool, out: list) -> None:
    for b in buckets:
        row = prefix | {by[depth]: normalise(b.get("key_as_string", b["key"])
                                             if isinstance(b["key"], bool) else b["key"])}
        if depth + 1 < len(by):
            _walk(b[f"g{depth + 1}"]["buckets"], by, depth + 1, row, times, out)
            continue
        row["count"] = b["doc_count"]
        if times:
            row |= {"first": _ts(b, "first"), "last": _ts(b, "last")}
        out.append(row)


def _latest_rows(key: str, fields: tuple[str, ...], buckets: list) -> list[dict[str, Any]]:
    out = []
    for b in buckets:
        src = b["top"]["hits"]["hits"][0]["_source"]
        row = {key: normalise(b["key"]), "ts": src["@timestamp"], "count": b["doc_count"]}
        row |= {f: normalise(_source_value(src, f)) for f in fields}
        out.append(row)
    return out


class ElasticQuery(Query):
    """``client`` is an ``elasticsearch.Elasticsearch``; ``namespace`` the data streams' namespace."""

    name = "elasticsearch"

    def __init__(self, client: Any, namespace: str):
        self.es = client
        self.namespace = namespace
        self.index = f"logs-citysec.*-{namespace}"

    def _indices(self, where: Where) -> str:
        """Only the data streams of the datasets asked for (a server scans less), else all."""
        if not where.datasets:
            return self.index
        return ",".join(f"logs-{d}-{self.namespace}" for d in where.datasets)

    def _search(self, query: dict, aggs: dict, index: str | None = None) -> dict:
        index = index or self.index
        try:
            resp = self.es.search(index=index, size=0, query=query, aggs=aggs,
                                  ignore_unavailable=True, allow_no_indices=True,
                                  track_total_hits=True)
        except Exception as exc:  # the client's transport and API errors: one typed failure
            raise RuntimeFailure(f"Elasticsearch query on {index} failed: {exc}") from exc
        return resp.body if hasattr(resp, "body") else resp

    def group(self, source: Source, where: Where, by: tuple[str, ...], *,
              times: bool = False) -> list[dict[str, Any]]:
        return self.many([Ask.group(source, where, by, times=times)])[0]

    def latest(self, source: Source, where: Where, key: str,
               fields: tuple[str, ...]) -> list[dict[str, Any]]:
        return self.many([Ask.latest(source, where, key, fields)])[0]

    def many(self, asks: list[Ask]) -> list[list[dict[str, Any]]]:
        """All requests in one search: each is a ``filters`` aggregation with its own query, so the
        server reads the targeted data streams once, whatever the number of requests."""
        parts = [(i, q, aggs) for i, a in enumerate(asks) for q, aggs in _parts(a)]
        if not parts:
            return []
        body = {f"r{n}": {"filters": {"filters": {"q": q}}, **({"aggs": aggs} if aggs else {})}
                for n, (_, q, aggs) in enumerate(parts)}
        union = {"bool": {"should": [q for _, q, _ in parts], "minimum_should_match": 1}}
        resp = self._search(union, body, self._indices_of(asks))
        found = resp.get("aggregations")     # none: no such data stream (yet), nothing to count
        out: list[list[dict]] = [[] for _ in asks]
        for n, (i, _, _) in enumerate(parts):
            node = found[f"r{n}"]["buckets"]["q"] if found else {"doc_count": 0}
            out[i] += _rows(asks[i], node)
        return [sort_rows(rows, a.by) for rows, a in zip(out, asks)]

    def _indices_of(self, asks: list[Ask]) -> str:
        names = [self._indices(a.where) for a in asks]
        if self.index in names:
            return self.index
        return ",".join(dict.fromkeys(n for name in names for n in name.split(",")))

    def close(self) -> None:
        self.es.close()
