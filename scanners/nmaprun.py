"""Run nmap with an argument list (inside the sensor's namespace when it has one) and read its
XML as it streams, so a kill, a crash or a timeout still leaves the hosts that finished.

python-nmap's ``PortScanner.scan`` builds its own argv and cannot be prefixed with
``ip netns exec``; nmap is therefore started here directly, stdin closed (a keypress would
splice progress tags into the XML) and ``--noninteractive``.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass

from findings.errors import MissingTool
from findings.support.netns import netns_argv

from .nmapxml import NmapResult, NmapXmlReader
from .plan import port_ranges


@dataclass(frozen=True)
class NmapPlan:
    targets: tuple[str, ...]
    exclude: tuple[str, ...] = ()
    tcp: tuple[int, ...] = ()
    udp: tuple[int, ...] = ()
    scripts: tuple[str, ...] = ()
    host_timeout_seconds: int = 300
    version_intensity: int = 7
    privileged: bool = True                   # SYN (and UDP) scan; else a connect scan, TCP only
    timing: str = "-T4"
    extra: tuple[str, ...] = ()               # e.g. -Pn when the hosts are known to be up

    def argv(self, nmap: str = "nmap") -> list[str]:
        ports = [f"T:{port_ranges(self.tcp)}"] if self.tcp else []
        udp = self.privileged and self.udp
        if udp:
            ports.append(f"U:{port_ranges(self.udp)}")
        argv = [nmap, "-n", "--noninteractive", "-oX", "-", self.timing, "-sV",
                "--version-intensity", str(self.version_intensity), "-sS" if self.privileged else "-sT"]
        if udp:
            argv.append("-sU")
        argv += ["-p", ",".join(ports), "--host-timeout", f"{self.host_timeout_seconds}s"]
        if self.scripts:
            argv += ["--script", ",".join(self.scripts)]
        if self.exclude:
            argv += ["--exclude", exclude_list(self.exclude)]
        return argv + list(self.extra) + ["--", *self.targets]


def exclude_list(items: tuple[str, ...]) -> str:
    """nmap's --exclude, each address once: a duplicated entry ("a.b.c.d,a.b.c.d/32") makes
    nmap allocate memory without bound until the OOM killer ends it (seen with nmap 7.93)."""
    nets = ipaddress.collapse_addresses(ipaddress.ip_network(x, strict=False) for x in items)
    return ",".join(str(n.network_address) if n.num_addresses == 1 else str(n) for n in nets)


def nmap_path() -> str:
    path = shutil.which("nmap")
    if path is None:
        raise MissingTool("nmap is not installed (Debian: apt-get install nmap; scripts/setup does it)")
    return path


def is_root() -> bool:
    return os.geteuid() == 0


@dataclass
class NmapRun:
    result: NmapResult
    returncode: int | None
    stderr: str
    argv: list[str]

    @property
    def partial(self) -> bool:
        return self.returncode != 0 or not self.result.finished

    @property
    def why_partial(self) -> str | None:
        if not self.partial:
            return None
        if self.returncode is not None and self.returncode < 0:
            return f"nmap was killed (signal {-self.returncode}); its XML ends early"
        first = next((ln for ln in self.stderr.splitlines() if ln.strip()), "")
        return self.result.error or first or f"nmap exited with status {self.returncode}"


def run_nmap(plan: NmapPlan, *, netns: str | None = None, on_host: Callable[[int], None] | None = None,
             on_start: Callable[[subprocess.Popen], None] | None = None) -> NmapRun:
    """Run one nmap. ``on_host(n)`` is called as hosts finish; ``on_start(proc)`` sees the process."""
    argv = netns_argv(netns, plan.argv(nmap_path()))
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            close_fds=True)
    if on_start:
        on_start(proc)
    err: list[bytes] = []
    t = threading.Thread(target=lambda: err.append(proc.stderr.read()), daemon=True)
    t.start()
    reader, seen = NmapXmlReader(), 0
    assert proc.stdout is not None
    for chunk in iter(lambda: proc.stdout.read1(65536), b""):
        reader.feed(chunk)
        if on_host and reader.hosts_done != seen:
            seen = reader.hosts_done
            on_host(seen)
    rc = proc.wait()
    t.join()
    return NmapRun(reader.close(), rc, b"".join(err).decode("utf-8", "replace"), argv)
