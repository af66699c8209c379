"""Scheduler overhead: the cost of one decision (due jobs from the run history) as the history grows,
the cost of starting a job in its own process (timeouts that really stop it) beside running it
in a thread, and the start of the command itself (`citysec --help`). Run: .venv/bin/python bench/scheduler_overhead.py  → bench/results/scheduler_overhead.json
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

JOBS = {"bench-noop": "scheduler_overhead:noop"}   # this file is also the child's jobs module
SCHEDULES = {"bench-noop": "every 1 minute"}


def noop(app, run_id, *, agency=None):
    return {"noop": 1}


def city(folder: Path) -> Path:
    text = (ROOT / "config/examples/haiphong.yaml").read_text(encoding="utf-8")
    path = folder / "city.yaml"
    path.write_text(text.replace("store: {path: var/citysec.db}", f"store: {{path: {folder / 'citysec.db'}}}"),
                    encoding="utf-8")
    return path


def fill_history(store, n: int) -> None:
    t0 = datetime(2025, 1, 1, tzinfo=timezone.utc)
    jobs = ["discovery", "services", "antivirus", "backup", "logs", "ship", "reports"]
    with store.write() as c:
        c.executemany("INSERT INTO runs (id, job, sensor, started, ended, outcome, pid) VALUES (?,?,?,?,?,?,?)",
                      [(f"r{i}", jobs[i % 7], "city-soc", (t0 + timedelta(minutes=i)).isoformat(),
                        (t0 + timedelta(minutes=i, seconds=5)).isoformat(), "ok", 1) for i in range(n)])


def bench_decisions(folder: Path) -> list[dict]:
    from config.loader import load_config
    from citysec.scheduler.plan import build_plan
    from citysec.scheduler.loop import Scheduler
    from findings import Store

    cfg = load_config(str(city(folder)))
    rows, done = [], 0
    store = Store(folder / "citysec.db")
    sched = Scheduler(store=store, city=cfg.city, plan=build_plan(cfg), sensor="city-soc",
                      launch=lambda j, s: "ok")
    for n in (1_000, 10_000, 100_000):
        fill_history(store, n - done) if done == 0 else _more(store, done, n)
        done = n
        times = []
        for _ in range(30):
            t = time.perf_counter()
            sched.due()
            times.append(time.perf_counter() - t)
        rows.append({"runs_in_history": n, "decision_ms_median": round(statistics.median(times) * 1000, 2)})
    sched.drain()
    return rows


def _more(store, start: int, end: int) -> None:
    t0 = datetime(2025, 1, 1, tzinfo=timezone.utc)
    with store.write() as c:
        c.executemany("INSERT INTO runs (id, job, sensor, started, outcome, pid) VALUES (?,?,?,?,?,?)",
                      [(f"r{i}", "logs", "city-soc", (t0 + timedelta(minutes=i)).isoformat(), "ok", 1)
                       for i in range(start, end)])


def bench_launch(folder: Path, repeats: int = 8) -> dict:
    from citysec.app import App
    from citysec.jobs import run_job
    from citysec.scheduler.exec import ChildSpec, StopControl, run_child
    from citysec.scheduler.plan import register_jobs

    register_jobs(JOBS, SCHEDULES)
    os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT / "bench"), os.environ.get("PYTHONPATH", "")])
    app = App(config_path=str(city(folder)))
    spec = ChildSpec(config_path=str(folder / "city.yaml"), sensor="city-soc", job_modules=("scheduler_overhead",),
                     log_file=str(folder / "log.json"))
    thread, child = [], []
    for _ in range(repeats):
        t = time.perf_counter()
        run_job(app, "bench-noop")
        thread.append(time.perf_counter() - t)
        t = time.perf_counter()
        assert run_child(app.store, "bench-noop", spec, 60, StopControl()) == "ok"
        child.append(time.perf_counter() - t)
    return {"in_thread_ms_median": round(statistics.median(thread) * 1000, 1),
            "child_process_ms_median": round(statistics.median(child) * 1000, 1), "repeats": repeats}


def bench_help(repeats: int = 8) -> dict:
    """`citysec --help` in a fresh interpreter (what every command pays before it starts working)."""
    argv = [sys.executable, "-c", "import sys; from citysec.cli import main; sys.argv[0] = 'citysec'; main()", "--help"]
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        subprocess.run(argv, cwd=ROOT, stdout=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - t)
    return {"help_ms_median": round(statistics.median(times) * 1000, 1), "repeats": repeats}


def main() -> None:
    with tempfile.TemporaryDirectory() as d1, tempfile.TemporaryDirectory() as d2:
        decisions = bench_decisions(Path(d1))
        launch = bench_launch(Path(d2))
    command = bench_help()
    print(f"{'runs in history':>16} {'decision (ms, median)':>22}")
    for r in decisions:
        print(f"{r['runs_in_history']:>16} {r['decision_ms_median']:>22}")
    print(f"job start: in a thread {launch['in_thread_ms_median']} ms · in its own process "
          f"{launch['child_process_ms_median']} ms (median of {launch['repeats']}, no-op job)")
    print(f"command start: citysec --help {command['help_ms_median']} ms (median of {command['repeats']})")
    out = ROOT / "bench" / "results" / "scheduler_overhead.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"decisions": decisions, "launch": launch, "command": command}, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
