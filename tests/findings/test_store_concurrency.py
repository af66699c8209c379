"""The store under the scheduler's threads and several processes writing at once: no row lost,
no "database is locked" escaping. Real threads, real processes, one SQLite file."""

from __future__ import annotations

import multiprocessing as mp
import subprocess
import sys
import threading
import traceback

from findings.model import Finding
from findings.store import Scope, Store

PER_WORKER = 300


def _findings(worker: str, n: int) -> list[Finding]:
    return [Finding(check="exposure.telnet", agency="q-a", verdict="fail", severity="high",
                    host_ip=f"198.18.{200 + int(worker[-1])}.{1 + i % 250}", port=1000 + i, transport="tcp",
                    message=f"{worker} {i}") for i in range(n)]


def write_many(path: str, worker: str, n: int = PER_WORKER, barrier=None) -> None:
    """Open the store (maybe a new file: the opening races too) and write ``n`` findings in small
    transactions, each in a run, plus an event per finding."""
    if barrier is not None:
        barrier.wait()
    store = Store(path, synchronous="NORMAL")
    try:
        batch = _findings(worker, n)
        for i in range(0, n, 10):
            rid = store.start_run(f"job-{worker}")
            chunk = batch[i:i + 10]
            store.record(chunk + [f.with_(kind="event", verdict=None) for f in chunk], run_id=rid,
                         scope=Scope(frozenset({"none."}), frozenset({"q-a"})))
            store.finish_run(rid, "ok", {"n": len(chunk)})
            store.query("SELECT COUNT(*) FROM current")      # readers interleave with writers
    finally:
        store.close()


def _process_main(path: str, worker: str, barrier, errors) -> None:
    try:
        write_many(path, worker, barrier=barrier)
    except BaseException:  # noqa: BLE001 - the test reports whatever a worker raised
        errors.put(f"{worker}: {traceback.format_exc()}")


def assert_all_rows(path: str, workers: list[str]) -> None:
    store = Store(path)
    n = PER_WORKER * len(workers)
    assert store.query("SELECT COUNT(*) FROM current")[0][0] == n
    assert store.query("SELECT COUNT(*) FROM history")[0][0] == n
    assert store.query("SELECT COUNT(*) FROM events")[0][0] == n
    assert store.query("SELECT COUNT(*) FROM runs WHERE outcome='ok'")[0][0] == n // 10
    streams = dict(store.query("SELECT stream, COUNT(*) FROM outbox GROUP BY stream"))
    assert streams == {"state": n, "history": n, "event": n}
    for w in workers:
        assert store.query("SELECT COUNT(*) FROM events WHERE json_extract(doc, '$.message') LIKE ?",
                           (f"{w} %",))[0][0] == PER_WORKER
    store.close()


def test_threads_share_one_store(tmp_path):
    path = str(tmp_path / "t.db")
    store = Store(path)
    errors: list[str] = []
    workers = [f"thread{i}" for i in range(4)]

    def work(w: str) -> None:
        try:
            batch = _findings(w, PER_WORKER)
            for i in range(0, PER_WORKER, 10):
                rid = store.start_run(f"job-{w}")
                chunk = batch[i:i + 10]
                store.record(chunk + [f.with_(kind="event", verdict=None) for f in chunk], run_id=rid)
                store.finish_run(rid, "ok")
        except BaseException:  # noqa: BLE001 - the test reports whatever a worker raised
            errors.append(traceback.format_exc())

    threads = [threading.Thread(target=work, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert errors == []
    assert_all_rows(path, workers)


def test_two_processes_and_threads_write_at_once_to_a_new_store(tmp_path):
    path = str(tmp_path / "p.db")
    ctx = mp.get_context("spawn")            # real, separate interpreters
    barrier, errors = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_process_main, args=(path, f"proc{i}", barrier, errors)) for i in (1, 2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=300)
    problems = []
    while not errors.empty():
        problems.append(errors.get())
    assert problems == [] and [p.exitcode for p in procs] == [0, 0]
    assert_all_rows(path, ["proc1", "proc2"])


def test_a_subprocess_and_this_process_write_at_once(tmp_path):
    path = str(tmp_path / "s.db")
    Store(path).close()
    code = ("import sys; sys.path.insert(0, sys.argv[1]); "
            "from test_store_concurrency import write_many; write_many(sys.argv[2], 'sub3')")
    child = subprocess.Popen([sys.executable, "-c", code, __file__.rsplit("/", 1)[0], path],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    write_many(path, "main4")
    _, err = child.communicate(timeout=300)
    assert child.returncode == 0, err
    assert "locked" not in err
    assert_all_rows(path, ["sub3", "main4"])
