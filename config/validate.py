"""Rules across objects: duplicates, overlaps, dangling references, secrets, key files.

Each rule is a small function that appends ``(yaml path, message)`` pairs; :func:`cross_check`
turns them into ``file: line N: path: message`` lines. Messages never repeat a secret value.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from config.schema import SECRET_KEY, City

Bad = Callable[[tuple, str], None]

# The only block a drill acts in (exercises.range.spec.RANGE_BLOCK; the inject scope check refuses
# anything outside it even when approved).
DRILL_BLOCK = ipaddress.ip_network("198.18.0.0/15")

PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")
# Keys whose value is a credential id, not a secret, although their name looks like one.
CREDENTIAL_REFS = {("elasticsearch", "password"), ("elasticsearch", "api_key")}
SECRET_HINT = ("a secret value is written in the configuration: give a credential reference "
               "(credentials: {ID: {key_file: PATH}} or {ID: {env: VARIABLE}}) instead")


def find_secrets(data: Any, loc: tuple = ()) -> list[tuple[tuple, str]]:
    """YAML paths holding a secret: a key named like one (password, token, secret, ...) with a
    value, or any text holding a private key. Runs on the raw data, before the schema."""
    out: list[tuple[tuple, str]] = []
    if isinstance(data, dict):
        for k, v in data.items():
            here = loc + (k,)
            generic = tuple("*" if isinstance(p, int) else p for p in here)
            if (isinstance(k, str) and SECRET_KEY.search(k) and isinstance(v, (str, int, float))
                    and v != "" and generic not in CREDENTIAL_REFS):
                out.append((here, SECRET_HINT))
            else:
                out.extend(find_secrets(v, here))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out.extend(find_secrets(v, loc + (i,)))
    elif isinstance(data, str) and PRIVATE_KEY.search(data):
        out.append((loc, ("a private key is written in the configuration: put it in a file and "
                          "give its path as a credential (credentials: {ID: {key_file: PATH}})")))
    return out


def cross_check(cfg, data: dict, *, check_files: bool = True) -> list[str]:
    """Every cross-object problem of a configuration that passed the schema."""
    problems: list[str] = []

    def bad(loc: tuple, msg: str) -> None:
        problems.append(f"{cfg.where(*loc)}: {msg}")

    city: City = cfg.city
    ref = cfg.where
    _ids(city, bad, ref)
    _agencies(city, bad)
    _networks(city, bad, ref)
    _hosts(city, bad)
    _systems(city, bad)
    _policies(city, bad)
    _exercises(city, bad)
    _credentials(cfg, bad, check_files)
    return problems


Ref = Callable[..., str]   # YAML path → "file: line N: path"


def _dupes(items: list, key: Callable[[Any], Any], loc: Callable[[int], tuple], what: str,
           bad: Bad, ref: Ref) -> None:
    first: dict[Any, int] = {}
    for i, item in enumerate(items):
        k = key(item)
        if k in first:
            bad(loc(i), f"duplicate {what} {k!r} (first at {ref(*loc(first[k]))})")
        first.setdefault(k, i)


def _ids(city: City, bad: Bad, ref: Ref) -> None:
    _dupes(city.agencies, lambda a: a.id, lambda i: ("agencies", i, "id"), "agency id", bad, ref)
    _dupes(city.sensors, lambda s: s.id, lambda i: ("sensors", i, "id"), "sensor id", bad, ref)
    _dupes(city.systems, lambda s: s.id, lambda i: ("systems", i, "id"), "system id", bad, ref)
    _dupes(city.policies.backups, lambda b: b.id, lambda i: ("policies", "backups", i, "id"),
           "backup policy id", bad, ref)
    hosts = [(i, j, h) for i, a in enumerate(city.agencies) for j, h in enumerate(a.hosts)]
    _dupes(hosts, lambda t: t[2].ip, lambda n: ("agencies", hosts[n][0], "hosts", hosts[n][1], "ip"),
           "host address", bad, ref)
    for i, a in enumerate(city.agencies):
        _dupes(a.hosts, lambda h: h.name, lambda j, i=i: ("agencies", i, "hosts", j, "name"),
               "host name", bad, ref)


def _agencies(city: City, bad: Bad) -> None:
    agency_ids = {a.id for a in city.agencies}
    sensor_ids = {s.id for s in city.sensors}
    creds = city.credentials
    if city.sensor and city.sensor not in sensor_ids:
        bad(("sensor",), f"unknown sensor {city.sensor!r}")
    for i, s in enumerate(city.sensors):
        if s.agency not in agency_ids:
            bad(("sensors", i, "agency"), f"unknown agency {s.agency!r}")
    parents = {a.id: a.parent for a in city.agencies}
    for i, a in enumerate(city.agencies):
        if not a.networks:
            bad(("agencies", i, "networks"), f"agency {a.id!r} has no network")
        if a.parent and a.parent not in agency_ids:
            bad(("agencies", i, "parent"), f"unknown agency {a.parent!r}")
        elif a.parent and _cycle(a.id, parents):
            bad(("agencies", i, "parent"), f"agency {a.id!r} is its own ancestor (parent cycle)")
        if a.sensor and a.sensor not in sensor_ids:
            bad(("agencies", i, "sensor"), f"unknown sensor {a.sensor!r}")
        if a.ssh.key and a.ssh.key not in creds:
            bad(("agencies", i, "ssh", "key"), f"unknown credential {a.ssh.key!r}")


def _cycle(start: str, parents: dict[str, str | None]) -> bool:
    seen, node = {start}, parents.get(start)
    while node:
        if node in seen:
            return node == start
        seen.add(node)
        node = parents.get(node)
    return False


def _networks(city: City, bad: Bad, ref: Ref) -> None:
    sensor_ids = {s.id for s in city.sensors}
    nets: list[tuple[Any, str, tuple]] = []
    for i, a in enumerate(city.agencies):
        for j, n in enumerate(a.networks):
            loc = ("agencies", i, "networks", j)
            if n.sensor not in sensor_ids:
                bad(loc + ("sensor",), f"unknown sensor {n.sensor!r}")
            for k, ex in enumerate(n.exclude):
                if not ipaddress.ip_network(ex).subnet_of(n.network):
                    bad(loc + ("exclude", k), f"{ex} is not inside {n.cidr}")
            for other_net, other_agency, other_loc in nets:
                if n.network.version == other_net.version and n.network.overlaps(other_net):
                    who = "the same agency" if other_agency == a.id else f"agency {other_agency!r}"
                    bad(loc + ("cidr",), f"{n.cidr} overlaps {other_net} of {who} ({ref(*other_loc, 'cidr')})")
            nets.append((n.network, a.id, loc))


def _hosts(city: City, bad: Bad) -> None:
    system_ids = {s.id for s in city.systems}
    names = {h.name for a in city.agencies for h in a.hosts} | {h.ip for a in city.agencies for h in a.hosts}
    for i, a in enumerate(city.agencies):
        for j, h in enumerate(a.hosts):
            loc = ("agencies", i, "hosts", j)
            ip = ipaddress.ip_address(h.ip)
            if not any(ip in n.network for n in a.networks):
                bad(loc + ("ip",), f"{h.ip} is in none of agency {a.id!r}'s networks")
            if h.system and h.system not in system_ids:
                bad(loc + ("system",), f"unknown information system {h.system!r}")
            if h.ssh and h.ssh.key and h.ssh.key not in city.credentials:
                bad(loc + ("ssh", "key"), f"unknown credential {h.ssh.key!r}")
            if h.ssh and h.ssh.jump and h.ssh.jump not in names:
                bad(loc + ("ssh", "jump"), f"unknown jump host {h.ssh.jump!r} (give a registered host's name or address)")
        if a.ssh.jump and a.ssh.jump not in names:
            bad(("agencies", i, "ssh", "jump"), f"unknown jump host {a.ssh.jump!r} (give a registered host's name or address)")


def _systems(city: City, bad: Bad) -> None:
    agencies = {a.id: a for a in city.agencies}
    backup_ids = {b.id for b in city.policies.backups}
    for i, s in enumerate(city.systems):
        for field in ("owner", "operator"):
            if getattr(s, field) not in agencies:
                bad(("systems", i, field), f"unknown agency {getattr(s, field)!r}")
        if s.backup and s.backup not in backup_ids:
            bad(("systems", i, "backup"), f"unknown backup policy {s.backup!r}")
        owner = agencies.get(s.owner)
        if owner is not None:
            known = {h.name for h in owner.hosts} | {h.ip for h in owner.hosts}
            for j, h in enumerate(s.hosts):
                if h not in known:
                    bad(("systems", i, "hosts", j), f"host {h!r} is not in agency {s.owner!r}'s register")


def _policies(city: City, bad: Bad) -> None:
    agency_ids = {a.id for a in city.agencies}
    for section in ("services", "scan_windows", "blackouts"):
        for i, item in enumerate(getattr(city.policies, section)):
            for j, ag in enumerate(item.agencies):
                if ag not in agency_ids:
                    bad(("policies", section, i, "agencies", j), f"unknown agency {ag!r}")
    for i, rule in enumerate(city.policies.services):
        for j, svc in enumerate(rule.forbid):
            if svc in rule.allow:
                bad(("policies", "services", i, "forbid", j), f"{svc!r} is both allowed and forbidden by this rule")
    for i, b in enumerate(city.policies.blackouts):
        if b.end.astimezone() <= b.start.astimezone():  # a time without zone is the sensor's local time
            bad(("policies", "blackouts", i, "end"), "the blackout ends before it starts")


def _exercises(city: City, bad: Bad) -> None:
    for i, name in enumerate(city.exercises.lapse_webhooks or []):
        if name not in city.notify.webhooks:
            bad(("exercises", "lapse_webhooks", i), f"{name!r} is not a webhook of notify.webhooks")


def _section(d: Any, key: str) -> dict:
    value = d.get(key) if isinstance(d, dict) else None
    return value if isinstance(value, dict) else {}


def raw_problems(data: Any) -> list[tuple[tuple, str]]:
    """Rules that read the raw data (before the schema, so they are reported with its errors):
    webhook URLs and names, drill targets. A value of the wrong type is left to the schema."""
    out: list[tuple[tuple, str]] = []
    notify = _section(data, "notify")
    hooks = _section(notify, "webhooks")
    for name, url in hooks.items():
        if isinstance(url, str) and (msg := webhook_url_problem(url)):
            out.append((("notify", "webhooks", name), msg))
    names = _section(notify, "digests").get("webhooks")
    for i, name in enumerate(names if isinstance(names, list) else []):
        if isinstance(name, str) and name not in hooks:
            out.append((("notify", "digests", "webhooks", i), f"webhook {name!r} is not in notify.webhooks"))
    targets = _section(data, "exercises").get("approved_targets")
    for i, t in enumerate(targets if isinstance(targets, list) else []):
        address = t.get("address") if isinstance(t, dict) else None
        if not isinstance(address, str):
            continue
        try:
            outside = ipaddress.ip_address(address) not in DRILL_BLOCK
        except ValueError:
            continue        # not an address: the schema says so
        if outside:
            out.append((("exercises", "approved_targets", i, "address"),
                        f"{address} is outside {DRILL_BLOCK}: a drill never acts beyond that block, approved or not"))
    return out


def webhook_url_problem(url: str) -> str | None:
    """Why a webhook URL cannot be used (None: it can): only http and https with a host."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{url!r} is not an http:// or https:// URL with a host"
    return None


def warnings(city: City) -> list[tuple[tuple, str]]:
    """Settings that are valid but weaken security: (YAML path, message), shown by `config check`."""
    out: list[tuple[tuple, str]] = []
    smtp = city.notify.smtp
    if smtp is not None and smtp.security == "plain":
        out.append((("notify", "smtp", "security"), ("plain SMTP: notifications cross the network unencrypted"
                                                      " and the relay is not authenticated (use starttls or tls)")))
    return out


def _credentials(cfg, bad: Bad, check_files: bool) -> None:
    city: City = cfg.city
    for cid, cred in city.credentials.items():
        if bool(cred.key_file) == bool(cred.env):
            bad(("credentials", cid), "give exactly one of key_file or env")
        elif cred.key_file and check_files and cred.check_exists:
            path = cfg.resolve(cred.key_file)
            if not os.path.isfile(path):
                bad(("credentials", cid, "key_file"), f"key file {cred.key_file} does not exist ({path})")
    es = city.elasticsearch
    for field in ("api_key", "password"):
        ref = getattr(es, field)
        if ref and ref not in city.credentials:
            bad(("elasticsearch", field), "unknown credential id (give the id of an entry of credentials:,"
                                          " never the secret itself)")
    if es.password and not es.username:
        bad(("elasticsearch", "password"), "a password needs a username")
    if es.ca_file and check_files and not os.path.isfile(cfg.resolve(es.ca_file)):
        bad(("elasticsearch", "ca_file"), f"CA file {es.ca_file} does not exist")
    smtp = city.notify.smtp
    if smtp and smtp.ca_file and check_files and not os.path.isfile(cfg.resolve(smtp.ca_file)):
        bad(("notify", "smtp", "ca_file"), f"CA file {smtp.ca_file} does not exist")
