"""Fan-out: one connection per host per cycle, bounded concurrency, every host accounted for.

A *task* contributes shell sections for a Linux host (or a PowerShell script for a Windows
host) and parses its own sections; :func:`run_cycle` opens one SSH session per host, runs all
the tasks' sections as one script, and hands each task its sections. Logs need two round
trips (stat, then read): a task may instead give a ``work(session)`` function, run on the same
session. A host that fails gives a :class:`~collectors.ssh.CollectError`, never an exception
out of the cycle.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

from . import script
from .hostkeys import KnownHosts
from .ssh import CollectError, Session, Target, Timeouts
from .windows import powershell_command


class Task(Protocol):
    name: str

    def sections(self, target: Target) -> list[tuple[str, str]]: ...

    def parse(self, target: Target, sections: dict[str, script.Section]) -> Any: ...


@dataclass
class HostResult:
    target: Target
    values: dict[str, Any] = field(default_factory=dict)   # task name → parsed value
    error: CollectError | None = None


def _linux(session: Session, target: Target, tasks: list[Task]) -> dict[str, Any]:
    sections: list[tuple[str, str]] = []
    for t in tasks:
        if hasattr(t, "sections"):
            sections += t.sections(target)
    values: dict[str, Any] = {}
    if sections:
        text, nonce = script.build(sections)
        res = session.run(text)
        if res.truncated:
            raise CollectError("output", f"the host's output passed {session.max_output} bytes: not parsed")
        parsed = script.parse(res.stdout, nonce)
        if not parsed:
            err = (res.stderr or res.stdout)[-300:].decode("utf-8", "replace")
            raise CollectError("command", f"the collection script did not run (status {res.rc}): {err}")
        for t in tasks:
            if hasattr(t, "sections"):
                values[t.name] = t.parse(target, parsed)
    for t in tasks:
        if hasattr(t, "work"):
            values[t.name] = t.work(session, target)
    return values


def _windows(session: Session, target: Target, tasks: list[Task]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for t in tasks:
        ps = getattr(t, "powershell", None)
        if ps is None:
            continue
        res = session.run(powershell_command(ps(target)))
        if res.truncated:
            raise CollectError("output", f"the host's output passed {session.max_output} bytes: not parsed")
        values[t.name] = t.parse_windows(target, res.rc, res.stdout.decode("utf-8", "replace"))
    return values


class _WinRMSession:
    """The piece of a session the Windows runner uses, over WinRM (certificate authentication:
    the credential's key file is the client key, ``<key file>.crt`` its certificate)."""

    def __init__(self, target: Target, timeouts: Timeouts, max_output: int):
        from .windows import WinRMRunner
        if not target.key_file:
            raise CollectError("auth", "WinRM needs a credential with key_file (client key; certificate beside it)")
        self.runner = WinRMRunner(target.ip, target.key_file + ".crt", target.key_file, timeout=timeouts.command)
        self.max_output = max_output

    def run_ps(self, script_text: str):
        from .ssh import Result
        try:
            rc, out, err = self.runner.run_ps(script_text)
        except Exception as exc:  # pywinrm raises requests/transport errors of many kinds: keep the reason
            raise CollectError("unreachable", f"WinRM: {type(exc).__name__}: {exc}") from exc
        data = out.encode()
        return Result(rc, data[: self.max_output], err.encode()[: self.max_output], len(data) > self.max_output)


def _windows_winrm(session: _WinRMSession, target: Target, tasks: list[Task]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for t in tasks:
        ps = getattr(t, "powershell", None)
        if ps is None:
            continue
        res = session.run_ps(ps(target))
        if res.truncated:
            raise CollectError("output", f"the host's output passed {session.max_output} bytes: not parsed")
        values[t.name] = t.parse_windows(target, res.rc, res.stdout.decode("utf-8", "replace"))
    return values


def collect_host(target: Target, tasks: list[Task], known: KnownHosts, timeouts: Timeouts,
                 max_output: int, winrm=_WinRMSession) -> HostResult:
    result = HostResult(target)
    try:
        if target.transport == "winrm":
            result.values = _windows_winrm(winrm(target, timeouts, max_output), target, tasks)
            return result
        with Session(target, known, timeouts, max_output) as session:
            runner = _windows if target.os == "windows" else _linux
            result.values = runner(session, target, tasks)
    except CollectError as exc:
        result.error = exc
    except (ValueError, KeyError, TypeError, UnicodeError) as exc:  # garbage the parsers could not take
        result.error = CollectError("output", f"unreadable output: {type(exc).__name__}: {exc}")
    return result


def run_cycle(targets: list[Target], tasks: list[Task], known: KnownHosts, *, workers: int = 32,
              timeouts: Timeouts = Timeouts(), max_output: int = 4 * 1024 * 1024,
              progress: Callable[[HostResult], None] | None = None) -> list[HostResult]:
    """Collect every target (at most ``workers`` at once); results in the targets' order."""
    def one(t: Target) -> HostResult:
        wanted = [task for task in tasks if task.name in t.collect or task.name == "always"]
        r = collect_host(t, wanted, known, timeouts, max_output)
        if progress:
            progress(r)
        return r

    if not targets:
        return []
    with ThreadPoolExecutor(max(1, min(workers, len(targets))), thread_name_prefix="collect") as pool:
        return list(pool.map(one, targets))
