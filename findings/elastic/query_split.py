"""Keeping every Elasticsearch response under ``search.max_buckets`` (65,536 on a real cluster).

A request whose terms aggregation has more keys than a response may hold (a latest-per-finding
over a city's 65,000+ fingerprints, a per-host grouping over 20,000+ hosts) is asked again in
parts, and the parts' rows merged:

- where the server honours ``include: {partition, num_partitions}`` on terms (Elasticsearch),
  one search per partition of the first grouping level: the keys are disjoint;
- elsewhere (noida-db answers every partition with every key: detected, with a warning), one
  filtered search per group of agencies: every document carries its agency, and a finding's or
  host's key never spans two agencies; rows that do (a key such as a check id) are merged as
  the store would group them (counts added, earliest first, latest last or latest document).

Overflow is seen in the answer: a terms level with ``sum_other_doc_count`` (keys left out), more
buckets than the limit (noida-db does not enforce it), or the cluster's own
``too_many_buckets_exception``.
"""

from __future__ import annotations

import math
from typing import Any

from findings.query import Ask

SAMPLE = 64        # keys asked by the partition probe
MAX_PARTS = 256    # a request needing more parts gives up (a first-level key's own buckets overflow)


def bucket_count(node: Any) -> int:
    """Buckets in an aggregation answer, at every level (what ``search.max_buckets`` counts)."""
    if isinstance(node, list):
        return sum(bucket_count(n) for n in node)
    if not isinstance(node, dict):
        return 0
    n = 0
    for k, v in node.items():
        if k == "buckets":
            items = v if isinstance(v, list) else list(v.values())
            n += len(items) + bucket_count(items)
        elif isinstance(v, dict) and k != "hits":
            n += bucket_count(v)
    return n


def left_out(node: Any) -> bool:
    """Whether any terms level left keys out (``sum_other_doc_count`` > 0)."""
    if isinstance(node, list):
        return any(left_out(n) for n in node)
    if not isinstance(node, dict):
        return False
    if node.get("sum_other_doc_count"):
        return True
    return any(left_out(v) for k, v in node.items() if k != "hits" and isinstance(v, dict | list))


def too_many(error: Any) -> bool:
    return "too_many_buckets" in str(error)


def parts_needed(answer: dict | None, limit: int, current: int = 1) -> int:
    """How many parts a request needs, judged from an overflowing answer (at least twice as many
    as now). The estimate scales the buckets seen by the documents left out of them."""
    if not answer:
        return current * 2
    aggs = answer.get("aggregations") or {}
    seen = max(bucket_count(aggs), 1)
    outside = sum(v.get("sum_other_doc_count", 0) for v in aggs.values() if isinstance(v, dict))
    inside = sum(b.get("doc_count", 0) for v in aggs.values() if isinstance(v, dict)
                 for b in (v.get("buckets") if isinstance(v.get("buckets"), list) else []))
    estimate = seen * (1 + outside / inside) if inside else seen
    return max(current * 2, math.ceil(current * estimate * 1.25 / limit))


def with_partition(aggs: dict, partition: int, of: int) -> dict:
    """The aggregations with the first terms level restricted to one partition of its keys."""
    (name, agg), = aggs.items()
    terms = agg["terms"] | {"include": {"partition": partition, "num_partitions": of}}
    return {name: agg | {"terms": terms}}


def partitions_honoured(probe: dict) -> bool | None:
    """From a probe answer (``p``: partition 0 of 2 of a terms level, ``all``: the same terms):
    True if the partition left keys out, False if it held them all, None if too few keys to tell.
    (An honouring server puts all of k sampled keys in one partition with odds 2^-k; judged
    wrongly, the request is split by agency instead: the same rows, more searches.)"""
    aggs = probe.get("aggregations") or {}
    every = {b["key"] for b in aggs.get("all", {}).get("buckets", [])}
    part = {b["key"] for b in aggs.get("p", {}).get("buckets", [])}
    if len(every) < 4:
        return None
    return part != every


def probe_aggs(field: str, limit: int) -> dict:
    """Partition 0 of 2 of a terms level, and the level itself (within ``limit`` buckets)."""
    terms = {"field": field, "size": max(1, min(SAMPLE, limit // 2)), "order": {"_key": "asc"}}
    return {"p": {"terms": terms | {"include": {"partition": 0, "num_partitions": 2}}},
            "all": {"terms": terms}}


def agency_groups(agencies: list[str], n: int) -> list[list[str]]:
    """``n`` groups of agencies, round robin over the sorted ids (sizes differ by one at most)."""
    ids = sorted(agencies)
    return [g for g in (ids[i::n] for i in range(min(n, len(ids)))) if g]


def merge(a: Ask, chunks: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The rows of one request answered in parts: rows of the same key combined as one search
    would have (counts added; earliest ``first``, latest ``last``; the latest document)."""
    keys = a.by
    out: dict[tuple, dict[str, Any]] = {}
    for rows in chunks:
        for r in rows:
            k = tuple(r.get(b) if not isinstance(r.get(b), dict | list) else repr(r.get(b)) for b in keys)
            have = out.get(k)
            if have is None:
                out[k] = dict(r)
            elif a.op == "latest":
                newer = r if r["ts"] > have["ts"] else have
                out[k] = dict(newer) | {"count": have["count"] + r["count"]}
            else:
                have["count"] += r["count"]
                if "first" in r:
                    have["first"] = min(have["first"], r["first"])
                    have["last"] = max(have["last"], r["last"])
    return list(out.values())
