"""Run probes from a sensor's network namespace (the range's sensor; unset on a real sensor).

Subprocesses go through ``ip netns exec``; sockets and scapy run in a thread that entered the
namespace with setns(2) (a network namespace is per thread), so the rest of the process —
the store, Elasticsearch — stays in the machine's own namespace.
"""

from __future__ import annotations

import ctypes
import os
import socket
import threading
from concurrent.futures import Future
from typing import Any, Callable, TypeVar

from findings.errors import RuntimeFailure

CLONE_NEWNET = 0x40000000
T = TypeVar("T")
_libc = ctypes.CDLL(None, use_errno=True)


def netns_argv(netns: str | None, argv: list[str]) -> list[str]:
    """The argument list that runs ``argv`` inside ``netns`` (unchanged when netns is None)."""
    return ["ip", "netns", "exec", netns, *argv] if netns else list(argv)


def _setns(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise RuntimeFailure(f"cannot enter network namespace {path}: {os.strerror(err)}")
    finally:
        os.close(fd)


def run_in_netns(netns: str | None, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call ``fn`` in a new thread that entered ``netns``; return its result or raise its error."""
    if not netns:
        return fn(*args, **kwargs)
    path = f"/run/netns/{netns}"
    if not os.path.exists(path):
        raise RuntimeFailure(f"network namespace {netns!r} does not exist (is the range up?)")
    fut: Future = Future()

    def target() -> None:
        try:
            _setns(path)  # this thread only; it ends right after
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # handed to the caller, not swallowed
            fut.set_exception(exc)

    t = threading.Thread(target=target, name=f"netns-{netns}", daemon=True)
    t.start()
    t.join()
    return fut.result()


def connect_in_netns(netns: str | None, host: str, port: int, timeout: float) -> socket.socket:
    """A TCP connection opened from inside ``netns`` (usable from any thread afterwards)."""
    return run_in_netns(netns, socket.create_connection, (host, port), timeout=timeout)
