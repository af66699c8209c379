"""The exposure judge: an open (host, port) and the policies → a pass or fail naming the rule.

Pure functions. A port is first classified as the most specific catalogue entry it matches,
then the policy rules are read in order: the first rule that applies to the agency and zone and
names the service (its id, an id it refines, ``PORT/proto``, or nmap's service name; the most
specific name first) decides; within one rule, a name it forbids wins over one it allows. When
no rule names it, the catalogue's ``default`` decides. A port no entry describes is
``exposure.unlisted``: it passes unless a rule names it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from findings.model import Finding

from .catalogue import ExposureCatalogue, ServiceEntry
from .targets import AgencyTargets, Rule


@dataclass(frozen=True)
class PortObservation:
    """What the service scan saw on one open port (gathered state)."""
    host: str
    port: int
    transport: str                            # tcp, udp
    service: str | None = None                # nmap's service name
    method: str | None = None                 # "probed" (-sV identified it) or "table" (a guess)
    product: str | None = None
    version: str | None = None
    tunnel: str | None = None                 # "ssl" when nmap saw TLS
    title: str | None = None                  # http-title output
    admin_paths: tuple[str, ...] = ()         # paths that answered 200/401/403
    snmp_communities: tuple[str, ...] = ()    # communities that answered a sysDescr get
    hostname: str | None = None
    mac: str | None = None
    scripts: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Decision:
    check: str
    verdict: str                              # pass, fail
    severity: str
    decided_by: str                           # "policies.services[2]" or "catalogue:telnet"
    reason: str
    entry: ServiceEntry | None


def _strength(e: ServiceEntry, obs: PortObservation) -> int:
    """How well an entry describes a port: 3 product, 2 nmap's probed name, 1 the usual port; 0 not."""
    m = e.match
    probed = obs.method == "probed" and obs.service not in (None, "", "unknown", "tcpwrapped")
    if m.tunnel == "none" and obs.tunnel == "ssl" or probed and m.tunnel == "ssl" and obs.tunnel != "ssl":
        return 0
    if m.products and obs.product and m.products.search(obs.product):
        return 3
    if probed and obs.service in m.services:
        return 2
    if (obs.port, obs.transport) in m.ports and (not probed or not m.services):
        return 1
    return 0


def _evidence(e: ServiceEntry, obs: PortObservation) -> bool:
    m = e.match
    if not m.needs_evidence:
        return True
    if m.snmp_community and m.snmp_community in obs.snmp_communities:
        return True
    if m.http_title and obs.title and m.http_title.search(obs.title):
        return True
    return bool(m.http_paths and set(m.http_paths) & set(obs.admin_paths))


def classify(obs: PortObservation, cat: ExposureCatalogue) -> ServiceEntry | None:
    """The most specific catalogue entry describing this port (None: not in the catalogue)."""
    scored = [(_strength(e, obs), cat.depth(e.id), e.id) for e in cat.entries.values()]
    scored = [s for s in scored if s[0] > 0 and _evidence(cat.entries[s[2]], obs)]
    if not scored:
        return None
    best = max(scored)
    return cat.entries[best[2]]


def names_of(obs: PortObservation, entry: ServiceEntry | None, cat: ExposureCatalogue) -> list[str]:
    """The names a rule may use for this port, most specific first."""
    names = [entry.id, *cat.ancestors(entry.id)] if entry else []
    names.append(f"{obs.port}/{obs.transport}")
    if obs.service and obs.service not in names:
        names.append(obs.service)
    return names


def judge(obs: PortObservation, agency: AgencyTargets, rules: tuple[Rule, ...],
          cat: ExposureCatalogue) -> Decision:
    entry = classify(obs, cat)
    zone = agency.zone_of(obs.host)
    names = names_of(obs, entry, cat)
    check = f"exposure.{entry.id}" if entry else "exposure.unlisted"
    severity = entry.severity if entry else cat.check("exposure.unlisted").severity
    for rule in rules:
        if not rule.applies(agency, zone):
            continue
        for name in names:
            if name in rule.forbid or name in rule.allow:
                verdict = "fail" if name in rule.forbid else "pass"
                why = f" ({rule.reason})" if rule.reason else ""
                word = "forbids" if verdict == "fail" else "allows"
                return Decision(check, verdict, severity, f"policies.services[{rule.index}]",
                                f"policies.services[{rule.index}] {word} {name}{why}", entry)
    if entry is None:
        return Decision(check, "pass", severity, "catalogue:unlisted",
                        f"catalogue:unlisted: no catalogue entry or policy rule names {obs.port}/{obs.transport}"
                        f" ({obs.service or 'unknown'})", None)
    verdict = "fail" if entry.default == "forbid" else "pass"
    return Decision(check, verdict, severity, f"catalogue:{entry.id}",
                    f"catalogue:{entry.id}: no policy rule names it in zone {zone}; the default is "
                    f"{entry.default}", entry)


def exposure_finding(obs: PortObservation, agency: AgencyTargets, d: Decision, cat: ExposureCatalogue,
                     *, sensor: str | None = None, run_id: str | None = None) -> Finding:
    check = cat.check(d.check)
    zone = agency.zone_of(obs.host)
    label = d.entry.id if d.entry else (obs.service or "unknown service")
    what = "forbidden" if d.verdict == "fail" else "allowed"
    version = " ".join(x for x in (obs.product, obs.version) if x) or None
    usual = sorted(f"{p}/{t}" for p, t in d.entry.match.ports) if d.entry else []
    moved = ""
    if usual and f"{obs.port}/{obs.transport}" not in usual:   # judged by what answers, not by the port
        moved = (f"; {obs.service or 'a service'}{f' ({version})' if version else ''} answers there, "
                 f"not on its usual port {', '.join(usual)}")
    details = {"decided_by": d.decided_by, "zone": zone, "state": "open", "method": obs.method,
               "service": obs.service, "product": obs.product, "tunnel": obs.tunnel, "title": obs.title,
               "admin_paths": list(obs.admin_paths), "snmp_communities": list(obs.snmp_communities)}
    return check.finding(
        agency=agency.id, agency_name=agency.name, verdict=d.verdict,
        severity=d.severity if d.verdict == "fail" else None,
        message=f"{label} open on {obs.host}:{obs.port}/{obs.transport} ({zone}): {what}{moved}",
        reason=d.reason, host_ip=obs.host, host_name=obs.hostname, host_mac=obs.mac, port=obs.port,
        transport=obs.transport, service_name=obs.service, service_version=version,
        sensor=sensor, run_id=run_id, type=("info",),
        details={k: v for k, v in details.items() if v not in (None, [], "")})
