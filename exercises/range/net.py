"""Network namespaces and links of one range (iproute2, in batches).

Topology: one routed core namespace ``cs-<name>-core`` holds a bridge per network with the
network's gateway address and forwards between them; each host and sensor namespace has one
veth ``eth0`` whose peer sits on its network's bridge inside the core. Every link is created
inside the range's own namespaces (never in the machine's), no namespace has a link to the
machine's interfaces, and routes cover 198.18.0.0/15 only (no default route).
"""

from __future__ import annotations

import ipaddress
import os
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

from findings.errors import RuntimeFailure, UsageError
from findings.support.procs import pid_alive

from .spec import ROUTE_BLOCK, RangeSpec


def run(argv: list[str], input: str | None = None, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
    proc = subprocess.run(argv, input=input, capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise RuntimeFailure(f"{' '.join(argv[:6])}: exit {proc.returncode}: {proc.stderr.strip()[:500]}")
    return proc


def ip_batch(lines: list[str], netns: str | None = None) -> None:
    if lines:
        run(["ip", *(["-n", netns] if netns else []), "-batch", "-"], input="\n".join(lines) + "\n")


def prefix(name: str) -> str:
    return f"cs-{name}-"


def namespaces(name: str) -> list[str]:
    """The namespaces of this range that exist on the machine (also leftovers of a crash)."""
    try:
        entries = os.listdir("/run/netns")
    except FileNotFoundError:
        return []
    return sorted(e for e in entries if e.startswith(prefix(name)))


def pids_in(netns: str) -> list[int]:
    proc = run(["ip", "netns", "pids", netns], check=False)
    return [int(p) for p in proc.stdout.split() if p.isdigit()]


def addresses_in_use(skip_prefix: str) -> dict[str, str]:
    """Every IPv4 address configured on the machine and in namespaces not of this range."""
    used: dict[str, str] = {}
    for line in run(["ip", "-o", "-4", "addr", "show"]).stdout.splitlines():
        used[line.split()[3].split("/")[0]] = "the machine"
    try:
        others = [n for n in os.listdir("/run/netns") if not n.startswith(skip_prefix)]
    except FileNotFoundError:
        others = []
    for ns in others:
        proc = run(["ip", "-n", ns, "-o", "-4", "addr", "show"], check=False)
        for line in proc.stdout.splitlines():
            used[line.split()[3].split("/")[0]] = f"namespace {ns}"
    return used


def check_free(spec: RangeSpec) -> None:
    used = addresses_in_use(prefix(spec.name))
    ours = [h.ip for h in spec.hosts] + [s.ip for s in spec.sensors] + [n.gateway for _, n in spec.networks()]
    clash = [f"{ip} (used by {used[ip]})" for ip in ours if ip in used]
    if clash:
        raise UsageError(f"range {spec.name}: addresses already in use on this machine: {', '.join(clash[:10])}")


def endpoints(spec: RangeSpec) -> list[tuple[str, str, str]]:
    """(namespace, address, network cidr) of every host and sensor."""
    p = prefix(spec.name)
    out = [(p + s.name, s.ip, spec.network_of(s.ip).cidr) for s in spec.sensors]
    return out + [(p + h.name, h.ip, spec.network_of(h.ip).cidr) for h in spec.hosts]


def build(spec: RangeSpec) -> None:
    core = prefix(spec.name) + "core"
    eps = endpoints(spec)
    ip_batch([f"netns add {core}"] + [f"netns add {ns}" for ns, _, _ in eps])
    run(["ip", "netns", "exec", core, "sysctl", "-qw", "net.ipv4.ip_forward=1"])
    bridges = {n.cidr: f"br{i}" for i, (_, n) in enumerate(spec.networks())}
    lines = ["link set lo up"]
    for _, n in spec.networks():
        br, plen = bridges[n.cidr], n.network.prefixlen
        lines += [f"link add {br} type bridge", f"addr add {n.gateway}/{plen} dev {br}", f"link set {br} up"]
    for i, (ns, _, cidr) in enumerate(eps):
        lines += [f"link add v{i} type veth peer name eth0 netns {ns}",
                  f"link set v{i} master {bridges[cidr]}", f"link set v{i} up"]
    ip_batch(lines, core)
    gws = {n.cidr: n.gateway for _, n in spec.networks()}

    def setup(ep: tuple[str, str, str]) -> None:
        ns, addr, cidr = ep
        plen = ipaddress.ip_network(cidr).prefixlen
        ip_batch(["link set lo up", f"addr add {addr}/{plen} dev eth0", "link set eth0 up",
                  f"route add {ROUTE_BLOCK} via {gws[cidr]}"], ns)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(setup, eps))


def kill_all(nss: list[str], grace: float = 2.0) -> None:
    """Stop every process inside these namespaces (TERM, then KILL)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        pids = [p for ns in nss for p in pids_in(ns) if pid_alive(p, reap=True)]
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                continue
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and any(pid_alive(p, reap=True) for p in pids):
            time.sleep(0.05)
    left = [p for ns in nss for p in pids_in(ns) if pid_alive(p, reap=True)]
    if left:
        raise RuntimeFailure(f"processes still alive in the range's namespaces: {left[:10]}")


def destroy(name: str) -> list[str]:
    """Remove every namespace of range ``name`` and what runs in it; returns what was removed."""
    nss = namespaces(name)
    kill_all(nss)
    ip_batch([f"netns del {ns}" for ns in nss])
    return nss


GUARD = "198.18.0.0/15"


def guard_root() -> None:
    """A blackhole route for the range block in the machine's own namespace, while any range is
    up: a probe started outside a range namespace by mistake fails at once ("network is
    unreachable") instead of leaving through the machine's default route."""
    run(["ip", "route", "replace", "blackhole", GUARD])


def unguard_root() -> None:
    """Remove the guard once no range namespace (cs-*) is left on the machine."""
    try:
        left = [e for e in os.listdir("/run/netns") if e.startswith("cs-")]
    except FileNotFoundError:
        left = []
    if not left:
        run(["ip", "route", "del", "blackhole", GUARD], check=False)
