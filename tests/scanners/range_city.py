"""What the scanners' range tests share: a range and a city of their own per module, and the
installed command run against that city."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from tests.range_support import build_range

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "fixtures", "scanners")
CITSEC = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                      ".venv", "bin", "citysec")


def module_range(tmp_path_factory, spec: str, name: str):
    """The range ``spec`` (a fixture file) up as ``name``: use in a module fixture with ``yield from``."""
    with build_range(os.path.join(FIXTURES, spec), name, tmp_path_factory.mktemp(f"{name}-range")) as r:
        yield r


def module_city(tmp_path_factory, city: str, name: str, db: str) -> str:
    """The city ``city`` (a fixture file) in a folder of its own, its store there instead of ``db``."""
    d: Path = tmp_path_factory.mktemp(f"{name}-city")
    with open(os.path.join(FIXTURES, city), encoding="utf-8") as fh:
        text = fh.read().replace(f"path: {db}", f"path: {d}/citysec.db")
    path = d / "city.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def cli(config: str, *args: str, env: dict | None = None, timeout: float = 900) -> subprocess.CompletedProcess:
    """``citysec --config CONFIG ARGS…`` as a person runs it (no terminal, CI=1)."""
    return subprocess.run([CITSEC, "--config", config, *args], check=False, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "CI": "1", **(env or {})}, stdin=subprocess.DEVNULL)


def capture(rng, action, bpf: str = "ip"):
    """(what ``action()`` returned, the pcap bytes of the packets matching ``bpf`` on every link of
    the range's core router while it ran): what the scope tests read to prove nothing was sent."""
    cap = subprocess.Popen(["ip", "netns", "exec", rng.core_netns, "tcpdump", "-i", "any", "-n", "-U",
                            "--immediate-mode", "-w", "-", bpf], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           stdin=subprocess.DEVNULL)
    head = b""
    while b"listening on any" not in head:   # the capture is live before the action starts
        line = cap.stderr.readline()
        assert line, f"tcpdump did not start: {head!r}"
        head += line
    result = action()
    time.sleep(0.5)
    cap.send_signal(signal.SIGINT)
    pcap, _ = cap.communicate(timeout=10)
    return result, pcap
