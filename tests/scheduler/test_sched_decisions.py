"""The scheduler's decisions with an injected clock and an in-process launcher: no sleeping."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from sched_helpers import write_city

from config.loader import load_config
from citysec.scheduler.calendar import CalendarEntry
from citysec.scheduler.exec import JobLock
from citysec.scheduler.plan import PlannedJob
from citysec.scheduler.spec import parse_spec
from citysec.scheduler.loop import Scheduler
from findings import Store

HP = timezone(timedelta(hours=7))


class Recorder:
    """An in-process launcher: records a run at the fake clock's time; may block or raise."""

    def __init__(self, store: Store):
        self.store, self.calls = store, []
        self.block: dict[str, threading.Event] = {}
        self.fail: set[str] = set()

    def __call__(self, job: PlannedJob, stop) -> str:
        self.calls.append(job.name)
        rid = self.store.start_run(job.name, sensor="city-soc")
        if job.name in self.block:
            self.block[job.name].wait(10)
        if job.name in self.fail:
            self.store.finish_run(rid, "failed", error="RuntimeError: boom")
            raise RuntimeError("boom")
        self.store.finish_run(rid, "ok")
        return "ok"


def make(tmp_path, clock, jobs: dict[str, str], extra_yaml: str = "", calendar=None):
    cfg = load_config(str(write_city(tmp_path, extra_yaml)))
    store = Store(tmp_path / "citysec.db", clock=clock)
    plan = [PlannedJob(n, parse_spec(s), 60.0, "scan_windows" if n == "services" else None)
            for n, s in jobs.items()]
    rec = Recorder(store)
    sched = Scheduler(store=store, city=cfg.city, plan=plan, sensor="city-soc", launch=rec, clock=clock,
                      tz=HP, workers=2, calendar=calendar)
    return sched, rec, store


def settle(sched: Scheduler) -> None:
    for _ in range(200):
        with sched._guard:
            futs = list(sched._inflight.values())
        if not futs:
            return
        for f in futs:
            f.result(10)


def outcomes(store: Store, job: str) -> list[str]:
    return [r["outcome"] for r in reversed(store.runs(job=job))]


def test_catch_up_after_downtime_runs_once(tmp_path, clock):
    sched, rec, store = make(tmp_path, clock, {"ship": "every 5 minutes", "backup": "every day at 07:00"})
    assert sorted(sched.tick()) == ["backup", "ship"]       # never ran: due at once
    settle(sched)
    clock.advance(minutes=3)
    assert sched.tick() == []
    clock.advance(hours=30)                                   # citysec was down for 30 hours
    assert sorted(sched.tick()) == ["backup", "ship"]
    settle(sched)
    assert sched.tick() == []                                  # 360 missed intervals: one run
    assert rec.calls.count("ship") == 2 and rec.calls.count("backup") == 2
    clock.advance(minutes=5)
    assert sched.tick() == ["ship"]
    settle(sched)
    sched.drain()


def test_daily_job_next_run_is_the_next_time_of_day(tmp_path, clock):
    sched, rec, store = make(tmp_path, clock, {"backup": "every day at 07:00"})
    sched.tick()
    settle(sched)                                              # ran at 10:00 local
    st = sched.status()
    assert st["backup"]["last_outcome"] == "ok"
    assert st["backup"]["next"] == "2026-12-01T07:00+07:00"
    clock.now = datetime(2026, 12, 1, 6, 59, tzinfo=HP)
    assert sched.tick() == []
    clock.now = datetime(2026, 12, 1, 7, 0, tzinfo=HP)
    assert sched.tick() == ["backup"]
    settle(sched)
    sched.drain()


def test_a_running_job_is_not_started_again(tmp_path, clock):
    sched, rec, store = make(tmp_path, clock, {"ship": "every 1 minute", "logs": "every 1 minute"})
    rec.block["ship"] = threading.Event()
    assert sorted(sched.tick()) == ["logs", "ship"]
    settle_logs = sched._inflight.get("logs")
    if settle_logs:
        settle_logs.result(10)
    for _ in range(5):                                          # ship hangs for five minutes
        clock.advance(minutes=1)
        assert sched.tick() == ["logs"]                        # a slow job does not hold the others up
        fut = sched._inflight.get("logs")
        if fut:
            fut.result(10)
    assert rec.calls.count("ship") == 1
    rec.block["ship"].set()
    settle(sched)
    assert rec.calls.count("logs") == 6
    sched.drain()


def test_the_file_lock_keeps_another_process_from_running_it_twice(tmp_path, clock):
    sched, rec, store = make(tmp_path, clock, {"ship": "every 1 minute"})
    other = JobLock(f"{sched.lock_dir}/city-soc.ship.lock")   # as another `citysec run` would hold it
    assert other.acquire()
    fut = sched.submit(sched.plan["ship"])
    assert fut.result(10) == "locked" and rec.calls == [] and store.runs(job="ship") == []
    other.release()
    assert sched.submit(sched.plan["ship"]).result(10) == "ok"
    sched.drain()


def test_a_job_that_raises_is_recorded_and_the_loop_goes_on(tmp_path, clock):
    sched, rec, store = make(tmp_path, clock, {"logs": "every 5 minutes", "ship": "every 5 minutes"})
    rec.fail.add("logs")
    sched.tick()
    settle(sched)
    assert outcomes(store, "logs") == ["failed"] and outcomes(store, "ship") == ["ok"]
    assert store.runs(job="logs")[0]["error"] == "RuntimeError: boom"
    clock.advance(minutes=1)
    assert sched.tick() == []                     # a failed run is an attempt: no hot retry loop
    clock.advance(minutes=4)
    assert sorted(sched.tick()) == ["logs", "ship"]
    settle(sched)
    sched.drain()


def test_an_interrupted_run_does_not_count_as_an_attempt(tmp_path, clock):
    sched, rec, store = make(tmp_path, clock, {"discovery": "every 6 hours"})
    rid = store.start_run("discovery", sensor="city-soc")
    store.finish_run(rid, "interrupted", error="the process ended before the run finished")
    clock.advance(minutes=10)
    assert sched.tick() == ["discovery"]
    settle(sched)
    sched.drain()


def test_runs_of_other_sensors_do_not_count(tmp_path, clock):
    sched, rec, store = make(tmp_path, clock, {"discovery": "every 6 hours"})
    store.start_run("discovery", sensor="district-sensor")
    assert sched.tick() == ["discovery"]
    settle(sched)
    sched.drain()


def test_services_run_only_inside_scan_windows_and_outside_blackouts(tmp_path, clock):
    windows = ("scan_windows:\n    - {days: [mon, tue, wed, thu, fri, sat, sun], start: \"00:00\", end: \"23:59:59\"}\n"
               "  blackouts: []")
    night = ("scan_windows:\n    - {days: [mon, tue, wed, thu, fri], start: \"22:00\", end: \"05:00\"}\n"
             "  blackouts:\n    - {start: \"2026-12-01T00:00:00\", end: \"2026-12-01T02:00:00\", reason: \"thi cử\"}")
    cfg = load_config(str(write_city(tmp_path, replace={windows: night})))
    store = Store(tmp_path / "citysec.db", clock=clock)
    rec = Recorder(store)
    plan = [PlannedJob("services", parse_spec("every day at 01:00"), 60.0, "scan_windows")]
    sched = Scheduler(store=store, city=cfg.city, plan=plan, sensor="city-soc", launch=rec, clock=clock, tz=HP)
    clock.now = datetime(2026, 11, 30, 12, 0, tzinfo=HP)     # Monday noon: outside the window
    assert sched.due() and sched.tick() == []
    assert sched.status()["services"]["waiting"] == "outside the scan windows"
    clock.now = datetime(2026, 12, 1, 1, 0, tzinfo=HP)       # inside the window, but a blackout
    assert sched.tick() == []
    assert "blackout" in sched.status()["services"]["waiting"]
    clock.now = datetime(2026, 12, 1, 2, 30, tzinfo=HP)      # Tuesday 02:30: Monday's window, no blackout
    assert sched.tick() == ["services"]
    settle(sched)
    # --once --only services outside the window: a 'skipped' run says why
    clock.now = datetime(2026, 12, 1, 12, 0, tzinfo=HP)
    assert sched.run_once(["services"]) == {"services": "skipped"}
    assert store.runs(job="services")[0]["error"] == "outside the scan windows"


def test_reports_are_due_on_draft_dates_and_status_reminds(tmp_path, clock):
    cal = [CalendarEntry("form05-network-member", ((6, 20), (12, 15)), 14)]
    sched, rec, store = make(tmp_path, clock, {"reports": "every monday at 06:00"}, calendar=cal)
    sched.tick()
    settle(sched)                                       # Monday 30 Nov 10:00
    clock.now = datetime(2026, 11, 30, 23, 59, tzinfo=HP)
    assert sched.tick() == []
    assert sched.reminders() == []
    clock.now = datetime(2026, 12, 1, 0, 1, tzinfo=HP)  # 14 days before 15 December
    assert sched.tick() == ["reports"]
    settle(sched)
    assert sched.tick() == []
    assert sched.reminders() == [{"report": "form05-network-member", "due": "2026-12-15",
                                  "draft_from": "2026-12-01", "days_left": "14"}]
    sched.drain()


def test_stop_takes_no_new_job(tmp_path, clock):
    sched, rec, store = make(tmp_path, clock, {"ship": "every 1 minute"})
    sched.request_stop(5.0)
    assert sched.tick() == [] and rec.calls == []
    sched.drain()


@pytest.mark.parametrize("once_names", [None, ["ship"]])
def test_run_once_marks_runs_of_dead_processes_interrupted(tmp_path, clock, once_names):
    sched, rec, store = make(tmp_path, clock, {"ship": "every 1 minute"})
    with store.write() as c:   # a run left 'running' by a process that no longer exists
        c.execute("INSERT INTO runs (id, job, sensor, started, pid) VALUES ('dead', 'ship', 'city-soc', ?, ?)",
                  ("2026-11-30T02:59:00.000Z", 2 ** 22 + 1))
    assert sched.run_once(once_names) == {"ship": "ok"}
    assert [r["outcome"] for r in store.runs(job="ship")] == ["ok", "interrupted"]


def test_the_local_zone_comes_from_tz(monkeypatch):
    from citysec.scheduler.loop import local_tz
    monkeypatch.setenv("TZ", "Asia/Ho_Chi_Minh")
    assert datetime(2026, 12, 1, tzinfo=local_tz()).utcoffset() == timedelta(hours=7)
