"""The scheduler behind `citysec run`: what is due, bounded workers, locks, timeouts, clean stops.

Decisions come from the run history in the store and an injectable clock (``clock``): a job is
due when the next time its schedule gives after its last start has passed (see
:mod:`citysec.scheduler.spec`); after downtime that is one run, however many intervals were missed.
Runs that ended ``interrupted`` (citysec was stopped or killed) or ``skipped`` do not count as
attempts, so an interrupted job runs again at the next start.

Execution: a job is submitted to a pool of ``workers`` threads, at most once at a time per job in
this process; the worker takes the job's file lock (also held against other processes), checks
again that the job is still due, checks the gate (the services job only inside scan windows and
outside blackouts), then calls ``launch`` — in production :func:`citysec.scheduler.exec.run_child`,
the job in its own process with a timeout. Tests inject an in-process ``launch`` and a fake clock.

Stopping (:meth:`Scheduler.request_stop`, wired to SIGTERM/SIGINT by the command): no new job
starts; running ones get ``grace`` seconds, then are stopped and recorded as ``interrupted``;
the store's WAL is checkpointed.

Also exported for job code: :func:`scan_allowed` (from :mod:`citysec.scheduler.scope`); a
sensor's share is :func:`citysec.share.share_of`.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from findings import Store
from findings.model import utcnow

from citysec.scheduler.calendar import CalendarEntry, draft_triggers, reminders
from citysec.scheduler.exec import JobLock, StopControl, process_gone
from citysec.scheduler.plan import PlannedJob
from citysec.scheduler.scope import scan_allowed, scan_gate  # noqa: F401  (scan_allowed: for job code)
from citysec.scheduler.spec import next_due

log = logging.getLogger("citysec.scheduler")
NOT_ATTEMPTS = ("interrupted", "skipped")
Launch = Callable[[PlannedJob, StopControl], str]


def local_tz() -> tzinfo:
    """The process's local time zone: the zone named by TZ (with its DST rules), else the system's."""
    name = os.environ.get("TZ", "").lstrip(":")
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            log.warning("TZ=%s is not a known time zone; using the system's", name)
    return datetime.now().astimezone().tzinfo


def _parse(ts: str | None) -> datetime | None:
    return datetime.fromisoformat(ts.replace("Z", "+00:00")) if ts else None


class Scheduler:
    def __init__(self, *, store: Store, city, plan: list[PlannedJob], sensor: str | None, launch: Launch,
                 clock: Callable[[], datetime] = utcnow, tz: tzinfo | None = None, workers: int = 4,
                 calendar: list[CalendarEntry] | None = None, lock_dir: str | None = None):
        self.store, self.city, self.sensor, self.launch = store, city, sensor, launch
        self.plan = {j.name: j for j in plan}
        self.clock, self.tz = clock, tz or local_tz()
        self.calendar = calendar or []
        self.lock_dir = lock_dir or os.path.join(os.path.dirname(os.path.abspath(store.path)), "locks")
        self.stop = StopControl()
        self._wake = threading.Event()
        self._inflight: dict[str, Future] = {}
        self._guard = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="job")

    # -- decisions (pure given the store and the clock) ----------------------------------------
    def last_starts(self) -> dict[str, datetime]:
        """Last start of each job that counts as an attempt, for this sensor (or no sensor).
        One indexed lookup per job (runs_job: job, started), newest first."""
        out = {}
        for name in self.plan:
            rows = self.store.query(
                f"SELECT started FROM runs WHERE job=? AND outcome NOT IN {NOT_ATTEMPTS!r}"
                " AND (sensor IS ? OR sensor IS NULL) ORDER BY started DESC LIMIT 1", (name, self.sensor))
            if rows:
                out[name] = _parse(rows[0]["started"])
        return out

    def triggers(self, job: PlannedJob, now: datetime) -> tuple[datetime, ...]:
        return draft_triggers(self.calendar, now, self.tz) if job.name == "reports" else ()

    def next_time(self, job: PlannedJob, now: datetime, last: datetime | None) -> datetime | None:
        """When ``job`` is next due; ``None`` = now (never ran); unscheduled jobs: far future."""
        if job.spec is None:
            return datetime.max.replace(tzinfo=now.tzinfo)
        return next_due(job.spec, last, self.tz, self.triggers(job, now))

    def is_due(self, job: PlannedJob, now: datetime, last: datetime | None) -> bool:
        nxt = self.next_time(job, now, last)
        return nxt is None or nxt <= now

    def gate(self, job: PlannedJob, now: datetime) -> tuple[bool, str]:
        if job.gate == "scan_windows":
            return scan_gate(self.city, self.sensor, now, self.tz)
        return True, ""

    def due(self, now: datetime | None = None) -> list[PlannedJob]:
        """Jobs due now and not running in this process (the gate is judged separately)."""
        now = now or self.clock()
        last = self.last_starts()
        with self._guard:
            busy = set(self._inflight)
        return [j for j in self.plan.values() if j.name not in busy and self.is_due(j, now, last.get(j.name))]

    # -- running -------------------------------------------------------------------------------
    def submit(self, job: PlannedJob, *, force: bool = False, record_skip: bool = False) -> Future | None:
        with self._guard:
            if job.name in self._inflight or self.stop.event.is_set():
                return None
            fut = self._pool.submit(self._execute, job, force, record_skip)
            self._inflight[job.name] = fut
        fut.add_done_callback(lambda _f, n=job.name: self._done(n))
        return fut

    def _done(self, name: str) -> None:
        with self._guard:
            self._inflight.pop(name, None)
        self._wake.set()

    def _execute(self, job: PlannedJob, force: bool, record_skip: bool) -> str:
        if self.stop.event.is_set():
            return "cancelled"
        lock = JobLock(os.path.join(self.lock_dir, f"{self.sensor or 'default'}.{job.name}.lock"))
        if not lock.acquire():
            log.info("job %s is running in another process", job.name, extra={"citysec": {"job": job.name}})
            return "locked"
        try:
            now = self.clock()
            if not force and not self.is_due(job, now, self.last_starts().get(job.name)):
                return "not-due"  # another process ran it between our decision and the lock
            ok, why = self.gate(job, now)
            if not ok:
                if record_skip:
                    self.store.finish_run(self.store.start_run(job.name, sensor=self.sensor), "skipped", error=why)
                log.info("job %s not started: %s", job.name, why, extra={"citysec": {"job": job.name}})
                return "skipped"
            log.info("job %s starting", job.name, extra={"citysec": {"job": job.name}})
            outcome = self.launch(job, self.stop)
            log.info("job %s ended: %s", job.name, outcome, extra={"citysec": {"job": job.name, "outcome": outcome}})
            return outcome
        except Exception:  # a launcher failure (cannot fork, store busy): logged, the loop goes on
            log.exception("job %s could not be run", job.name, extra={"citysec": {"job": job.name}})
            return "failed"
        finally:
            lock.release()

    def tick(self) -> list[str]:
        """Submit every job that is due now and whose gate is open. Returns their names."""
        now, started = self.clock(), []
        for job in self.due(now):
            if self.gate(job, now)[0] and self.submit(job):
                started.append(job.name)
        return started

    def sleep_for(self, now: datetime, cap: float = 30.0) -> float:
        last = self.last_starts()
        with self._guard:
            busy = set(self._inflight)
        waits = [cap]
        for j in self.plan.values():
            nxt = self.next_time(j, now, last.get(j.name))
            if j.name not in busy and nxt is not None:
                waits.append((nxt - now).total_seconds())
        return max(0.2, min(waits))

    def run_forever(self, grace: float = 30.0, cap: float = 30.0) -> None:
        """The daemon loop, until :meth:`request_stop`."""
        self.recover()
        while not self.stop.event.is_set():
            self.tick()
            self._wake.wait(self.sleep_for(self.clock(), cap))
            self._wake.clear()
        self.drain()

    def run_once(self, names: list[str] | None = None) -> dict[str, str]:
        """Run each due job (or each of ``names``, due or not) once; wait; return the outcomes."""
        self.recover()
        jobs = [self.plan[n] for n in names] if names else self.due()
        futs = {j.name: self.submit(j, force=bool(names), record_skip=True) for j in jobs}
        out = {n: (f.result() if f is not None else "cancelled") for n, f in futs.items()}
        self.drain()
        return out

    def recover(self) -> list[str]:
        """Runs left 'running' by a dead process (kill -9, power loss) become 'interrupted'."""
        ids = self.store.mark_interrupted()
        for row in self.store.query("SELECT id, pid, started FROM runs WHERE outcome='running'"):
            if process_gone(row["pid"], _parse(row["started"])):
                self.store.finish_run(row["id"], "interrupted", error="the process ended before the run finished")
                ids.append(row["id"])
        if ids:
            log.warning("marked %d run(s) of a dead process as interrupted", len(ids),
                        extra={"citysec": {"runs": ids}})
        return ids

    def request_stop(self, grace: float) -> None:
        """Take no new job; running ones get ``grace`` seconds (a second call may shorten it)."""
        self.stop.begin(grace)
        self._wake.set()

    def drain(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        self.store.query("PRAGMA wal_checkpoint(TRUNCATE)")
        self.store.close()

    # -- status --------------------------------------------------------------------------------
    def status(self, now: datetime | None = None) -> dict[str, Any]:
        now = now or self.clock()
        attempts = self.last_starts()
        out: dict[str, Any] = {}
        for name, job in sorted(self.plan.items()):
            runs = self.store.runs(job=name, limit=1)
            nxt = self.next_time(job, now, attempts.get(name))
            item = {"schedule": job.spec.text if job.spec else "not scheduled", "timeout_s": job.timeout,
                    "last_start": runs[0]["started"] if runs else None,
                    "last_outcome": runs[0]["outcome"] if runs else None,
                    "next": "now" if nxt is None or nxt <= now else (
                        None if job.spec is None else nxt.astimezone(self.tz).isoformat(timespec="minutes"))}
            ok, why = self.gate(job, now)
            if not ok:
                item["waiting"] = why
            out[name] = item
        return out

    def reminders(self, now: datetime | None = None) -> list[dict[str, str]]:
        return reminders(self.calendar, (now or self.clock()).astimezone(self.tz).date())
