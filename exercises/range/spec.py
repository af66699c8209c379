"""The range description: strict YAML (config/yamlpos) into frozen dataclasses.

Every problem names the file, the YAML path and the line. Addresses must lie in
198.18.0.0/15; each host sits in one of its agency's networks; names and addresses are unique.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any

from findings.support.yamlpos import Positions, dotted, load_one, where
from findings.errors import ConfigError

RANGE_BLOCK = ipaddress.ip_network("198.18.0.0/15")
ROUTE_BLOCK = "198.18.0.0/15"
NAME_RE = re.compile(r"^[a-z][a-z0-9]{0,5}$")
HOST_RE = re.compile(r"^[a-z][a-z0-9-]{0,40}$")
ROLES = ("workstation", "server", "network-device", "attacker")
# service id -> default TCP/UDP port (the ids of the city's exposure policy).
SERVICES = {
    "ssh": 22, "telnet": 23, "ftp": 21, "http": 80, "http-admin": 8080, "https": 443,
    "smb": 445, "rdp": 3389, "vnc": 5900, "mysql": 3306, "postgresql": 5432, "redis": 6379,
    "snmp": 161, "elasticsearch": 9200, "docker-api": 2375,
}
SERVICE_KEYS = {"name", "port", "community"}
HOST_KEYS = {"name", "ip", "role", "registered", "services", "antivirus", "backup", "logs"}
AV_KEYS = {"installed", "daemon", "signature_age_hours", "last_update_hours"}
BACKUP_KEYS = {"method", "snapshots_hours_ago", "files", "failing", "log"}
LOG_KEYS = {"logins", "failures", "clamav"}


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    port: int
    community: str | None = None  # snmp only


@dataclass(frozen=True)
class AntivirusSpec:
    installed: bool = True
    daemon: bool = True
    signature_age_hours: float = 6.0


@dataclass(frozen=True)
class BackupSpec:
    method: str  # restic | files
    snapshots_hours_ago: tuple[float, ...] = ()
    files: tuple[tuple[float, int], ...] = ()  # (hours ago, size in bytes)
    failing: bool = False


@dataclass(frozen=True)
class FailureSpec:
    source: str  # the attacker's address as the log shows it
    user: str
    count: int
    hours_ago: float = 1.0


@dataclass(frozen=True)
class LogSpec:
    logins: int = 3  # accepted publickey logins in the history
    failures: tuple[FailureSpec, ...] = ()


@dataclass(frozen=True)
class HostSpec:
    name: str
    ip: str
    agency: str
    role: str = "workstation"
    registered: bool = True
    services: tuple[ServiceSpec, ...] = ()
    antivirus: AntivirusSpec | None = None
    backup: BackupSpec | None = None
    logs: LogSpec = field(default_factory=LogSpec)

    @property
    def service_names(self) -> list[str]:
        return ["ssh"] + [s.name for s in self.services]


@dataclass(frozen=True)
class NetworkSpec:
    cidr: str
    gateway: str
    zone: str = "lan"

    @property
    def network(self) -> ipaddress.IPv4Network:
        return ipaddress.ip_network(self.cidr)


@dataclass(frozen=True)
class AgencySpec:
    id: str
    networks: tuple[NetworkSpec, ...]


@dataclass(frozen=True)
class SensorSpec:
    name: str
    ip: str


@dataclass(frozen=True)
class RangeSpec:
    name: str
    agencies: tuple[AgencySpec, ...]
    hosts: tuple[HostSpec, ...]
    sensors: tuple[SensorSpec, ...]
    source: str = "<dict>"

    def renamed(self, name: str) -> "RangeSpec":
        if not NAME_RE.match(name):
            raise ConfigError(f"range name {name!r}: use 1-6 lower-case letters or digits, starting with a letter")
        return RangeSpec(name, self.agencies, self.hosts, self.sensors, self.source)

    def networks(self) -> list[tuple[str, NetworkSpec]]:
        return [(a.id, n) for a in self.agencies for n in a.networks]

    def network_of(self, ip: str) -> NetworkSpec | None:
        addr = ipaddress.ip_address(ip)
        return next((n for _, n in self.networks() if addr in n.network), None)


class _Reader:
    """Collects problems, each with file, line and YAML path."""

    def __init__(self, source: str, positions: Positions):
        self.source, self.positions, self.problems = source, positions, []

    def fail(self, loc: tuple, msg: str) -> None:
        if self.positions:
            f, line = where(self.positions, loc, self.source)
            self.problems.append(f"{f}: line {line}: {dotted(loc)}: {msg}")
        else:
            self.problems.append(f"{self.source}: {dotted(loc)}: {msg}")

    def mapping(self, value: Any, loc: tuple, allowed: set[str], required: tuple = ()) -> dict:
        if not isinstance(value, dict):
            self.fail(loc, "must be a mapping")
            return {}
        for key in value:
            if key not in allowed:
                self.fail(loc + (key,), f"unknown key (allowed: {', '.join(sorted(allowed))})")
        for key in required:
            if key not in value:
                self.fail(loc, f"missing key {key!r}")
        return value

    def typed(self, value: Any, loc: tuple, kind: type | tuple, what: str) -> Any:
        if isinstance(value, bool) and kind is not bool and bool not in (kind if isinstance(kind, tuple) else (kind,)):
            self.fail(loc, f"must be {what}")
            return None
        if not isinstance(value, kind):
            self.fail(loc, f"must be {what}")
            return None
        return value

    def address(self, value: Any, loc: tuple) -> str | None:
        try:
            addr = ipaddress.IPv4Address(str(value))
        except ValueError:
            self.fail(loc, f"{value!r} is not an IPv4 address")
            return None
        if addr not in RANGE_BLOCK:
            self.fail(loc, f"{addr} is outside 198.18.0.0/15 (the only block a range may use)")
            return None
        return str(addr)


def _services(r: _Reader, raw: Any, loc: tuple) -> tuple[ServiceSpec, ...]:
    out = []
    for i, item in enumerate(raw or []):
        item = {"name": item} if isinstance(item, str) else item
        m = r.mapping(item, loc + (i,), SERVICE_KEYS, ("name",))
        name = m.get("name")
        if name is None:
            continue
        if name not in SERVICES or name == "ssh":
            r.fail(loc + (i, "name"), f"unknown service {name!r} (known: {', '.join(s for s in SERVICES if s != 'ssh')})")
            continue
        port = r.typed(m.get("port", SERVICES[name]), loc + (i, "port"), int, "a port number")
        community = m.get("community")
        if community is not None and name != "snmp":
            r.fail(loc + (i, "community"), "only snmp has a community")
        out.append(ServiceSpec(name, port or SERVICES[name], community if name == "snmp" else None))
        if name == "snmp" and community is None:
            out[-1] = ServiceSpec(name, port or 161, "public")
    return tuple(out)


def _antivirus(r: _Reader, raw: Any, loc: tuple) -> AntivirusSpec | None:
    if raw is None or raw is False or raw == "none":
        return None
    m = r.mapping(raw, loc, AV_KEYS)
    age = m.get("signature_age_hours", 6.0)
    if r.typed(age, loc + ("signature_age_hours",), (int, float), "a number of hours") is None:
        age = 6.0
    installed = m.get("installed", True)
    daemon = m.get("daemon", installed)
    for key, val in (("installed", installed), ("daemon", daemon)):
        r.typed(val, loc + (key,), bool, "true or false")
    return AntivirusSpec(bool(installed), bool(daemon) and bool(installed), float(age))


def _backup(r: _Reader, raw: Any, loc: tuple) -> BackupSpec | None:
    if raw is None or raw == "none":
        return None
    m = r.mapping(raw, loc, BACKUP_KEYS, ("method",))
    method = m.get("method")
    if method not in ("restic", "files"):
        r.fail(loc + ("method",), "must be restic or files")
        return None
    snaps = m.get("snapshots_hours_ago", [])
    if not isinstance(snaps, list) or not all(isinstance(s, (int, float)) and not isinstance(s, bool) for s in snaps):
        r.fail(loc + ("snapshots_hours_ago",), "must be a list of numbers of hours")
        snaps = []
    files = []
    for i, f in enumerate(m.get("files", []) or []):
        fm = r.mapping(f, loc + ("files", i), {"hours_ago", "size"}, ("hours_ago",))
        files.append((float(fm.get("hours_ago", 0)), int(fm.get("size", 4096))))
    failing = m.get("failing", False)
    r.typed(failing, loc + ("failing",), bool, "true or false")
    return BackupSpec(method, tuple(float(s) for s in snaps), tuple(files), bool(failing))


def _logs(r: _Reader, raw: Any, loc: tuple) -> LogSpec:
    if raw is None:
        return LogSpec()
    m = r.mapping(raw, loc, LOG_KEYS)
    fails = []
    for i, f in enumerate(m.get("failures", []) or []):
        fm = r.mapping(f, loc + ("failures", i), {"source", "user", "count", "hours_ago"}, ("source", "count"))
        src = r.address(fm.get("source"), loc + ("failures", i, "source")) if "source" in fm else None
        count = r.typed(fm.get("count", 0), loc + ("failures", i, "count"), int, "a whole number")
        if src and count:
            fails.append(FailureSpec(src, str(fm.get("user", "admin")), count, float(fm.get("hours_ago", 1.0))))
    logins = r.typed(m.get("logins", 3), loc + ("logins",), int, "a whole number") or 0
    return LogSpec(logins, tuple(fails))


def _host(r: _Reader, raw: Any, loc: tuple, agency: AgencySpec) -> HostSpec | None:
    m = r.mapping(raw, loc, HOST_KEYS, ("name", "ip"))
    name, ip = m.get("name"), m.get("ip")
    if not isinstance(name, str) or not HOST_RE.match(name):
        r.fail(loc + ("name",), f"{name!r}: use lower-case letters, digits and '-', starting with a letter")
        return None
    ip = r.address(ip, loc + ("ip",)) if ip is not None else None
    if ip is None:
        return None
    addr = ipaddress.ip_address(ip)
    net = next((n for n in agency.networks if addr in n.network), None)
    if net is None:
        r.fail(loc + ("ip",), f"{ip} is in none of agency {agency.id}'s networks")
    elif ip == net.gateway or addr in (net.network.network_address, net.network.broadcast_address):
        r.fail(loc + ("ip",), f"{ip} is the network's gateway, network or broadcast address")
    role = m.get("role", "workstation")
    if role not in ROLES:
        r.fail(loc + ("role",), f"{role!r}: one of {', '.join(ROLES)}")
    registered = m.get("registered", True)
    r.typed(registered, loc + ("registered",), bool, "true or false")
    return HostSpec(name, ip, agency.id, role, bool(registered), _services(r, m.get("services"), loc + ("services",)),
                    _antivirus(r, m.get("antivirus"), loc + ("antivirus",)),
                    _backup(r, m.get("backup"), loc + ("backup",)), _logs(r, m.get("logs"), loc + ("logs",)))


def _network(r: _Reader, raw: Any, loc: tuple) -> NetworkSpec | None:
    raw = {"cidr": raw} if isinstance(raw, str) else raw
    m = r.mapping(raw, loc, {"cidr", "gateway", "zone"}, ("cidr",))
    try:
        net = ipaddress.IPv4Network(str(m.get("cidr")))
    except ValueError as exc:
        r.fail(loc + ("cidr",), f"not a network: {exc}")
        return None
    if not net.subnet_of(RANGE_BLOCK):
        r.fail(loc + ("cidr",), f"{net} is outside 198.18.0.0/15")
        return None
    if net.prefixlen > 29:
        r.fail(loc + ("cidr",), "use a /29 or larger network")
        return None
    gw = r.address(m.get("gateway", str(net.network_address + 1)), loc + ("gateway",))
    if gw and ipaddress.ip_address(gw) not in net:
        r.fail(loc + ("gateway",), f"{gw} is not inside {net}")
    return NetworkSpec(str(net), gw or str(net.network_address + 1), str(m.get("zone", "lan")))


def _check_unique(r: _Reader, spec_hosts: list[tuple[tuple, HostSpec]], nets: list[tuple[tuple, NetworkSpec]]) -> None:
    seen_names: dict[str, tuple] = {}
    seen_ips: dict[str, tuple] = {}
    for loc, h in spec_hosts:
        if h.name in seen_names or h.name in ("core", "soc"):
            r.fail(loc + ("name",), f"host name {h.name!r} is used twice (or reserved)")
        if h.ip in seen_ips:
            r.fail(loc + ("ip",), f"address {h.ip} is used twice (also at {dotted(seen_ips[h.ip])})")
        seen_names[h.name], seen_ips[h.ip] = loc, loc
    for i, (loc, n) in enumerate(nets):
        for loc2, n2 in nets[i + 1:]:
            if n.network.overlaps(n2.network):
                r.fail(loc2 + ("cidr",), f"{n2.cidr} overlaps {n.cidr} at {dotted(loc)}")


def parse_spec(data: Any, positions: Positions | None = None, source: str = "<dict>") -> RangeSpec:
    r = _Reader(source, positions or {})
    top = r.mapping(data, (), {"name", "agencies", "sensors"}, ("name", "agencies"))
    name = top.get("name")
    if not isinstance(name, str) or not NAME_RE.match(name):
        r.fail(("name",), f"{name!r}: use 1-6 lower-case letters or digits, starting with a letter")
    agencies, hosts, nets = [], [], []
    for ai, raw in enumerate(top.get("agencies") or []):
        loc = ("agencies", ai)
        am = r.mapping(raw, loc, {"id", "networks", "hosts"}, ("id", "networks"))
        parsed = [_network(r, n, loc + ("networks", ni)) for ni, n in enumerate(am.get("networks") or [])]
        networks = [n for n in parsed if n]
        nets += [(loc + ("networks", ni), n) for ni, n in enumerate(networks)]
        agency = AgencySpec(str(am.get("id")), tuple(networks))
        agencies.append(agency)
        for hi, hraw in enumerate(am.get("hosts") or []):
            if (h := _host(r, hraw, loc + ("hosts", hi), agency)):
                hosts.append((loc + ("hosts", hi), h))
    _check_unique(r, hosts, nets)
    sensors = []
    for si, raw in enumerate(top.get("sensors") or [{"name": "soc", "ip": None}]):
        sm = r.mapping(raw, ("sensors", si), {"name", "ip"}, ("name", "ip"))
        ip = r.address(sm.get("ip"), ("sensors", si, "ip")) if sm.get("ip") else None
        if ip and not any(ipaddress.ip_address(ip) in n.network for _, n in nets):
            r.fail(("sensors", si, "ip"), f"{ip} is in none of the range's networks")
        if ip and ip in {h.ip for _, h in hosts}:
            r.fail(("sensors", si, "ip"), f"{ip} is also a host's address")
        if ip:
            sensors.append(SensorSpec(str(sm.get("name")), ip))
    if not top.get("sensors"):
        r.fail(("sensors",), "give at least one sensor (the first is the city SOC, namespace cs-<name>-soc)")
    if r.problems:
        raise ConfigError(r.problems)
    return RangeSpec(name, tuple(agencies), tuple(h for _, h in hosts), tuple(sensors), source)


def load_spec(source: str | dict) -> RangeSpec:
    """A range description from a YAML file or an already-loaded mapping."""
    if isinstance(source, dict):
        return parse_spec(source)
    data, positions = load_one(str(source))
    return parse_spec(data, positions, str(source))
