"""Running one job for the scheduler: a lock per job, a child process, a timeout, a clean stop.

Each job runs in its own process (``python -m citysec.scheduler.child``), in its own process group.
A Python thread cannot be killed, so this is how a job that hangs (an nmap that never returns, an
SSH read that blocks) is stopped: at its timeout the scheduler sends SIGTERM to the job's process
group (the job and every program it started), then SIGKILL after a few seconds, and records the
run as ``timeout``. The child asks the kernel to kill it if the scheduler dies (PR_SET_PDEATHSIG),
so a ``kill -9`` of the scheduler leaves no orphan writing to the store.

The lock is an ``flock`` on ``<store folder>/locks/<sensor>.<job>.lock``: the same job of the same
sensor never runs twice at once, also across processes; the kernel drops it when its holder dies.
"""

from __future__ import annotations

import fcntl
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from findings import Store

log = logging.getLogger("citysec.scheduler")
KILL_AFTER = 5.0  # seconds between SIGTERM and SIGKILL of a job's process group


class JobLock:
    """A non-blocking exclusive file lock. ``acquire()`` → False when another holder has it."""

    def __init__(self, path: str):
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> bool:
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


@dataclass
class StopControl:
    """Shared by the scheduler and its running jobs: set ``deadline`` (monotonic) on shutdown."""

    event: threading.Event = field(default_factory=threading.Event)
    deadline: float | None = None

    def begin(self, grace: float) -> None:
        now = time.monotonic()
        self.deadline = now + grace if self.deadline is None else min(self.deadline, now + grace)
        self.event.set()

    def expired(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline


@dataclass(frozen=True)
class ChildSpec:
    """How to start a job's process: the same config, sensor, job modules and log target."""

    config_path: str | None
    sensor: str | None
    job_modules: tuple[str, ...] = ()
    log_file: str | None = None
    log_level: str = "info"

    def argv(self, job: str) -> list[str]:
        argv = [sys.executable, "-m", "citysec.scheduler.child", "--job", job, "--parent", str(os.getpid()),
                "--log-level", self.log_level]
        for flag, value in (("--config", self.config_path), ("--sensor", self.sensor),
                            ("--log-file", self.log_file)):
            if value:
                argv += [flag, value]
        for module in self.job_modules:
            argv += ["--jobs-module", module]
        return argv


def _kill_group(proc: subprocess.Popen) -> None:
    for sig, wait in ((signal.SIGTERM, KILL_AFTER), (signal.SIGKILL, 30.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _wait(proc: subprocess.Popen, timeout: float, stop: StopControl) -> str | None:
    """Wait for the child. Returns None when it ended, else 'timeout' or 'interrupted'."""
    end = time.monotonic() + timeout
    while True:
        try:
            proc.wait(0.2)
            return None
        except subprocess.TimeoutExpired:
            pass
        if stop.expired():
            return "interrupted"
        if time.monotonic() >= end:
            return "timeout"


def settle(store: Store, job: str, pid: int, outcome: str, error: str, sensor: str | None) -> list[str]:
    """Record ``outcome`` for the child's runs still 'running' (one, normally). When the child died
    before it started its run, record a run for it so the history shows what happened."""
    rows = store.query("SELECT id, outcome FROM runs WHERE pid=? AND job=?", (pid, job))
    ids = [r["id"] for r in rows if r["outcome"] == "running"]
    if not rows:
        ids = [store.start_run(job, sensor=sensor)]
    for rid in ids:
        store.finish_run(rid, outcome, error=error)
    return ids


def run_child(store: Store, job: str, spec: ChildSpec, timeout: float, stop: StopControl,
              on_start: Callable[[int], None] | None = None) -> str:
    """Run ``job`` in a child process; returns its outcome (ok, failed, timeout, interrupted)."""
    proc = subprocess.Popen(spec.argv(job), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            start_new_session=True, close_fds=True)
    if on_start:
        on_start(proc.pid)
    why = _wait(proc, timeout, stop)
    if why is not None:
        _kill_group(proc)
        error = (f"no result within its timeout of {timeout:g} s: stopped" if why == "timeout"
                 else "citysec stopped (SIGTERM/SIGINT) and the job did not finish within the grace period")
        settle(store, job, proc.pid, why, error, spec.sensor)
        log.warning("job %s: %s", job, why, extra={"citysec": {"job": job, "outcome": why}})
        return why
    rc = proc.returncode
    if rc != 0:  # a job that raised has recorded 'failed' itself; a crash left 'running'
        settle(store, job, proc.pid, "failed", f"the job's process ended with {_rc_text(rc)}", spec.sensor)
    rows = store.query("SELECT outcome FROM runs WHERE pid=? AND job=? ORDER BY started DESC LIMIT 1",
                       (proc.pid, job))
    return rows[0]["outcome"] if rows else ("ok" if rc == 0 else "failed")


def process_gone(pid: int | None, started: datetime) -> bool:
    """True when the process that started a run at ``started`` no longer runs: no such pid, a zombie
    nobody reaped (a container's init may not), or a newer process that reused the pid."""
    if not pid:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            fields = fh.read().rsplit(") ", 1)[1].split()
        with open("/proc/stat", encoding="ascii") as fh:
            btime = next(int(line.split()[1]) for line in fh if line.startswith("btime "))
    except (FileNotFoundError, ProcessLookupError, IndexError, StopIteration):
        return True
    if fields[0] in ("Z", "X"):
        return True
    began = btime + int(fields[19]) / os.sysconf("SC_CLK_TCK")
    return began > started.timestamp() + 2.0


def _rc_text(rc: int) -> str:
    return f"signal {signal.Signals(-rc).name}" if rc < 0 else f"exit code {rc}"
