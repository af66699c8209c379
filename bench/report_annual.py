"""Benchmark: the annual periodic report of a synthetic city, from SQLite and from noida-db.

A city of 300 agencies, 20,000 hosts and 1,000,000 finding-history documents (July 2025 to
December 2026, about monthly observations of antivirus, backup, exposure and rogue-device
checks), plus log alerts and incident case events. The documents are the store's own
(``to_document``); they are written straight into the history table and bulk-indexed into the
data streams (the lifecycle is simulated here: fail opens, pass closes), because recording a
million findings one by one measures the store, not the report.

    .venv/bin/python bench/report_annual.py [--docs 1000000] [--skip-es] [--es-url URL] [--keep-data DIR]

``--keep-data DIR`` keeps noida-db's data directory: the first run loads the documents there, a
later run with the same ``--docs``, ``--agencies`` and ``--hosts`` starts noida-db on it and
measures the report only (bulk loading runs about 1,000 documents a second).

noida-db (the test server) reads every document of the targeted data streams for each search
(40,000-60,000 documents a second here) and holds about 30 KB of memory per document: its
figures are measured at 100,000 and 300,000 documents (a million would need about 30 GB) and
reported with its searches and documents per second; docs/reports.md has the profile.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from findings import Finding, Store, to_document
from findings.query_sqlite import SqliteQuery
from reports.period import parse_period
from reports.summary import Org, period_figures

START = datetime(2025, 7, 1, tzinfo=UTC)
DAYS = 548
CHECKS = [("av.missing", "high", 0.05), ("av.outdated", "high", 0.15), ("av.daemon", "high", 0.05)]
EXPOSURE = [("exposure.telnet", "high", 23), ("exposure.rdp", "high", 3389), ("exposure.smb", "medium", 445),
            ("exposure.mysql", "medium", 3306), ("exposure.http-admin", "high", 8080)]


def city(n_agencies: int, n_hosts: int) -> tuple[list[Org], list[tuple[str, str, str]]]:
    orgs = [Org(f"ag-{i:03d}", f"Cơ quan {i}", f"Agency {i}") for i in range(n_agencies)]
    hosts = [(orgs[h % n_agencies].id, f"198.18.{h // 250}.{h % 250 + 1}", f"h{h}") for h in range(n_hosts)]
    return orgs, hosts


def fingerprints(hosts, rnd: random.Random) -> list[tuple]:
    fps = []
    for agency, ip, name in hosts:
        for check, sev, p in CHECKS:
            fps.append((check, sev, agency, ip, name, None, p))
        if rnd.random() < 0.15:
            fps.append(("backup.stale", "medium", agency, ip, name, None, 0.2))
        if rnd.random() < 0.12:
            check, sev, port = rnd.choice(EXPOSURE)
            fps.append((check, sev, agency, ip, name, port, 0.5))
        if rnd.random() < 0.01:
            fps.append(("discovery.rogue", "medium", agency, ip, name, None, 0.8))
    return fps


def history_docs(fps, n_docs: int, rnd: random.Random):
    """Yield (row, doc) for n_docs observations, spread over the fingerprints and the days."""
    per = max(1, n_docs // len(fps))
    extra = n_docs - per * len(fps)
    for i, (check, sev, agency, ip, name, port, p_fail) in enumerate(fps):
        n = per + (1 if i < extra else 0)
        step = DAYS / n
        status = first = last = None
        for k in range(n):
            ts = START + timedelta(days=k * step + rnd.random() * step * 0.5, seconds=i % 3600)
            verdict = "fail" if rnd.random() < p_fail else "pass"
            first = first or ts
            if verdict == "fail":
                status, last = ("reopened" if status == "closed" else "open"), ts
            else:
                status, last = "closed", last or ts
            f = Finding(check=check, agency=agency, verdict=verdict, severity=sev, host_ip=ip, host_name=name,
                        port=port, transport="tcp" if port else None, timestamp=ts, run_id=f"r{k}",
                        remediation={"vi": "Khắc phục.", "en": "Fix it."})
            yield f, to_document(f, status=status, first_seen=first, last_seen=last)


def event_docs(hosts, rnd: random.Random, n_alerts: int = 20000, n_cases: int = 60):
    for i in range(n_alerts):
        agency, ip, _ = hosts[rnd.randrange(len(hosts))]
        f = Finding(check="log.ssh_bruteforce", agency=agency, kind="alert", severity="high", host_ip=ip,
                    dataset="citysec.logs", message=f"a{i}",
                    timestamp=START + timedelta(days=rnd.random() * DAYS))
        yield f, to_document(f)
    for c in range(n_cases):
        agency = hosts[rnd.randrange(len(hosts))][0]
        t0 = START + timedelta(days=rnd.random() * (DAYS - 10))
        attrs = {"id": f"case-{c}", "type": rnd.choice(["malware", "phishing", "ransomware"]),
                 "help": rnd.choice(["self", "self", "outside", "national"]), "deadline_met": rnd.random() < 0.8}
        for action, hours in (("opened", 0), ("contained", 6 + c % 30), ("closed", 72 + c)):
            f = Finding(check="case.event", agency=agency, kind="event", dataset="citysec.case", subject=f"case-{c}",
                        timestamp=t0 + timedelta(hours=hours), message=action, details={**attrs, "action": action})
            yield f, to_document(f)


def load_sqlite(store: Store, hist, events) -> None:
    rows_h = [(d["event"]["id"] + str(i), f.fingerprint, d["@timestamp"], f.run_id, f.check, d["event"]["dataset"],
               f.agency, f.host_ip, f.verdict, f.severity, d["citysec"]["status"], json.dumps(d))
              for i, (f, d) in enumerate(hist)]
    rows_e = [(d["event"]["id"], f.kind, d["@timestamp"], None, f.check, d["event"]["dataset"], f.agency, f.host_ip,
               f.severity, json.dumps(d)) for f, d in events]
    with store.write() as c:
        c.executemany("INSERT INTO history VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows_h)
        c.executemany("INSERT OR IGNORE INTO events VALUES (?,?,?,?,?,?,?,?,?,?)", rows_e)
    store.query("ANALYZE")


def load_es(url: str, namespace: str, docs, limit: int) -> float:
    from elasticsearch import Elasticsearch, helpers

    from findings import elastic
    from findings.elastic.templates import stream_name
    es = Elasticsearch(url, request_timeout=600)
    elastic.setup(es, retention_days=800)
    actions = ({"_op_type": "create", "_index": stream_name(d["event"]["dataset"], namespace),
                "_id": f"{d['event']['id']}{i}", "_source": d} for i, (_, d) in enumerate(docs[:limit]))
    t = time.perf_counter()
    for ok, item in helpers.streaming_bulk(es, actions, chunk_size=5000, raise_on_error=False):
        if not ok:
            raise SystemExit(f"bulk failed: {item}")
    es.indices.refresh(index=f"logs-citysec.*-{namespace}")
    return time.perf_counter() - t


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=1_000_000)
    ap.add_argument("--agencies", type=int, default=300)
    ap.add_argument("--hosts", type=int, default=20_000)
    ap.add_argument("--skip-es", action="store_true")
    ap.add_argument("--es-url", default=None, help="a running server (default: start noida-db)")
    ap.add_argument("--keep-data", type=Path, default=None,
                    help="noida-db's data directory, loaded once and reused by later runs")
    args = ap.parse_args()
    rnd = random.Random(7)
    orgs, hosts = city(args.agencies, args.hosts)
    fps = fingerprints(hosts, rnd)
    (hist, gen_s) = timed(lambda: list(history_docs(fps, args.docs, rnd)))
    events = list(event_docs(hosts, rnd))
    tmp = Path(tempfile.mkdtemp(prefix="bench-report-"))
    store = Store(tmp / "bench.db", synchronous="OFF")
    _, load_s = timed(lambda: load_sqlite(store, hist, events))
    period = parse_period("2026")
    fig_sql, sql_s = timed(lambda: period_figures(SqliteQuery(store), period, orgs))
    res = {"agencies": args.agencies, "hosts": args.hosts, "fingerprints": len(fps), "history_docs": len(hist),
           "event_docs": len(events), "generate_s": round(gen_s, 1), "sqlite_load_s": round(load_s, 1),
           "sqlite_report_s": round(sql_s, 2)}
    if not args.skip_es:
        res |= bench_es(args, hist + events, len(hist) + len(events), period, orgs, fig_sql, tmp)
    table(res)
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "report_annual.json").write_text(json.dumps(res, indent=2))


def bench_es(args, docs, limit, period, orgs, fig_sql, tmp) -> dict:
    from elasticsearch import Elasticsearch

    from findings.elastic.query import ElasticQuery
    server = None
    url = args.es_url
    kept = args.keep_data / "loaded.json" if args.keep_data else None
    shape = {"docs": args.docs, "agencies": args.agencies, "hosts": args.hosts, "es_docs": limit}
    reuse = kept is not None and kept.exists() and json.loads(kept.read_text()) == shape
    if url is None:
        sys.path.insert(0, str(ROOT / "tests"))
        from es_server import EsServer
        if args.keep_data and not reuse:   # a partial or different load: start afresh
            shutil.rmtree(args.keep_data / "noida", ignore_errors=True)
        server = EsServer((args.keep_data or tmp) / "noida").start(timeout=600)
        url = server.url
    try:
        load_s = None if reuse else load_es(url, "bench", docs, limit)
        if kept is not None and not reuse:
            kept.write_text(json.dumps(shape))
        q = ElasticQuery(Elasticsearch(url, request_timeout=1200), "bench")
        fig_es, es_s = timed(lambda: period_figures(q, period, orgs))
        return {"es_load_s": "kept" if load_s is None else round(load_s, 1), "es_report_s": round(es_s, 2), "es_docs": limit,
                "es_searches": q.searches, "es_docs_per_s": round(limit / es_s),
                "identical_figures": fig_es == fig_sql}
    finally:
        if server:
            server.stop()


def table(res: dict) -> None:
    width = max(len(k) for k in res)
    for k, v in res.items():
        print(f"{k:<{width}}  {v}")


if __name__ == "__main__":
    main()
