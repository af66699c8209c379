"""One process-liveness answer (findings.support.procs): running, gone, zombie, and a pid that
another process took (its start time differs from the one recorded with the pid)."""

from __future__ import annotations

import os
import subprocess
import sys

from findings import Store
from findings.support.procs import pid_alive, start_time


def sleeper() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])


def test_a_running_process_with_its_start_time_is_alive():
    p = sleeper()
    try:
        started = start_time(p.pid)
        assert started is not None and started >= start_time(os.getpid())
        assert pid_alive(p.pid) and pid_alive(p.pid, started)
        assert not pid_alive(p.pid, started - 1), "the same pid with another start time is another process"
    finally:
        p.kill()
        p.wait()
    assert not pid_alive(p.pid) and start_time(p.pid) is None


def test_a_zombie_is_gone_and_reap_collects_our_own():
    p = sleeper()
    p.kill()
    os.waitid(os.P_PID, p.pid, os.WEXITED | os.WNOWAIT)      # dead, not reaped: a zombie
    with open(f"/proc/{p.pid}/stat") as fh:
        assert fh.read().rsplit(")", 1)[1].split()[0] == "Z"
    assert not pid_alive(p.pid)
    assert not pid_alive(p.pid, reap=True)
    assert not os.path.exists(f"/proc/{p.pid}")               # reaped
    p.returncode = -9


def test_nothing_is_not_a_process():
    assert not pid_alive(None) and not pid_alive(0)


def test_a_run_whose_pid_another_process_took_is_interrupted(tmp_path):
    store = Store(tmp_path / "s.db")
    mine = store.start_run("scan")
    taken = store.start_run("collect")
    with store.write() as c:       # as after a reboot: the recorded pid now belongs to another process
        c.execute("UPDATE runs SET pid_start=pid_start-1 WHERE id=?", (taken,))
    assert store.mark_interrupted() == [taken]
    assert {r["id"]: r["outcome"] for r in store.runs()} == {mine: "running", taken: "interrupted"}
