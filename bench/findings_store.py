"""100,000 findings written to the SQLite store by 4 threads (the scheduler's shape), in runs of
500 findings per transaction, with the lifecycle and the outbox; then the same by 2 processes.
Prints rows per second and writes bench/results/findings_store.json.

    .venv/bin/python bench/findings_store.py [--n 100000]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from findings.model import Finding
from findings.store import Store

BATCH = 500


def findings(worker: int, n: int) -> list[Finding]:
    return [Finding(check=f"exposure.port{i % 50}", agency=f"agency-{worker}", verdict="fail" if i % 3 else "pass",
                    severity="high", host_ip=f"198.18.{worker}.{i % 250}", port=i // 250, transport="tcp",
                    message=f"port {i // 250} open", remediation={"vi": "Đóng cổng.", "en": "Close the port."},
                    controls=("CIS8:4.4",)) for i in range(n)]


def write(store: Store, worker: int, items: list[Finding]) -> None:
    for i in range(0, len(items), BATCH):
        rid = store.start_run(f"bench-{worker}")
        store.record(items[i:i + BATCH], run_id=rid)
        store.finish_run(rid, "ok")


def threads(path: str, n: int, workers: int, sync: str) -> float:
    store = Store(path, synchronous=sync)
    parts = [findings(w, n // workers) for w in range(workers)]
    ts = [threading.Thread(target=write, args=(store, w, parts[w])) for w in range(workers)]
    t0 = time.perf_counter()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return time.perf_counter() - t0


def _proc(path: str, worker: int, n: int, sync: str, barrier) -> None:
    store = Store(path, synchronous=sync)
    items = findings(worker, n)
    barrier.wait()
    write(store, worker, items)


def processes(path: str, n: int, workers: int, sync: str) -> float:
    Store(path).close()
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(workers + 1)
    ps = [ctx.Process(target=_proc, args=(path, w, n // workers, sync, barrier)) for w in range(workers)]
    for p in ps:
        p.start()
    barrier.wait()
    t0 = time.perf_counter()
    for p in ps:
        p.join()
    if any(p.exitcode for p in ps):
        raise SystemExit("a writer process failed")
    return time.perf_counter() - t0


def count(path: str) -> int:
    return Store(path).query("SELECT COUNT(*) FROM history")[0][0]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as d:
        for name, fn, workers, sync in (("4 threads", threads, 4, "FULL"), ("2 processes", processes, 2, "FULL")):
            path = os.path.join(d, f"{len(rows)}.db")
            secs = fn(path, args.n, workers, sync)
            stored = count(path)
            if stored != args.n:
                raise SystemExit(f"{name}: {stored} of {args.n} rows stored")
            rows.append({"writers": name, "synchronous": sync, "findings": args.n, "seconds": round(secs, 2),
                         "findings_per_second": round(args.n / secs)})
    print(f"{'writers':<12} {'sync':<7} {'findings':>9} {'seconds':>8} {'findings/s':>11}")
    for r in rows:
        print(f"{r['writers']:<12} {r['synchronous']:<7} {r['findings']:>9} {r['seconds']:>8} "
              f"{r['findings_per_second']:>11}")
    print("(each finding: a current row, a history row, two outbox rows, in transactions of 500)")
    os.makedirs(os.path.join(os.path.dirname(__file__), "results"), exist_ok=True)
    with open(os.path.join(os.path.dirname(__file__), "results", "findings_store.json"), "w") as fh:
        json.dump({"batch": BATCH, "results": rows}, fh, indent=2)


if __name__ == "__main__":
    main()
