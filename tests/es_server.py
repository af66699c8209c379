"""noida-db (the Elasticsearch-compatible test server) for tests: a free port, its own data dir.

Use the ``es_server`` fixture (module scope: one server per test module) or ``EsServer``
directly. The binary is started itself (not the Python wrapper) so ``kill()`` SIGKILLs the
server process, and ``start()`` brings it back on the same port with the same data.

    from tests.es_server import es_server  # noqa: F401  (a pytest fixture)
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from importlib.resources import files
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class EsServer:
    def __init__(self, data_dir: Path, port: int | None = None):
        self.data_dir = Path(data_dir)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.log = self.data_dir.parent / f"noida-{self.port}.log"

    @staticmethod
    def binary() -> str:
        path = files("noida_db").joinpath("noida-db")
        os.chmod(str(path), 0o755)
        return str(path)

    def start(self, timeout: float = 20) -> EsServer:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        argv = [self.binary(), "start", "--data-dir", str(self.data_dir), "--only", "elasticsearch",
                "--elasticsearch-port", str(self.port)]
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"noida-db exited ({self.proc.returncode}): {self.log.read_text()[-2000:]}")
            if self.up():
                return self
            time.sleep(0.1)
        raise RuntimeError(f"noida-db did not answer on {self.url} in {timeout} s")

    def up(self) -> bool:
        try:
            with urllib.request.urlopen(self.url, timeout=1) as resp:
                return resp.status == 200
        except OSError:
            return False

    def kill(self) -> None:
        """SIGKILL, as a crash: no clean shutdown."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def restart(self) -> EsServer:
        self.kill()
        return self.start()


@pytest.fixture(scope="module")
def es_server(tmp_path_factory):
    server = EsServer(tmp_path_factory.mktemp("noida") / "data").start()
    yield server
    server.stop()
