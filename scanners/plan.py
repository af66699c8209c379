"""Pure planning: is an agency in its scan window, which ports to scan, which NSE scripts may run."""

from __future__ import annotations

import os
import re
from datetime import datetime, timedelta

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


def window_left(policy: ScanPolicy, agency: str, now: datetime) -> float | None:
    """Seconds until this agency's current scan window closes or a blackout starts (None: no
    limit). Same reading of the times as :func:`blocked`."""
    left: list[float] = []
    for b in policy.blackouts:
        moment = now if b.start.tzinfo else now.replace(tzinfo=None)
        if (not b.agencies or agency in b.agencies) and b.start > moment:
            left.append((b.start - moment).total_seconds())
    base = now.replace(tzinfo=None)
    day, t, ends = DAYS[now.weekday()], base.time(), []
    for w in (w for w in policy.windows if not w.agencies or agency in w.agencies):
        if day not in w.days:
            continue
        if w.start <= t <= w.end or (w.start > w.end and t <= w.end):
            ends.append(datetime.combine(base.date(), w.end))
        elif w.start > w.end and t >= w.start:
            ends.append(datetime.combine(base.date() + timedelta(days=1), w.end))
    if ends:
        left.append((max(ends) - base).total_seconds())
    return min(left) if left else None


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


COMMON_UDP = (53, 69, 123, 161, 500, 1900, 5353, 11211)   # DNS, TFTP, NTP, SNMP, IKE, SSDP, mDNS, memcached


def port_sets(policy: ScanPolicy, cat: ExposureCatalogue, override: str | None = None,
              services_file: str | None = None, seen: tuple[set[int], set[int]] = (set(), set())
              ) -> tuple[list[int], list[int]]:
    """(tcp, udp) ports: top-N TCP plus every port the catalogue or a rule names, plus ``seen``
    (every port ever found open on the scanned hosts, so a port the full sweep found is checked
    daily); UDP the common services (:data:`COMMON_UDP`) and the named ones.
    ``override`` ('22,80,161/udp' or '1-1024') replaces the whole set."""
    if override:
        return parse_ports(override)
    tcp = set(top_ports(policy.top_ports, "tcp", services_file)) | cat.ports("tcp") | set(seen[0])
    udp = set(COMMON_UDP) | cat.ports("udp") | set(seen[1])
    for rule in policy.rules:
        for name in rule.allow | rule.forbid:
            try:
                port, proto = parse_port(name)
            except ValueError:
                continue
            (tcp if proto == "tcp" else udp).add(port)
    return sorted(tcp), sorted(udp)


def parse_ports(text: str) -> tuple[list[int], list[int]]:
    """'22,80,8000-9000,161/udp,1-1024/tcp' → (tcp, udp). Raises ConfigError naming the bad item."""
    tcp: set[int] = set()
    udp: set[int] = set()
    for item in (x.strip() for x in str(text).split(",")):
        m = re.fullmatch(r"(\d{1,5})(?:-(\d{1,5}))?(?:/(tcp|udp))?", item.lower())
        if not m or not 0 < int(m.group(1)) <= int(m.group(2) or m.group(1)) < 65536:
            raise ConfigError(f"--ports: {item!r} is not PORT, LOW-HIGH, PORT/udp or LOW-HIGH/tcp "
                              f"(ports 1-65535, LOW ≤ HIGH, items separated by commas)")
        rng = range(int(m.group(1)), int(m.group(2) or m.group(1)) + 1)
        (udp if m.group(3) == "udp" else tcp).update(rng)
    return sorted(tcp), sorted(udp)


def port_ranges(ports) -> str:
    """Sorted ports as nmap's and masscan's ranges: [1, 2, 3, 80] → '1-3,80' (65,535 ports are
    one short argument, not one item each: that overflowed the kernel's argument limit)."""
    out: list[str] = []
    start = prev = None
    for p in sorted(set(ports)):
        if prev is not None and p == prev + 1:
            prev = p
            continue
        if start is not None:
            out.append(str(start) if start == prev else f"{start}-{prev}")
        start = prev = p
    if start is not None:
        out.append(str(start) if start == prev else f"{start}-{prev}")
    return ",".join(out)


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
