"""Pure planning: is an agency in its scan window, which ports to scan, which NSE scripts may run."""

from __future__ import annotations

import os
import re
from datetime import datetime

from findings.errors import ConfigError

from .catalogue import ExposureCatalogue, parse_port
from .targets import ScanPolicy

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
NMAP_DATA = "/usr/share/nmap"
SAFE_SCRIPTS = ("http-title", "snmp-sysdescr")       # both in nmap's "safe" category
INTRUSIVE_SCRIPTS = ("http-enum",)                   # only for agencies with allow_intrusive


def blocked(policy: ScanPolicy, agency: str, now: datetime) -> str | None:
    """Why this agency may not be scanned now (a blackout, outside every window), or None."""
    for b in policy.blackouts:
        start, end = b.start, b.end
        moment = now if start.tzinfo else now.replace(tzinfo=None)
        if (not b.agencies or agency in b.agencies) and start <= moment < end:
            return f"blackout {start.isoformat()} – {end.isoformat()}" + (f" ({b.reason})" if b.reason else "")
    windows = [w for w in policy.windows if not w.agencies or agency in w.agencies]
    if not windows:
        return None
    day, t = DAYS[now.weekday()], now.time().replace(tzinfo=None)
    for w in windows:
        inside = w.start <= t <= w.end if w.start <= w.end else (t >= w.start or t <= w.end)
        if day in w.days and inside:
            return None
    return "outside every scan window"


def top_ports(n: int, transport: str = "tcp", services_file: str | None = None) -> list[int]:
    """nmap's N most frequent ports of a transport, from its nmap-services table."""
    if n <= 0:
        return []
    path = services_file or os.path.join(NMAP_DATA, "nmap-services")
    ranked: dict[int, float] = {}
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) < 3 or line.startswith("#"):
                continue
            port, _, proto = parts[1].partition("/")
            if proto == transport:
                ranked[int(port)] = max(ranked.get(int(port), 0.0), float(parts[2]))
    return sorted(sorted(ranked, key=lambda p: -ranked[p])[:n])


def port_sets(policy: ScanPolicy, cat: ExposureCatalogue, override: str | None = None,
              services_file: str | None = None) -> tuple[list[int], list[int]]:
    """(tcp, udp) ports: top-N TCP plus every port the catalogue or a rule names; UDP only the
    named ones. ``override`` ('22,80,161/udp' or '1-1024') replaces the whole set."""
    if override:
        return parse_ports(override)
    tcp = set(top_ports(policy.top_ports, "tcp", services_file)) | cat.ports("tcp")
    udp = cat.ports("udp")
    for rule in policy.rules:
        for name in rule.allow | rule.forbid:
            try:
                port, proto = parse_port(name)
            except ValueError:
                continue
            (tcp if proto == "tcp" else udp).add(port)
    return sorted(tcp), sorted(udp)


def parse_ports(text: str) -> tuple[list[int], list[int]]:
    tcp: set[int] = set()
    udp: set[int] = set()
    for item in filter(None, (x.strip() for x in text.split(","))):
        m = re.fullmatch(r"(\d+)(?:-(\d+))?(?:/(tcp|udp))?", item)
        if not m or not 0 < int(m.group(1)) <= int(m.group(2) or m.group(1)) < 65536:
            raise ConfigError(f"--ports: {item!r} is not PORT, LOW-HIGH or PORT/udp")
        rng = range(int(m.group(1)), int(m.group(2) or m.group(1)) + 1)
        (udp if m.group(3) == "udp" else tcp).update(rng)
    return sorted(tcp), sorted(udp)


def script_categories(names: tuple[str, ...], script_db: str | None = None) -> dict[str, set[str]]:
    path = script_db or os.path.join(NMAP_DATA, "scripts", "script.db")
    cats: dict[str, set[str]] = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            m = re.search(r'filename = "([^"]+)\.nse", categories = \{([^}]*)\}', line)
            if m and m.group(1) in names:
                cats[m.group(1)] = set(re.findall(r'"([^"]+)"', m.group(2)))
    return cats


def scripts_for(allow_intrusive: bool, script_db: str | None = None) -> tuple[str, ...]:
    """The NSE scripts for an agency. Every script outside nmap's "safe" category needs the
    agency's ``allow_intrusive``; a safe-listed script that is not safe is refused outright."""
    wanted = SAFE_SCRIPTS + (INTRUSIVE_SCRIPTS if allow_intrusive else ())
    cats = script_categories(wanted, script_db)
    for name in wanted:
        if name not in cats:
            raise ConfigError(f"nmap has no NSE script {name!r} (script.db)")
        unsafe = "safe" not in cats[name] or "intrusive" in cats[name]
        if unsafe and (name in SAFE_SCRIPTS or not allow_intrusive):
            raise ConfigError(f"NSE script {name!r} is not safe ({', '.join(sorted(cats[name]))})")
    return wanted
