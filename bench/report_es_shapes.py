"""Benchmark: what makes a search slow or fast on the Elasticsearch-compatible server.

Runs query and aggregation shapes of the reports over the documents ``bench/report_annual.py``
loaded (keep them with ``--keep-data DIR``), each twice, and prints the best and worst time.

    .venv/bin/python bench/report_annual.py --docs 100000 --keep-data /tmp/bench-100k
    .venv/bin/python bench/report_es_shapes.py --keep-data /tmp/bench-100k [SHAPE ...]

or ``--es-url URL`` for a server already running with those documents (namespace ``bench``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

ALL = "logs-citysec.*-bench"
END = {"range": {"@timestamp": {"lt": "2027-01-01T00:00:00.000Z"}}}
Y26 = {"range": {"@timestamp": {"gte": "2026-01-01T00:00:00.000Z", "lt": "2027-01-01T00:00:00.000Z"}}}
STATE = {"term": {"event.kind": "state"}}
FP = {"field": "citysec.fingerprint", "size": 65536}
NEWEST = [{"@timestamp": {"order": "desc"}}]
FIELDS = ["@timestamp", "organization.id", "citysec.check", "host.ip", "host.name", "server.port", "service.version",
          "citysec.severity", "citysec.status", "citysec.verdict", "citysec.first_seen", "citysec.last_seen"]


def _q(*flt: dict) -> dict:
    return {"bool": {"filter": list(flt)}}


def _top(source) -> dict:
    return {"top_hits": {"size": 1, "sort": NEWEST, "_source": source}}


SHAPES: dict[str, tuple[str, dict]] = {
    "size0 (all streams)": (ALL, {}),
    "size0 av stream only": ("logs-citysec.av-bench", {}),
    "size0 logs stream only": ("logs-citysec.logs-bench", {}),
    "range filter (2026)": (ALL, {"query": _q(Y26)}),
    "term filter (1 agency of 300)": (ALL, {"query": _q({"term": {"organization.id": "ag-001"}})}),
    "terms agency (300)": (ALL, {"aggs": {"a": {"terms": {"field": "organization.id", "size": 1000}}}}),
    "date_histogram month": (ALL, {"aggs": {"d": {"date_histogram": {"field": "@timestamp", "calendar_interval": "month"}}}}),
    "cardinality fingerprint": (ALL, {"aggs": {"c": {"cardinality": {"field": "citysec.fingerprint"}}}}),
    "filters agg (9 filters)": (ALL, {"aggs": {"f": {"filters": {"filters": {
        f"a{i}": {"term": {"organization.id": f"ag-00{i}"}} for i in range(9)}}}}}),
    "terms fingerprint": (ALL, {"query": _q(END, STATE), "aggs": {"k": {"terms": FP}}}),
    "+ top_hits, no _source": (ALL, {"query": _q(END, STATE), "aggs": {"k": {"terms": FP, "aggs": {"t": _top(False)}}}}),
    "+ top_hits, 12 _source fields": (ALL, {"query": _q(END, STATE), "aggs": {"k": {"terms": FP, "aggs": {"t": _top({"includes": FIELDS})}}}}),
    "terms fingerprint + max @timestamp": (ALL, {"aggs": {"k": {"terms": FP, "aggs": {"m": {"max": {"field": "@timestamp"}}}}}}),
    "terms partition 0 of 8": (ALL, {"aggs": {"k": {"terms": FP | {"include": {"partition": 0, "num_partitions": 8}}}}}),
}


def run(es, index: str, body: dict) -> tuple[list[float], str]:
    from elasticsearch import ApiError
    times, note = [], ""
    for _ in range(2):
        t = time.perf_counter()
        try:
            r = es.search(index=index, size=0, track_total_hits=False, **body)
        except ApiError as exc:  # an unsupported shape is a result here, not a failure
            return [time.perf_counter() - t], f"error: {str(exc)[:80]}"
        times.append(time.perf_counter() - t)
    for agg in (r.get("aggregations") or {}).values():
        note = f"{len(agg['buckets'])} buckets" if isinstance(agg.get("buckets"), list) else json.dumps(agg)[:60]
    return times, note


def main() -> None:
    from elasticsearch import Elasticsearch
    ap = argparse.ArgumentParser()
    ap.add_argument("--es-url")
    ap.add_argument("--keep-data", type=Path, help="a data directory report_annual.py loaded")
    ap.add_argument("shapes", nargs="*", help="names (prefixes) of the shapes to run (default: all)")
    args = ap.parse_args()
    server = None
    if not args.es_url:
        from es_server import EsServer
        server = EsServer(args.keep_data / "noida").start(timeout=600)
    url = args.es_url or server.url
    es = Elasticsearch(url, request_timeout=1800)
    res = {"docs": es.count(index=ALL)["count"], "shapes": {}}
    try:
        for name, (index, body) in SHAPES.items():
            if args.shapes and not any(name.startswith(s) for s in args.shapes):
                continue
            times, note = run(es, index, body)
            res["shapes"][name] = {"best_s": round(min(times), 2), "worst_s": round(max(times), 2), "note": note}
            print(f"{name:<36} {min(times):7.2f} {max(times):7.2f}  {note}", flush=True)
    finally:
        if server:
            server.stop()
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "report_es_shapes.json").write_text(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
