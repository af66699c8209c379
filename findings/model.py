"""The finding: one frozen model for every producer, serialised to an ECS 9.4 document in one place.

A finding is what a run learned: a check result (``kind="state"``), a detection (``alert``), a
workflow step of a case or drill (``event``), a ratio (``metric``) or an inventory item (``asset``).
Scanners and collectors build findings; the store adds the lifecycle (status, first and last
seen); the Elasticsearch sink ships :func:`to_document` unchanged.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

KINDS = ("state", "alert", "event", "metric", "asset")
VERDICTS = ("pass", "fail", "error", "incomplete", "skipped")
SEVERITIES = ("info", "low", "medium", "high", "critical")
STATUSES = ("open", "closed", "reopened")
SEVERITY_SCORE = {"info": 0, "low": 21, "medium": 47, "high": 73, "critical": 99}

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean_text(value: str | None, limit: int = 4096) -> str | None:
    """Remote text (banners, log lines, hostnames) without control characters, bounded in size."""
    if value is None:
        return None
    text = _CONTROL.sub("\ufffd", str(value))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(ts: datetime) -> str:
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return ts.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_ts(value: str | datetime) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(value)   # Python ≥ 3.11 reads the "Z"


def _digest(*parts: object) -> str:
    text = "\x1f".join("" if p is None else str(p) for p in parts)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def fingerprint(check: str, agency: str, host: str | None = None, port: int | None = None,
                transport: str | None = None, subject: str | None = None) -> str:
    """Stable identity only: check, agency, host, port, protocol (and a stable subject such as a
    system id or a file path). Never text that changes between runs."""
    return _digest("v1", check, agency, host, port, transport, subject)


@dataclass(frozen=True, slots=True)
class Finding:
    """One result. Build it with keyword arguments; ``fingerprint`` and ``id`` are derived."""

    check: str                       # rule.id, e.g. "exposure.telnet", "av.coverage"
    agency: str                      # organization.id
    kind: str = "state"
    verdict: str | None = None       # state findings: pass, fail, error, incomplete, skipped
    severity: str = "info"
    message: str = ""                # one line a person reads (message)
    reason: str | None = None        # why: error text, rule that decided
    check_name: str | None = None    # rule.name
    dataset: str | None = None       # event.dataset, "citysec.<area>"; default from the check
    category: tuple[str, ...] = ()   # event.category
    type: tuple[str, ...] = ()       # event.type
    agency_name: str | None = None
    host_ip: str | None = None
    host_name: str | None = None
    host_mac: str | None = None
    port: int | None = None
    transport: str | None = None     # tcp, udp
    service_name: str | None = None
    service_version: str | None = None
    subject: str | None = None       # extra stable identity (system id, path, account)
    timestamp: datetime = field(default_factory=utcnow)
    sensor: str | None = None        # observer.name
    run_id: str | None = None
    controls: tuple[str, ...] = ()
    remediation: Mapping[str, str] = field(default_factory=dict)   # {"vi": ..., "en": ...}
    details: Mapping[str, Any] = field(default_factory=dict)       # citysec.<area>.* field set
    source_ip: str | None = None     # alerts: source.ip
    user_name: str | None = None     # alerts: user.name
    _fp: str = field(default="", init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown finding kind {self.kind!r}")
        if self.kind == "state" and self.verdict not in VERDICTS:
            raise ValueError(f"state finding {self.check!r} needs a verdict in {VERDICTS}")
        if self.verdict is not None and self.verdict not in VERDICTS:
            raise ValueError(f"unknown verdict {self.verdict!r}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r}")
        object.__setattr__(self, "remediation", MappingProxyType(dict(self.remediation)))
        object.__setattr__(self, "details", MappingProxyType(dict(self.details)))
        object.__setattr__(self, "message", clean_text(self.message) or "")
        object.__setattr__(self, "reason", clean_text(self.reason))
        object.__setattr__(self, "host_name", clean_text(self.host_name, 255))
        object.__setattr__(self, "service_version", clean_text(self.service_version, 512))
        object.__setattr__(self, "_fp", fingerprint(self.check, self.agency, self.host_ip or self.host_name,
                                                    self.port, self.transport, self.subject))

    @property
    def fingerprint(self) -> str:
        return self._fp   # computed once, in __post_init__ (hashing is a visible cost at 100k findings)

    @property
    def area(self) -> str:
        return (self.dataset or f"citysec.{self.check.split('.', 1)[0]}").split(".", 1)[1]

    @property
    def id(self) -> str:
        """Deterministic document id of this observation: the same run seeing the same thing
        twice gives the same id, so a retried shipment never duplicates."""
        when = self.run_id or iso(self.timestamp)
        if self.kind == "state":
            return _digest("obs", self.fingerprint, when)
        return _digest(self.kind, self.fingerprint, iso(self.timestamp), self.message)

    def with_(self, **changes: Any) -> Finding:
        return replace(self, **changes)


def _put(doc: dict, dotted: str, value: Any) -> None:
    if value is None or value == () or value == {}:
        return
    node = doc
    *parents, leaf = dotted.split(".")
    for p in parents:
        node = node.setdefault(p, {})
    node[leaf] = list(value) if isinstance(value, tuple) else value


def to_document(f: Finding, *, status: str | None = None, first_seen: datetime | None = None,
                last_seen: datetime | None = None) -> dict[str, Any]:
    """The ECS 9.4 document of a finding: the one serialisation every sink and report uses."""
    doc: dict[str, Any] = {"@timestamp": iso(f.timestamp), "ecs": {"version": "9.4.0"}}
    dataset = f.dataset or f"citysec.{f.check.split('.', 1)[0]}"
    _put(doc, "event.kind", f.kind)
    _put(doc, "event.dataset", dataset)
    _put(doc, "event.module", "citysec")
    _put(doc, "event.category", f.category)
    _put(doc, "event.type", f.type)
    _put(doc, "event.id", f.id)
    _put(doc, "event.severity", SEVERITY_SCORE[f.severity])
    _put(doc, "event.reason", f.reason)
    _put(doc, "message", f.message)
    _put(doc, "organization.id", f.agency)
    _put(doc, "organization.name", f.agency_name)
    _put(doc, "host.ip", [f.host_ip] if f.host_ip else None)
    _put(doc, "host.name", f.host_name)
    _put(doc, "host.mac", [f.host_mac.upper().replace(":", "-")] if f.host_mac else None)
    _put(doc, "service.name", f.service_name)
    _put(doc, "service.version", f.service_version)
    _put(doc, "server.ip", f.host_ip if f.port is not None else None)
    _put(doc, "server.port", f.port)
    _put(doc, "network.transport", f.transport)
    _put(doc, "source.ip", f.source_ip)
    _put(doc, "user.name", f.user_name)
    _put(doc, "rule.id", f.check)
    _put(doc, "rule.name", f.check_name)
    _put(doc, "observer.name", f.sensor)
    _put(doc, "observer.type", "sensor" if f.sensor else None)
    cs: dict[str, Any] = {"check": f.check, "severity": f.severity, "fingerprint": f.fingerprint}
    for key, value in (("verdict", f.verdict), ("run_id", f.run_id), ("subject", f.subject),
                       ("status", status)):
        if value is not None:
            cs[key] = value
    if first_seen is not None:
        cs["first_seen"] = iso(first_seen)
    if last_seen is not None:
        cs["last_seen"] = iso(last_seen)
    if f.controls:
        cs["controls"] = list(f.controls)
    if f.remediation:
        cs["remediation"] = dict(f.remediation)
    if f.details:
        cs[f.area] = json.loads(json.dumps(dict(f.details), default=str))
    doc["citysec"] = cs
    return doc


def from_document(doc: Mapping[str, Any]) -> Finding:
    """Rebuild a finding from its document (for the store's readers and Elasticsearch hits)."""
    ev, cs = doc.get("event", {}), doc.get("citysec", {})
    host, org = doc.get("host", {}), doc.get("organization", {})
    area = ev.get("dataset", "citysec.x").split(".", 1)[1]
    sev = cs.get("severity", "info")
    return Finding(
        check=cs["check"], agency=org["id"], kind=ev.get("kind", "state"), verdict=cs.get("verdict"),
        severity=sev, message=doc.get("message", ""), reason=ev.get("reason"),
        check_name=doc.get("rule", {}).get("name"), dataset=ev.get("dataset"),
        category=tuple(ev.get("category", ())), type=tuple(ev.get("type", ())),
        agency_name=org.get("name"), host_ip=(host.get("ip") or [None])[0], host_name=host.get("name"),
        host_mac=(host.get("mac") or [None])[0], port=doc.get("server", {}).get("port"),
        transport=doc.get("network", {}).get("transport"),
        service_name=doc.get("service", {}).get("name"), service_version=doc.get("service", {}).get("version"),
        subject=cs.get("subject"), timestamp=parse_ts(doc["@timestamp"]),
        sensor=doc.get("observer", {}).get("name"), run_id=cs.get("run_id"),
        controls=tuple(cs.get("controls", ())), remediation=cs.get("remediation", {}),
        details=cs.get(area, {}), source_ip=doc.get("source", {}).get("ip"),
        user_name=doc.get("user", {}).get("name"),
    )
