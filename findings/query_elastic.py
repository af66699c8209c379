"""The query interface over Elasticsearch: terms and top_hits aggregations, one search per call.

History and events live in the data streams ``logs-citysec.<area>-<namespace>`` (history: the
documents with ``event.kind: state``). Only aggregations every Elasticsearch-compatible server
here answers are used (terms, filters, top_hits): no composite aggregation, no min/max over dates
(the test server answers those with null), no CIDR queries — the agency is on every document.
A ``host`` is ``host.ip`` or, for documents without an address, ``host.name`` (as in the store).
"""

from __future__ import annotations

from typing import Any

from .errors import RuntimeFailure
from .query import Query, Source, Where, check_source, doc_path, normalise, sort_rows

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
        check_source(source)
        query, index = where_dsl(source, where), self._indices(where)
        if "host" not in by:
            return sort_rows(self._group(query, by, [doc_path(b) for b in by], times, index), by)
        # hosts: by address, then (documents without one) by name, as the store's host column
        paths = [doc_path(b) if b != "host" else "host.ip" for b in by]
        rows = self._group(query, by, paths, times, index)
        named = {"bool": {"filter": [query], "must_not": [{"exists": {"field": "host.ip"}}]}}
        rows += self._group(named, by, [p if p != "host.ip" else "host.name" for p in paths], times, index)
        return sort_rows(rows, by)

    def _group(self, query: dict, by: tuple[str, ...], paths: list[str], times: bool,
               index: str) -> list[dict]:
        leaf: dict[str, Any] = {"first": _first_hit("asc"), "last": _first_hit("desc")} if times else {}
        aggs = leaf
        for i in reversed(range(len(paths))):
            aggs = {f"g{i}": {"terms": {"field": paths[i], "size": BUCKETS}, **({"aggs": aggs} if aggs else {})}}
        resp = self._search(query, aggs, index)
        if not by:
            total = resp["hits"]["total"]["value"]
            if not total:
                return []
            row: dict[str, Any] = {"count": total}
            if times:
                row |= {"first": _ts(resp["aggregations"], "first"), "last": _ts(resp["aggregations"], "last")}
            return [row]
        out: list[dict] = []
        if "aggregations" not in resp:      # no such data stream (yet): nothing to count
            return out
        self._walk(resp["aggregations"]["g0"]["buckets"], by, 0, {}, times, out)
        return out

    def _walk(self, buckets: list, by: tuple[str, ...], depth: int, prefix: dict, times: bool,
              out: list) -> None:
        for b in buckets:
            row = prefix | {by[depth]: normalise(b.get("key_as_string", b["key"])
                                                 if isinstance(b["key"], bool) else b["key"])}
            if depth + 1 < len(by):
                self._walk(b[f"g{depth + 1}"]["buckets"], by, depth + 1, row, times, out)
                continue
            row["count"] = b["doc_count"]
            if times:
                row |= {"first": _ts(b, "first"), "last": _ts(b, "last")}
            out.append(row)

    def latest(self, source: Source, where: Where, key: str,
               fields: tuple[str, ...]) -> list[dict[str, Any]]:
        check_source(source)
        includes = ["@timestamp"] + [("host" if f == "host" else doc_path(f)) for f in fields]
        aggs = {"k": {"terms": {"field": doc_path(key), "size": BUCKETS}, "aggs": {"top": {"top_hits": {
            "size": 1, "sort": [{"@timestamp": {"order": "desc"}}], "_source": {"includes": includes}}}}}}
        resp = self._search(where_dsl(source, where), aggs, self._indices(where))
        out = []
        for b in resp.get("aggregations", {"k": {"buckets": []}})["k"]["buckets"]:
            src = b["top"]["hits"]["hits"][0]["_source"]
            row = {key: normalise(b["key"]), "ts": src["@timestamp"], "count": b["doc_count"]}
            row |= {f: normalise(_source_value(src, f)) for f in fields}
            out.append(row)
        return sort_rows(out, (key,))

    def close(self) -> None:
        self.es.close()
