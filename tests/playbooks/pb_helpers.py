"""Shared helpers of the playbook tests: a fake transport for unit tests of the engine only (the
integration tests use the range and the real SSH transport), a clock you can move, a library."""

from __future__ import annotations

import os
import socketserver
import threading
from datetime import UTC, datetime, timedelta

import pytest

from findings import Finding, Store
from playbooks import CaseEngine, Wiring, load_library, load_playbook

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "fixtures", "playbooks")


class FakeTransport:
    """Records argv per host; nft tables exist once created (enough to test probes)."""

    def __init__(self):
        self.calls: list[tuple[str, list[str]]] = []
        self.tables: set[tuple[str, str]] = set()

    def exec(self, host, argv, *, timeout=60):
        self.calls.append((host, list(argv)))
        if argv[:3] == ["nft", "list", "table"]:
            return (0, "", "") if (host, argv[4]) in self.tables else (1, "", "No such file or directory")
        if argv[0] == "nft":
            script = argv[1]
            if "citysec_isolate" in script:
                if script.rstrip().endswith("delete table inet citysec_isolate"):
                    self.tables.discard((host, "citysec_isolate"))
                else:
                    self.tables.add((host, "citysec_isolate"))
            return 0, "", ""
        return 0, f"ran {' '.join(argv)}\n", ""


class SmtpSink(socketserver.StreamRequestHandler):
    """A local SMTP server's handler that keeps every message's data (a city relay in tests)."""
    got: list[str] = []     # noqa: RUF012  (shared by the server's handler instances on purpose)

    def handle(self):
        w = lambda s: self.wfile.write(s.encode() + b"\r\n")
        w("220 citysec-test")
        data, in_data = [], False
        for raw in self.rfile:
            line = raw.decode().rstrip("\r\n")
            if in_data:
                if line == ".":
                    in_data = False
                    SmtpSink.got.append("\n".join(data))
                    w("250 ok")
                else:
                    data.append(line)
                continue
            cmd = line[:4].upper()
            if cmd == "DATA":
                in_data = True
                w("354 go")
            elif cmd == "QUIT":
                w("221 bye")
                return
            else:
                w("250 ok")


def serve_smtp() -> socketserver.ThreadingTCPServer:
    """A running local SMTP server (127.0.0.1, a free port); call ``shutdown()`` when done."""
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), SmtpSink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class Clock:
    def __init__(self, start=datetime(2026, 11, 30, 8, 0, tzinfo=UTC)):
        self.now = start

    def __call__(self):
        return self.now

    def advance(self, **kw):
        self.now += timedelta(**kw)


def alert(check="log.ssh_bruteforce", host="198.19.49.10", source="198.19.50.10", user="admin",
          when=datetime(2026, 11, 30, 7, 30, tzinfo=UTC), severity="high") -> Finding:
    return Finding(check=check, agency="pb-a", kind="alert", dataset="citysec.logs", severity=severity,
                   message=f"brute force on {host}", host_ip=host, source_ip=source, user_name=user,
                   timestamp=when)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def store(tmp_path, clock):
    return Store(tmp_path / "citysec.db", clock=clock)


@pytest.fixture
def library():
    lib = load_library()
    lp = load_playbook(os.path.join(FIXTURES, "unit", "contain-test.yaml"))
    lib[lp.playbook.id] = lp
    return lib


@pytest.fixture
def transport():
    return FakeTransport()


@pytest.fixture
def engine(store, library, transport, clock, tmp_path):
    return CaseEngine(store, library, Wiring(transport=transport, sensor_ips=("198.19.48.10",), privileged=(),
                                             evidence_dir=str(tmp_path / "evidence"),
                                             reports_dir=str(tmp_path / "reports")), clock=clock)
