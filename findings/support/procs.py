"""Whether a process still runs: the one answer for the store's runs, the drill runner and the range.

A pid alone is not an identity: after a reboot or enough forks, the pid of a dead runner belongs to
another process. Whoever records a pid also records the process's start time (:func:`start_time`)
and asks :func:`pid_alive` with both; a process with that pid but another start time is not the one.
"""

from __future__ import annotations

import contextlib
import os


def start_time(pid: int) -> int | None:
    """When ``pid`` started (clock ticks after boot, field 22 of ``/proc/<pid>/stat``); None when no
    such process runs (gone, or a zombie: killed and not yet reaped by its parent)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()   # the command name may hold spaces and ')'
    except (OSError, IndexError):
        return None
    if len(fields) < 20 or fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


def pid_alive(pid: int | None, started: int | None = None, *, reap: bool = False) -> bool:
    """Whether process ``pid`` runs, and, given the start time recorded with the pid, is still the
    same process. ``reap``: first collect ``pid``'s exit if it is our own child (only where nothing
    else waits for it: a subprocess.Popen's wait() would then read a wrong exit status)."""
    if not pid:
        return False
    if reap:
        with contextlib.suppress(ChildProcessError):   # not our child: its own parent reaps it
            os.waitpid(pid, os.WNOHANG)
    now = start_time(pid)
    return now is not None and (started is None or now == started)
