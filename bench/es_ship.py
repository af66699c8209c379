"""Shipping the outbox to the Elasticsearch-compatible server (noida-db), beside raw bulk.

1. 100,000 findings written to a fresh store by 4 threads (runs of 500 findings, lifecycle and
   outbox included, synchronous=FULL): findings/s and outbox rows/s.
2. The outbox shipped by citysec's shipper (bulk, deterministic ids, per-item judgement, the
   sent journal written in SQLite) into one noida-db server, and the same documents, prebuilt
   in memory, sent with ``elasticsearch.helpers.bulk`` into a second, identical server (both set
   up with ``es setup``; same batch size). Documents/s of both and the ratio (target ≥ 0.8).
   The outbox is shipped in rounds (one slice each, as the scheduler ships every minute), raw
   bulk and the shipper alternating which goes first, so that the load of a shared machine falls
   on both alike. The shipper's time includes confirming the previous round's journal.

    .venv/bin/python bench/es_ship.py [--n 100000] [--batch 2000] [--rounds 10]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from elasticsearch import helpers

from findings import elastic
from findings.elastic.ship import Shipper, target
from findings.model import Finding
from findings.store import Store
from tests.es_server import EsServer

AGENCIES = ("vp-ubnd", "so-tttt", "q-hong-bang", "q-ngo-quyen")
NAMESPACE = "bench"


def findings(worker: int, n: int) -> list[Finding]:
    return [Finding(check=f"exposure.port{i % 40}", agency=AGENCIES[worker % 4], verdict="fail",
                    severity="high", host_ip=f"198.18.{worker * 40 + i // 1000 % 40}.{i % 250 + 1}",
                    port=1000 + i // 250 % 4, transport="tcp", service_name="telnet",
                    message=f"port open on host {i}", remediation={"vi": "Đóng cổng.", "en": "Close the port."},
                    controls=("CIS8:4.4",), details={"banner": f"BusyBox v1.{i % 97} login:"})
            for i in range(n)]


def write_store(store: Store, n: int, workers: int = 4, batch: int = 500) -> float:
    parts = [findings(w, n // workers) for w in range(workers)]

    def run(w: int) -> None:
        items = parts[w]
        for i in range(0, len(items), batch):
            rid = store.start_run(f"bench-{w}")
            store.record(items[i:i + batch], run_id=rid)
            store.finish_run(rid, "ok")

    threads = [threading.Thread(target=run, args=(w,)) for w in range(workers)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - t0


def prebuilt(store: Store) -> list[dict]:
    """The outbox documents as raw bulk would send them: parsed, with index, op and id."""
    rows = store.query("SELECT seq, stream, dataset, doc_id, body FROM outbox ORDER BY seq")
    return [{"_op_type": "index" if r["stream"] == "state" else "create", "_index": target(r, NAMESPACE),
             "_id": r["doc_id"], "_source": json.loads(r["body"])} for r in rows]


def count(client) -> int:
    client.indices.refresh(index="logs-citysec.*,citysec-state")
    return client.count(index="logs-citysec.*,citysec-state")["count"]


def hold(store: Store) -> list[int]:
    """Set the outbox aside, so that each round ships one slice of it (as the scheduler would)."""
    with store.write() as c:
        c.execute("CREATE TABLE bench_hold AS SELECT * FROM outbox")
        c.execute("DELETE FROM outbox")
    return [r[0] for r in store.query("SELECT seq FROM bench_hold ORDER BY seq")]


def release(store: Store, lo: int, hi: int) -> None:
    with store.write() as c:
        c.execute("INSERT INTO outbox SELECT * FROM bench_hold WHERE seq BETWEEN ? AND ?", (lo, hi))


def rounds(store: Store, raw_c, out_c, where: str, batch: int, n_rounds: int) -> tuple[float, float, dict]:
    """Alternate raw bulk and the shipper slice by slice (the load of this machine varies)."""
    seqs = hold(store)
    size = -(-len(seqs) // n_rounds)
    t_raw = t_out = 0.0
    total: dict[str, int] = {}
    for k in range(n_rounds):
        part = seqs[k * size:(k + 1) * size]
        release(store, part[0], part[-1])
        actions = prebuilt(store)

        def raw(actions: list[dict] = actions) -> float:
            t0 = time.perf_counter()
            ok, errors = helpers.bulk(raw_c, actions, chunk_size=batch, raise_on_error=False)
            assert ok == len(actions) and not errors, errors[:3]
            return time.perf_counter() - t0

        def ship() -> float:
            shipper = Shipper(out_c, store, namespace=NAMESPACE, where=where, batch_size=batch)
            t0 = time.perf_counter()
            result = shipper.run().as_dict()
            for key, v in result.items():
                total[key] = total.get(key, 0) + v
            return time.perf_counter() - t0

        if k % 2:
            t_out += ship()
            t_raw += raw()
        else:
            t_raw += raw()
            t_out += ship()
    return t_raw, t_out, total


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--batch", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=10)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="citysec-bench-es-"))
    print(f"working in {tmp} (removed at the end)", file=sys.stderr)
    raw_srv, out_srv = EsServer(tmp / "raw").start(), EsServer(tmp / "outbox").start()
    try:
        store = Store(tmp / "citysec.db")
        t_write = write_store(store, args.n)
        docs = store.outbox_depth()
        # noida-db slows down as its data grows (it rewrites one snapshot file): generous timeouts
        raw_c = elastic.make_client([raw_srv.url], timeout=300)
        out_c = elastic.make_client([out_srv.url], timeout=300)
        for c in (raw_c, out_c):
            elastic.setup(c, retention_days=400)
        t_raw, t_out, result = rounds(store, raw_c, out_c, out_srv.url, args.batch, args.rounds)
        n_raw, n_out = count(raw_c), count(out_c)
        assert n_raw == n_out, (n_raw, n_out)
        assert result["sent"] == docs and store.outbox_depth() == 0, result
    finally:
        raw_srv.stop()
        out_srv.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    fig = {
        "findings": args.n, "documents": docs, "batch_size": args.batch,
        "store_write_4_threads_s": round(t_write, 2),
        "store_findings_per_s": round(args.n / t_write), "store_outbox_rows_per_s": round(docs / t_write),
        "raw_bulk_s": round(t_raw, 2), "raw_bulk_docs_per_s": round(docs / t_raw),
        "outbox_ship_s": round(t_out, 2), "outbox_ship_docs_per_s": round(docs / t_out),
        "ratio_outbox_to_raw": round(t_raw / t_out, 3), "target_ratio": 0.8, "rounds": args.rounds,
        "journal_confirmed_during_run": result["confirmed"], "on_server": n_out,
    }
    print(f"{'measure':<42}{'value':>14}")
    print(f"{'findings written by 4 threads (rows/s)':<42}{fig['store_findings_per_s']:>14,}")
    print(f"{'  outbox rows written (rows/s)':<42}{fig['store_outbox_rows_per_s']:>14,}")
    print(f"{'documents shipped':<42}{docs:>14,}")
    print(f"{'helpers.bulk, prebuilt (docs/s)':<42}{fig['raw_bulk_docs_per_s']:>14,}")
    print(f"{'citysec ship from the outbox (docs/s)':<42}{fig['outbox_ship_docs_per_s']:>14,}")
    print(f"{'ratio outbox / raw (target >= 0.8)':<42}{fig['ratio_outbox_to_raw']:>14}")
    out = Path(__file__).parent / "results" / "es_ship.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(fig, indent=2) + "\n")


if __name__ == "__main__":
    main()
