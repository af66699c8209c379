"""The drill runner: sends the MSEL's injects at their scenario times, checks the expectations,
undoes every technical inject and verifies it, and keeps its whole state in the store.

Time: scenario time = (real time since the start − time paused) × speed. Live runs have speed 1;
accelerated runs compress injects, expectation windows and (with ``jobs: scheduled``) the city's
job schedules by the speed; tabletop runs send message injects only (technical injects are
skipped, automatic expectations not applicable) and need no range.

Control from another shell goes through the run's row: ``pause``, ``resume``, ``end`` and ``abort``
set its ``control`` column; the loop reads it every ``poll`` seconds. ``abort`` is the kill switch: no
inject is sent after it, every cleanup runs, and what was still expected is not applicable.
``end`` is the control cell's ENDEX: the drill is over now and scored as it stands — injects not
sent yet are skipped (their expectations not applicable), every expectation still pending of a
sent inject is missed (the players did not do it during the exercise), every cleanup runs. A runner killed with kill -9 is taken over by
``resume`` (the row's pid is dead): every inject already sent stays sent (never sent twice), every
pending one is sent, pending cleanups still run. An inject the crash caught in the middle of its
own ``apply`` (state ``sending``) is applied again: its facts were not stored yet, and without
them "is it applied?" cannot be told for every type (a brute force against a host whose log
already holds the attacker's failures).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from findings.errors import CitysecError, ScopeError, UsageError
from findings.model import iso, parse_ts
from findings.store import Store
from findings.support.durations import parse_duration
from findings.support.procs import pid_alive, start_time

from . import db, expect, messages
from .scenario import Scenario
from .validate import LoadedScenario, from_text

log = logging.getLogger("citysec.exercise")
ACTIVE = ("running", "paused")


@dataclass
class Setup:
    """What a run needs besides the store: the range (None in tabletop mode), the channels, the
    city's job runner and schedules (``jobs: scheduled``), and explicitly approved extra targets."""
    range: Any = None
    channels: messages.Channels = field(default_factory=messages.Channels)
    run_job: Callable[..., Any] | None = None                          # run_job(job, agency=None)
    schedules: dict[str, timedelta] = field(default_factory=dict)     # job → period (scenario time)
    approved: frozenset[str] = frozenset()
    poll: float = 0.5              # real seconds between passes of the loop
    check_every: float = 1.0       # real seconds between expectation checks (SQL on the store)
    on_complete: Callable[[Store, str], Any] | None = None            # e.g. corrective-action retests


def preflight(loaded: LoadedScenario, mode: str, setup: Setup) -> list[str]:
    """Every technical inject's targets checked before anything acts: problems (empty: all in scope)."""
    from .injects import KINDS, scope_check
    if mode == "tabletop":
        return []
    if setup.range is None:
        return ["a live or accelerated drill needs the range (or run it with --mode tabletop)"]
    out = []
    for inj in loaded.scenario.msel:
        if inj.technical is not None:
            t = inj.technical
            out += [f"inject #{inj.number} ({t.type}): {p}" for p in
                    scope_check(setup.range, KINDS[t.type], t.params, setup.approved)]
    return out


def start(store: Store, loaded: LoadedScenario, *, mode: str, speed: float, jobs: str, setup: Setup,
          run_id: str | None = None) -> str:
    """Record a new run (state running, every inject pending). Refuses, before anything acts, an
    inject aimed outside the range (ScopeError, recorded as a refused run with its events)."""
    if mode not in ("live", "accelerated", "tabletop"):
        raise UsageError(f"mode {mode!r}: live, accelerated or tabletop")
    if mode == "live":
        speed = 1.0
    if not (0 < speed <= 3600):
        raise UsageError(f"--speed {speed}: give a factor between 1 and 3600")
    db.ensure_tables(store)
    sc = loaded.scenario
    now = store.clock()
    rid = run_id or f"{sc.id}-{now:%Y%m%dT%H%M%S}"
    problems = preflight(loaded, mode, setup)
    run = {"id": rid, "organizer": sc.organizer, "title": sc.title.vi, "title_en": sc.title.en, "scenario_id": sc.id}
    stmts = [("INSERT INTO exercise_runs (id, scenario_id, title, title_en, organizer, scenario_path, scenario_sha256,"
              " scenario_text, mode, speed, jobs, state, pid, pid_start, started_at, range_spec, range_state)"
              " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
              (rid, sc.id, sc.title.vi, sc.title.en, sc.organizer, os.path.abspath(loaded.path), loaded.sha256, loaded.text,
               mode, speed, jobs, "refused" if problems else "running", os.getpid(), start_time(os.getpid()), iso(now),
               getattr(getattr(setup.range, "spec", None), "source", None), getattr(setup.range, "state_dir", None)))]
    if problems:
        events = [db.event(run, "inject_refused", now, severity="high", message=f"drill {rid}: refused: {p}",
                           detail=p) for p in problems]
        db.write(store, stmts, events)
        raise ScopeError("drill refused before any inject was sent (recorded as run " + rid + "):\n  "
                         + "\n  ".join(problems))
    for inj in sc.msel:
        skip = mode == "tabletop" and inj.technical is not None
        stmts.append(("INSERT INTO exercise_injects (run_id, number, state) VALUES (?,?,?)",
                      (rid, inj.number, "skipped" if skip else "pending")))
        for e in inj.expectations:
            na = mode == "tabletop" and e.kind != "evaluator"
            stmts.append(("INSERT INTO exercise_expectations (run_id, number, exp_id, kind, severity, state)"
                          " VALUES (?,?,?,?,?,?)", (rid, inj.number, e.id, e.kind, e.severity,
                                                    "not_applicable" if na else "pending")))
    db.write(store, stmts, [db.event(run, "run_started", now, mode=mode, speed=speed)])
    return rid


def record_refusal(store: Store, path: str, problems: list[str], agency: str) -> None:
    """A scenario refused because of a technical inject's target (validation or scope): recorded
    as ``inject_refused`` events, though no run exists, so the refusal is on the record."""
    db.ensure_tables(store)
    now = store.clock()
    run = {"id": f"refused-{now:%Y%m%dT%H%M%S}", "organizer": agency, "title": os.path.basename(path),
           "scenario_id": os.path.splitext(os.path.basename(path))[0]}
    db.write(store, [], [db.event(run, "inject_refused", now, severity="high", message=f"drill refused: {p}"[:4000],
                                  detail=p[:1000], file=os.path.abspath(path)) for p in problems])


class Runner:
    """Runs (or, after a crash, takes over) one drill run until it completes or is aborted."""

    def __init__(self, store: Store, run_id: str, setup: Setup):
        self.store, self.setup = store, setup
        self.run = db.run_row(store, run_id)
        self.id = self.run["id"]
        self.scenario: Scenario = from_text(self.run["scenario_text"], self.run["scenario_path"])
        self.injects = {i.number: i for i in self.scenario.msel}
        self._stop_jobs = threading.Event()
        self._cpu = 0.0
        self._checked = 0.0

    # -- time ----------------------------------------------------------------------------------
    def now(self) -> datetime:
        return self.store.clock()

    def scenario_time(self, run: dict | None = None) -> timedelta:
        r = run or self.run
        paused = r["paused_seconds"] + ((self.now() - parse_ts(r["paused_at"])).total_seconds()
                                        if r["state"] == "paused" and r["paused_at"] else 0)
        real = (self.now() - parse_ts(r["started_at"])).total_seconds() - paused
        return timedelta(seconds=max(0.0, real) * r["speed"])

    def real(self, scenario: timedelta) -> timedelta:
        return scenario / self.run["speed"]

    # -- the loop ------------------------------------------------------------------------------
    def take_over(self) -> None:
        """Become the run's process (after a crash or from the command that started it)."""
        if self.run["state"] not in ACTIVE:
            raise UsageError(f"run {self.id} is {self.run['state']}; nothing to resume")
        if self.run["pid"] != os.getpid() and driver(self.run):
            raise UsageError(f"run {self.id} is still driven by process {self.run['pid']}")
        me = start_time(os.getpid())
        db.write(self.store, [("UPDATE exercise_runs SET pid=?, pid_start=? WHERE id=?", (os.getpid(), me, self.id))],
                 [])
        self.run["pid"], self.run["pid_start"] = os.getpid(), me

    def loop(self) -> str:
        """Drive the run to its end; returns the final state (completed or aborted)."""
        self.take_over()
        threads = self._start_jobs()
        try:
            while True:
                t0 = time.process_time()
                state = self.tick()
                self._cpu += time.process_time() - t0
                if state not in ACTIVE:
                    return state
                time.sleep(self.setup.poll)
        finally:
            self._stop_jobs.set()
            for th in threads:
                th.join(timeout=600)
            db.write(self.store, [("UPDATE exercise_runs SET overhead_seconds=overhead_seconds+? WHERE id=?",
                                   (round(self._cpu, 3), self.id))], [])

    def tick(self) -> str:
        """One pass: control, due injects, due cleanups, expectations, the end."""
        self.run = db.run_row(self.store, self.id)
        if self.run["control"] == "abort":
            return self._abort()
        if self.run["control"] == "end":
            return self._endex()
        self._pause_or_resume()
        if self.run["state"] == "paused":
            return "paused"
        t = self.scenario_time()
        for row in db.rows(self.store, "exercise_injects", self.id, "number"):
            inj = self.injects[row["number"]]
            if row["state"] in ("pending", "sending") and inj.offset <= t:
                self._send(inj, row)
            elif row["cleanup"] == "pending" and inj.cleanup_at and parse_duration(inj.cleanup_at) <= t:
                self._cleanup(inj, json.loads(row["facts"]))
        if time.monotonic() - self._checked >= self.setup.check_every or t >= self.scenario.length:
            self._check_expectations()
            self._checked = time.monotonic()
        if t >= self.scenario.length and self._all_sent() and not self._pending_expectations():
            return self._complete()
        return "running"

    def _pause_or_resume(self) -> None:
        r, now = self.run, self.now()
        if r["control"] == "pause" and r["state"] == "running":
            db.write(self.store, [("UPDATE exercise_runs SET state='paused', paused_at=? WHERE id=?",
                                   (iso(now), self.id))], [db.event(self.run, "run_paused", now)])
        elif r["control"] == "run" and r["state"] == "paused":
            paused = (now - parse_ts(r["paused_at"])).total_seconds() if r["paused_at"] else 0
            db.write(self.store, [("UPDATE exercise_runs SET state='running', paused_at=NULL,"
                                   " paused_seconds=paused_seconds+? WHERE id=?", (paused, self.id))],
                     [db.event(self.run, "run_resumed", now, seconds=round(paused, 1))])
        self.run = db.run_row(self.store, self.id)

    # -- injects -------------------------------------------------------------------------------
    def _agency_of(self, inj) -> str:
        rng, host = self.setup.range, inj.host
        if rng is not None and host:
            try:
                return rng.host(host).agency
            except CitysecError:
                pass
        agencies = [p for p in inj.to if self.scenario.participant(p).kind == "agency"]
        return agencies[0] if agencies else self.scenario.organizer

    def _host_ip(self, host: str | None) -> str | None:
        if host is None or self.setup.range is None:
            return host
        try:
            return self.setup.range.host(host).ip
        except CitysecError:
            return host

    def _send(self, inj, row: dict) -> None:
        now = self.now()
        late = (self.scenario_time() - inj.offset).total_seconds()
        if row["state"] == "pending":
            db.write(self.store, [("UPDATE exercise_injects SET state='sending', attempts=attempts+1, sent_at=?"
                                   " WHERE run_id=? AND number=? AND state='pending'", (iso(now), self.id, inj.number))], [])
            row = {**row, "state": "sending", "sent_at": iso(now), "facts": "{}"}
        try:
            facts, detail = self._act(inj, row)
        except CitysecError as exc:
            self._inject_failed(inj, str(exc))
            return
        sent = row["sent_at"] or iso(now)
        stmts = [("UPDATE exercise_injects SET state='sent', facts=?, detail=?, cleanup=? WHERE run_id=? AND"
                  " number=?", (json.dumps(facts), json.dumps(detail, default=str)[:4000],
                                "pending" if inj.technical else "none", self.id, inj.number))]
        for e in inj.expectations:
            due = parse_ts(sent) + self.real(parse_duration(e.within))
            stmts.append(("UPDATE exercise_expectations SET due_at=? WHERE run_id=? AND number=? AND exp_id=?"
                          " AND state='pending'", (iso(due), self.id, inj.number, e.id)))
        ev = db.event(self.run, "inject_sent", sent, agency=self._agency_of(inj), host=self._host_ip(inj.host),
                      message=f"inject #{inj.number} sent ({inj.method}): {inj.synopsis}",
                      inject=inj.number, method=inj.method, synopsis=str(inj.synopsis), objective=inj.objective,
                      late_seconds=round(max(0.0, late), 1), technical=inj.technical.type if inj.technical else None)
        db.write(self.store, stmts, [ev])
        log.info("drill %s: inject #%d sent (%s)", self.id, inj.number, inj.synopsis)

    def _act(self, inj, row: dict) -> tuple[dict, dict]:
        if inj.technical is None:
            return {}, messages.deliver(self.setup.channels, self.run, self.scenario, inj)
        from .injects import KINDS, scope_check
        kind, params, rng = KINDS[inj.technical.type], inj.technical.typed(), self.setup.range
        problems = scope_check(rng, kind, params, self.setup.approved)
        if problems:
            raise ScopeError("; ".join(problems))
        facts = kind.apply(rng, params)
        return facts, {"applied": kind.describe(params)}

    def _inject_failed(self, inj, error: str) -> None:
        now = self.now()
        refused = "outside" in error or "not a host" in error or "approved" in error
        state = "refused" if refused else "failed"
        stmts = [("UPDATE exercise_injects SET state=?, detail=? WHERE run_id=? AND number=?",
                  (state, error[:4000], self.id, inj.number)),
                 ("UPDATE exercise_expectations SET state='not_applicable' WHERE run_id=? AND number=? AND"
                  " state='pending'", (self.id, inj.number))]
        db.write(self.store, stmts, [db.event(self.run, f"inject_{state}", now, severity="high",
                                              agency=self._agency_of(inj), inject=inj.number, detail=error[:1000])])
        self._lapse(f"inject-{inj.number}", f"inject #{inj.number} {state}: {error}")

    # -- cleanups ------------------------------------------------------------------------------
    def _cleanup(self, inj, facts: dict) -> bool:
        from .injects import KINDS
        kind, now = KINDS[inj.technical.type], self.now()
        try:
            params = inj.technical.typed()
            kind.cleanup(self.setup.range, params, facts)
            problems = kind.verify(self.setup.range, params, facts)
        except CitysecError as exc:
            problems = [f"cleanup failed: {exc}"]
        state = "failed" if problems else "done"
        detail = "; ".join(problems) or "verified: the range is as described again"
        db.write(self.store, [("UPDATE exercise_injects SET cleanup=?, cleaned_at=?, detail=? WHERE run_id=? AND"
                               " number=?", (state, iso(now), detail[:4000], self.id, inj.number))],
                 [db.event(self.run, f"cleanup_{state}", now, agency=self._agency_of(inj),
                           message=f"inject #{inj.number}: cleanup {state}: {detail}"[:4000],
                           severity="critical" if problems else "info", inject=inj.number, detail=detail[:1000])])
        if problems:
            self._lapse(f"cleanup-{inj.number}", f"cleanup of inject #{inj.number} failed: {detail}")
        return not problems

    def cleanup_all(self) -> list[int]:
        """Run every pending cleanup (and retry failed ones); returns the inject numbers still not clean."""
        bad = []
        for row in db.rows(self.store, "exercise_injects", self.id, "number"):
            if row["cleanup"] in ("pending", "failed") or (row["state"] == "sending" and self.injects[row["number"]].technical):
                inj = self.injects[row["number"]]
                facts = json.loads(row["facts"])
                if row["state"] == "sending" and not facts:
                    continue   # interrupted before it acted: nothing to undo
                if not self._cleanup(inj, facts):
                    bad.append(inj.number)
        return bad

    # -- expectations --------------------------------------------------------------------------
    def _pending_expectations(self) -> list[dict]:
        return [r for r in db.rows(self.store, "exercise_expectations", self.id, "number, exp_id")
                if r["state"] == "pending" and r["kind"] != "evaluator"]

    def _all_sent(self) -> bool:
        return all(r["state"] not in ("pending", "sending")
                   for r in db.rows(self.store, "exercise_injects", self.id, "number"))

    def _check_expectations(self) -> None:
        now = self.now()
        sent = {r["number"]: r for r in db.rows(self.store, "exercise_injects", self.id, "number")}
        for r in self._pending_expectations():
            inj, irow = self.injects[r["number"]], sent[r["number"]]
            if irow["state"] != "sent" or not r["due_at"]:
                continue
            exp = next(e for e in inj.expectations if e.id == r["exp_id"])
            host = exp.host or inj.host
            hosts = tuple(h for h in {host, self._host_ip(host)} if h)
            met = expect.check(self.store, exp, hosts, irow["sent_at"], now)
            if met and met[0] <= r["due_at"]:
                self._met(inj, exp, irow, met)
            elif now >= parse_ts(r["due_at"]) and (met is None or met[0] > r["due_at"]):
                self._missed(inj, exp, irow, r)

    def _met(self, inj, exp, irow: dict, met: tuple) -> None:
        at, evidence = met
        secs = expect.seconds_between(irow["sent_at"], at)
        db.write(self.store, [("UPDATE exercise_expectations SET state='met', met_at=?, evidence=? WHERE run_id=?"
                               " AND number=? AND exp_id=?", (at, json.dumps(evidence), self.id, inj.number, exp.id))],
                 [db.event(self.run, "expectation_met", at, agency=self._agency_of(inj), host=self._host_ip(inj.host),
                           message=f"inject #{inj.number}: {exp.id} met after {secs:g} s"
                                   f" ({secs * self.run['speed']:g} scenario s): {exp.description}",
                           inject=inj.number, expectation=exp.id, kind=exp.kind, seconds=secs,
                           scenario_seconds=round(secs * self.run["speed"], 1), evidence=json.dumps(evidence))])

    def _missed(self, inj, exp, irow: dict, r: dict, at: str | None = None, why: str = "missed") -> None:
        db.write(self.store, [("UPDATE exercise_expectations SET state='missed' WHERE run_id=? AND number=? AND"
                               " exp_id=? AND state='pending'", (self.id, inj.number, exp.id))],
                 [db.event(self.run, "expectation_missed", at or r["due_at"], agency=self._agency_of(inj),
                           severity=exp.severity, host=self._host_ip(inj.host), inject=inj.number,
                           message=f"inject #{inj.number}: {exp.id} {why}: {exp.description}",
                           expectation=exp.id, kind=exp.kind, description=str(exp.description))])
        if exp.severity == "critical":
            self._lapse(f"expectation-{inj.number}-{exp.id}",
                        f"critical expectation missed: inject #{inj.number} {exp.id}: {exp.description}")

    def _lapse(self, key: str, message: str) -> None:
        if self.store.query("SELECT 1 FROM exercise_lapses WHERE run_id=? AND key=?", (self.id, key)):
            return
        reached = messages.flag_lapse(self.setup.channels, self.run, self.scenario, key, message)
        now = self.now()
        db.write(self.store, [("INSERT OR IGNORE INTO exercise_lapses (run_id, key, at, message, notified)"
                               " VALUES (?,?,?,?,?)", (self.id, key, iso(now), message, json.dumps(reached)))],
                 [db.event(self.run, "lapse", now, severity="critical", message=f"drill {self.id}: {message}"[:4000],
                           lapse=key, notified=reached)])

    # -- the end -------------------------------------------------------------------------------
    def _finish(self, state: str, what: str) -> str:
        bad = self.cleanup_all()
        now = self.now()
        stmts = [("UPDATE exercise_expectations SET state='rated' WHERE run_id=? AND kind='evaluator' AND"
                  " state='pending'", (self.id,))]
        if state == "aborted":
            stmts += [("UPDATE exercise_injects SET state='skipped' WHERE run_id=? AND state IN ('pending','sending')"
                       " AND facts='{}'", (self.id,)),
                      ("UPDATE exercise_expectations SET state='not_applicable' WHERE run_id=? AND"
                       " state='pending'", (self.id,))]
        stmts.append(("UPDATE exercise_runs SET state=?, ended_at=?, error=? WHERE id=?",
                      (state, iso(now), f"cleanups not verified: {bad}" if bad else None, self.id)))
        db.write(self.store, stmts, [db.event(self.run, what, now, uncleaned=bad or None)])
        if state == "completed" and self.setup.on_complete:
            self.setup.on_complete(self.store, self.id)
        return state

    def _abort(self) -> str:
        return self._finish("aborted", "run_aborted")

    def _endex(self) -> str:
        """The control cell ended the drill: score it as it stands (see the module's text)."""
        self._check_expectations()            # what was done before the end counts
        now = iso(self.now())
        sent = {r["number"]: r for r in db.rows(self.store, "exercise_injects", self.id, "number")}
        for r in self._pending_expectations():
            irow = sent[r["number"]]
            if irow["state"] != "sent":
                continue
            inj = self.injects[r["number"]]
            exp = next(e for e in inj.expectations if e.id == r["exp_id"])
            self._missed(inj, exp, irow, r, at=now, why="missed (the drill ended before it was done)")
        db.write(self.store, [("UPDATE exercise_injects SET state='skipped' WHERE run_id=? AND state IN"
                               " ('pending','sending') AND facts='{}'", (self.id,)),
                              ("UPDATE exercise_expectations SET state='not_applicable' WHERE run_id=? AND"
                               " state='pending' AND kind!='evaluator'", (self.id,))],
                 [db.event(self.run, "run_ended", self.now(), message=f"drill {self.id}: ended by the control cell")])
        return self._complete()

    def _complete(self) -> str:
        return self._finish("completed", "run_completed")

    # -- the city's jobs, on the compressed schedule -------------------------------------------
    def _start_jobs(self) -> list[threading.Thread]:
        if self.run["jobs"] != "scheduled" or self.setup.run_job is None or self.run["mode"] == "tabletop":
            return []
        threads = []
        for job in self.scenario.jobs:
            period = self.setup.schedules.get(job)
            if period is None:
                continue
            every = max(period.total_seconds() / self.run["speed"], 1.0)
            th = threading.Thread(target=self._job_loop, args=(job, every), name=f"drill-{job}", daemon=True)
            th.start()
            threads.append(th)
        return threads

    def _job_loop(self, job: str, every: float) -> None:
        while not self._stop_jobs.is_set():
            started = time.monotonic()
            try:
                for agency in (self.scenario.job_agencies if job != "cases" else []) or [None]:
                    if self._stop_jobs.is_set():
                        break
                    self.setup.run_job(job, agency=agency)
            except CitysecError as exc:
                log.warning("drill %s: job %s failed: %s", self.id, job, exc)
            except Exception:   # a job's bug must not stop the drill's other jobs; it is in the run history
                log.exception("drill %s: job %s crashed", self.id, job)
            self._stop_jobs.wait(max(0.0, every - (time.monotonic() - started)))


def control(store: Store, run_id: str, what: str) -> dict:
    """pause, resume, end or abort a run from any shell (the runner acts on its next pass)."""
    db.ensure_tables(store)
    run = db.run_row(store, run_id)
    if run["state"] not in ACTIVE:
        raise UsageError(f"run {run['id']} is {run['state']}")
    value = {"pause": "pause", "resume": "run", "end": "end", "abort": "abort"}[what]
    db.write(store, [("UPDATE exercise_runs SET control=? WHERE id=?", (value, run["id"]))], [])
    return {**run, "control": value, "driven_by": driver(run)}


def driver(run: dict) -> int | None:
    """The pid of the process driving ``run`` (a row of exercise_runs), if it still runs; a pid another
    process took since (its start time differs from the one recorded) is not the runner."""
    return run["pid"] if pid_alive(run["pid"], run.get("pid_start")) else None


def wait_state(store: Store, run_id: str, states: tuple[str, ...], timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        run = db.run_row(store, run_id)
        if run["state"] in states or time.monotonic() > deadline:
            return run
        time.sleep(0.2)


__all__ = ["Runner", "Setup", "control", "preflight", "start", "wait_state"]
