"""The exposure catalogue (config/exposure.yaml) as typed, validated data.

Each service entry is a check ``exposure.<id>`` (name, severity, remediation vi+en, controls)
with a ``default`` verdict and a ``match`` block telling which open ports it describes.
Every problem names the file, the YAML path and the line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from findings.checks import Catalogue, Check, names_of
from findings.errors import ConfigError
from findings.support.yamlpos import problem

MATCH_KEYS = {"ports", "services", "products", "tunnel", "http_title", "http_paths", "snmp_community"}
ENTRY_KEYS = {"name", "severity", "default", "refines", "match", "controls", "remediation", "description"}
_PORT = re.compile(r"^(\d{1,5})/(tcp|udp)$")


def parse_port(text: str) -> tuple[int, str]:
    """'161/udp' → (161, 'udp'). Raises ValueError."""
    m = _PORT.match(str(text).strip().lower())
    if not m or not 0 < int(m.group(1)) < 65536:
        raise ValueError(f"{text!r} is not PORT/tcp or PORT/udp")
    return int(m.group(1)), m.group(2)


@dataclass(frozen=True)
class Match:
    ports: frozenset[tuple[int, str]] = frozenset()
    services: frozenset[str] = frozenset()
    products: re.Pattern | None = None        # regex on nmap's product string
    tunnel: str | None = None                 # "ssl" or "none"
    http_title: re.Pattern | None = None
    http_paths: tuple[str, ...] = ()
    snmp_community: str | None = None

    @property
    def needs_evidence(self) -> bool:
        """True when the entry needs more than the port (a title, a path, a community)."""
        return bool(self.http_title or self.http_paths or self.snmp_community)


@dataclass(frozen=True)
class ServiceEntry:
    id: str
    check: Check
    default: str                              # "forbid" or "allow"
    match: Match
    refines: str | None = None

    @property
    def severity(self) -> str:
        return self.check.severity


class ExposureCatalogue:
    """Service entries by id plus the other checks the scanners report (discovery.*, ...)."""

    def __init__(self, entries: Mapping[str, ServiceEntry], checks: Catalogue):
        self.entries = dict(entries)
        self.checks = checks

    def ancestors(self, sid: str) -> list[str]:
        out, cur = [], self.entries[sid].refines
        while cur and cur not in out:
            out.append(cur)
            cur = self.entries[cur].refines
        return out

    def depth(self, sid: str) -> int:
        return len(self.ancestors(sid))

    def check(self, cid: str) -> Check:
        if cid.startswith("exposure.") and cid[9:] in self.entries:
            return self.entries[cid[9:]].check
        return self.checks[cid]

    def names(self) -> dict[str, dict[str, str]]:
        """Check id → its name per language (vi, en), for the reports."""
        return {**self.checks.names(), **{e.check.id: dict(e.check.names) for e in self.entries.values()}}

    def ports(self, transport: str) -> set[int]:
        return {p for e in self.entries.values() for p, t in e.match.ports if t == transport}

    @classmethod
    def from_mapping(cls, data: Any, source: str = "<exposure>",
                     positions: Mapping[tuple, tuple[str, int]] | None = None) -> ExposureCatalogue:
        problems: list[str] = []

        def bad(loc: tuple, msg: str) -> None:
            problems.append(problem(dict(positions or {}), source, loc, msg))

        if not isinstance(data, dict) or not isinstance(data.get("services"), dict):
            raise ConfigError(f"{source}: line 1: services: a mapping of service ids is required")
        for key in set(data) - {"version", "services", "checks"}:
            bad((key,), f"unknown key {key!r}")
        entries = {}
        for sid, raw in data["services"].items():
            entry = _entry(sid, raw, lambda loc, msg, s=sid: bad(("services", s) + loc, msg))
            if entry is not None:
                entries[sid] = entry
        for sid, e in entries.items():
            if e.refines and e.refines not in entries:
                bad(("services", sid, "refines"), f"unknown service {e.refines!r}")
        try:
            checks = Catalogue.from_mapping(data.get("checks") or {}, source)
        except ConfigError as exc:
            problems.extend(exc.problems)
            checks = Catalogue()
        if problems:
            raise ConfigError(problems)
        return cls(entries, checks)


def _entry(sid: str, raw: Any, bad) -> ServiceEntry | None:
    if not isinstance(raw, dict):
        bad((), "must be a mapping")
        return None
    for key in set(raw) - ENTRY_KEYS:
        bad((key,), f"unknown key {key!r}")
    if raw.get("default") not in ("forbid", "allow"):
        bad(("default",), "must be forbid or allow")
    match = _match(raw.get("match") or {}, lambda loc, msg: bad(("match",) + loc, msg))
    try:
        names = names_of(raw.get("name"), "name")
    except ConfigError as exc:
        bad(("name",), "; ".join(exc.problems))
        return None
    try:
        check = Check(id=f"exposure.{sid}", name=names["en"], names=names, severity=raw.get("severity", ""),
                      remediation=dict(raw.get("remediation") or {}), controls=tuple(raw.get("controls", ())),
                      dataset="citysec.exposure", category=("network",))
    except ConfigError as exc:
        for p in exc.problems:
            bad((), p)
        return None
    return ServiceEntry(id=sid, check=check, default=raw.get("default", "forbid"), match=match,
                        refines=raw.get("refines"))


def _match(raw: Any, bad) -> Match:
    if not isinstance(raw, dict):
        bad((), "must be a mapping")
        return Match()
    for key in set(raw) - MATCH_KEYS:
        bad((key,), f"unknown key {key!r}")
    ports = set()
    for i, p in enumerate(raw.get("ports", [])):
        try:
            ports.add(parse_port(p))
        except ValueError as exc:
            bad(("ports", i), str(exc))
    if not ports and not raw.get("services"):
        bad((), "give ports or services")
    if raw.get("tunnel") not in (None, "ssl", "none"):
        bad(("tunnel",), "must be ssl or none")
    regexes = {}
    for key in ("products", "http_title"):
        try:
            regexes[key] = re.compile(raw[key]) if raw.get(key) else None
        except re.error as exc:
            bad((key,), f"invalid regular expression: {exc}")
            regexes[key] = None
    return Match(ports=frozenset(ports), services=frozenset(map(str, raw.get("services", []))),
                 products=regexes["products"], tunnel=raw.get("tunnel"), http_title=regexes["http_title"],
                 http_paths=tuple(raw.get("http_paths", [])), snmp_community=raw.get("snmp_community"))

