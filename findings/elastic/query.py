"""The query interface over Elasticsearch: terms and top_hits aggregations, one round trip per batch.

History and events live in the data streams ``logs-citysec.<area>-<namespace>`` (history: the
documents with ``event.kind: state``). Only aggregations every Elasticsearch-compatible server
here answers are used (terms, filters, top_hits): no composite aggregation, no min/max over dates
(the test server answers those with null), no CIDR queries — the agency is on every document.
A ``host`` is ``host.ip`` or, for documents without an address, ``host.name`` (as in the store).

A batch is one multi-search: each request is its own search of only the data streams it names
(measured on noida-db, which reads every document of the targeted streams per search and per
aggregation: one search with a ``filters`` bucket per request cost about the sum of separate
searches, and a request without datasets read every stream). Terms levels ask for at most
``max_buckets`` keys; a request that needs more is split (:mod:`findings.elastic.query_split`).
"""

from __future__ import annotations

import logging
from typing import Any

from findings.elastic import query_split as split
from findings.errors import RuntimeFailure
from findings.query import Ask, Query, Source, Where, check_source, doc_path, normalise, sort_rows

log = logging.getLogger("citysec.query")
MAX_BUCKETS = 65_536   # a cluster's default search.max_buckets: terms ask for no more keys


def cluster_max_buckets(client: Any) -> int:
    """The cluster's ``search.max_buckets`` (transient, persistent, then default setting); the
    default 65,536, with a warning, when the server does not say (noida-db answers no defaults)."""
    from elasticsearch import ApiError, TransportError
    try:
        got = client.cluster.get_settings(include_defaults=True, flat_settings=True)
    except (ApiError, TransportError) as exc:
        log.warning("cannot read search.max_buckets from the cluster (%s): assuming %d", exc, MAX_BUCKETS)
        return MAX_BUCKETS
    for level in ("transient", "persistent", "defaults"):
        value = (got.get(level) or {}).get("search.max_buckets")
        if value is not None:
            try:
                return max(1, int(value))
            except (TypeError, ValueError):
                log.warning("search.max_buckets %r is not a number: assuming %d", value, MAX_BUCKETS)
                return MAX_BUCKETS
    log.warning("the server does not report search.max_buckets: assuming the default %d", MAX_BUCKETS)
    return MAX_BUCKETS


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


def _parts(a: Ask, size: int = MAX_BUCKETS) -> list[tuple[dict, dict]]:
    """(query, aggregations) of one request: a group by host is two (by address, then documents
    without one by name, as the store's host column)."""
    check_source(a.source)
    query = where_dsl(a.source, a.where)
    if a.op == "latest":
        return [(query, _latest_aggs(a.by[0], a.fields, size))]
    if "host" not in a.by:
        return [(query, _group_aggs([doc_path(b) for b in a.by], a.times, size))]
    paths = [doc_path(b) if b != "host" else "host.ip" for b in a.by]
    named = {"bool": {"filter": [query], "must_not": [{"exists": {"field": "host.ip"}}]}}
    return [(query, _group_aggs(paths, a.times, size)),
            (named, _group_aggs([p if p != "host.ip" else "host.name" for p in paths], a.times, size))]


def _group_aggs(paths: list[str], times: bool, size: int) -> dict:
    aggs: dict[str, Any] = {"first": _first_hit("asc"), "last": _first_hit("desc")} if times else {}
    for i in reversed(range(len(paths))):
        aggs = {f"g{i}": {"terms": {"field": paths[i], "size": size}, **({"aggs": aggs} if aggs else {})}}
    return aggs


def _latest_aggs(key: str, fields: tuple[str, ...], size: int) -> dict:
    includes = ["@timestamp"] + [("host" if f == "host" else doc_path(f)) for f in fields]
    return {"k": {"terms": {"field": doc_path(key), "size": size}, "aggs": {"top": {"top_hits": {
        "size": 1, "sort": [{"@timestamp": {"order": "desc"}}], "_source": {"includes": includes}}}}}}


def _answer_rows(a: Ask, answer: dict) -> list[dict[str, Any]]:
    """The rows of one request from its search's answer (none: no such data stream yet)."""
    total = answer.get("hits", {}).get("total", 0)
    node = {"doc_count": total["value"] if isinstance(total, dict) else total, **(answer.get("aggregations") or {})}
    return _rows(a, node)


def _rows(a: Ask, node: dict) -> list[dict[str, Any]]:
    """The rows of one request from its aggregations (``doc_count``: the documents matched)."""
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
    """``client`` is an ``elasticsearch.Elasticsearch``; ``namespace`` the data streams' namespace;
    ``max_buckets`` the cluster's ``search.max_buckets`` (no answer holds more buckets)."""

    name = "elasticsearch"

    def __init__(self, client: Any, namespace: str, *, max_buckets: int = MAX_BUCKETS):
        self.es = client
        self.namespace = namespace
        self.index = f"logs-citysec.*-{namespace}"
        self.max_buckets = max_buckets
        self.partitions: bool | None = None     # the server honours terms partitions (None: not asked yet)
        self.searches = 0                        # searches sent (a figure for benchmarks)

    def _indices(self, where: Where) -> str:
        """Only the data streams of the datasets asked for (a server reads less), else all."""
        if not where.datasets:
            return self.index
        return ",".join(f"logs-{d}-{self.namespace}" for d in where.datasets)

    def _msearch(self, items: list[tuple[str, dict, dict]]) -> list[dict | None]:
        """One round trip for several searches (index, query, aggregations); each answer, or None
        where the cluster refused it for holding too many buckets."""
        if not items:
            return []
        searches: list[dict] = []
        for index, query, aggs in items:
            searches += [{"index": index, "ignore_unavailable": True, "allow_no_indices": True},
                         {"size": 0, "query": query, "track_total_hits": True, **({"aggs": aggs} if aggs else {})}]
        self.searches += len(items)
        try:
            resp = self.es.msearch(searches=searches)
        except Exception as exc:  # the client's transport and API errors: one typed failure
            raise RuntimeFailure(f"Elasticsearch query on {self.index} failed: {exc}") from exc
        out: list[dict | None] = []
        for (index, _, _), r in zip(items, (resp.body if hasattr(resp, "body") else resp)["responses"], strict=True):
            if "error" in r:
                if split.too_many(r["error"]):
                    out.append(None)
                    continue
                raise RuntimeFailure(f"Elasticsearch query on {index} failed: {r['error']}")
            out.append(r)
        return out

    def group(self, source: Source, where: Where, by: tuple[str, ...], *,
              times: bool = False) -> list[dict[str, Any]]:
        return self.many([Ask.group(source, where, by, times=times)])[0]

    def latest(self, source: Source, where: Where, key: str,
               fields: tuple[str, ...]) -> list[dict[str, Any]]:
        return self.many([Ask.latest(source, where, key, fields)])[0]

    def many(self, asks: list[Ask]) -> list[list[dict[str, Any]]]:
        """All requests in one round trip (a multi-search): each request is its own search of only
        the data streams it needs (a server that reads every document per search reads no
        stream for nothing). A request whose answer would pass ``max_buckets`` is asked again in
        parts (:mod:`findings.elastic.query_split`)."""
        parts = [(i, self._indices(a.where), q, aggs) for i, a in enumerate(asks)
                 for q, aggs in _parts(a, self.max_buckets)]
        answers = self._msearch([(index, q, aggs) for _, index, q, aggs in parts])
        out: list[list[dict]] = [[] for _ in asks]
        for (i, index, q, aggs), answer in zip(parts, answers, strict=True):
            if answer is None or self._overflows(answer):
                out[i] += self._in_parts(asks[i], index, q, aggs, answer)
            else:
                out[i] += _answer_rows(asks[i], answer)
        return [sort_rows(rows, a.by) for rows, a in zip(out, asks)]

    def _overflows(self, answer: dict) -> bool:
        aggs = answer.get("aggregations") or {}
        return split.left_out(aggs) or split.bucket_count(aggs) > self.max_buckets

    def _in_parts(self, a: Ask, index: str, q: dict, aggs: dict, answer: dict | None) -> list[dict]:
        """One request asked in ``n`` parts, more until no part overflows."""
        n = split.parts_needed(answer, self.max_buckets)
        agencies: list[str] = []
        while True:
            if self._honours_partitions(index, q, aggs):
                items = self._partitioned(index, q, aggs, n)
            else:
                agencies = agencies or self._agencies(index, q)
                if not agencies:
                    raise RuntimeFailure(f"a request on {index} needs more than {self.max_buckets} buckets and "
                                         "its documents carry no agency to split it by")
                n = min(n, len(agencies))
                items = self._by_agency(index, q, aggs, split.agency_groups(agencies, n))
            answers = self._msearch(items)
            bad = [r for r in answers if r is None or self._overflows(r)]
            if not bad:
                return split.merge(a, [_answer_rows(a, r) for r in answers])
            if n >= split.MAX_PARTS or (not self.partitions and n >= len(agencies)):
                raise RuntimeFailure(f"a request on {index} needs more than {self.max_buckets} buckets "
                                     f"even in {n} parts: raise the cluster's search.max_buckets")
            n = max(split.parts_needed(r, self.max_buckets, n) for r in bad)

    def _partitioned(self, index: str, q: dict, aggs: dict, n: int) -> list[tuple[str, dict, dict]]:
        return [(index, q, split.with_partition(aggs, p, n)) for p in range(n)]

    def _honours_partitions(self, index: str, q: dict, aggs: dict) -> bool:
        if self.partitions is None:
            (agg,) = aggs.values()
            probe = self._msearch([(index, q, split.probe_aggs(agg["terms"]["field"], self.max_buckets))])[0] or {}
            found = split.partitions_honoured(probe)
            if found is False:
                log.warning("the Elasticsearch server ignores terms partitions (noida-db does): requests "
                            "over %d buckets are split by agency instead", self.max_buckets)
            if found is not None:
                self.partitions = found
        return bool(self.partitions)

    def _agencies(self, index: str, q: dict) -> list[str]:
        aggs = {"a": {"terms": {"field": "organization.id", "size": self.max_buckets}}}
        answer = self._msearch([(index, q, aggs)])[0] or {}
        return [b["key"] for b in (answer.get("aggregations") or {}).get("a", {}).get("buckets", [])]

    def _by_agency(self, index: str, q: dict, aggs: dict, groups: list[list[str]]) -> list[tuple[str, dict, dict]]:
        return [(index, {"bool": {"filter": [q, {"terms": {"organization.id": g}}]}}, aggs) for g in groups]

    def close(self) -> None:
        self.es.close()
