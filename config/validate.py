"""Rules across objects: duplicates, overlaps, dangling references, secrets, key files."""

from __future__ import annotations

import ipaddress
import os
from typing import Any

from .schema import SECRET_KEY


def _secrets(data: Any, loc: tuple, out: list[tuple]) -> None:
    if isinstance(data, dict):
        for k, v in data.items():
            if isinstance(k, str) and SECRET_KEY.search(k) and isinstance(v, (str, int)) and v != "":
                if not (loc[:1] == ("elasticsearch",) and k == "password"):  # that one is a credential id
                    out.append(loc + (k,))
            _secrets(v, loc + (k,), out)
    elif isinstance(data, list):
        for i, v in enumerate(data):
            _secrets(v, loc + (i,), out)


def cross_check(cfg, data: dict, *, check_files: bool = True) -> list[str]:
    city, problems = cfg.city, []

    def bad(loc: tuple, msg: str) -> None:
        problems.append(f"{cfg.where(*loc)}: {msg}")

    found: list[tuple] = []
    _secrets(data, (), found)
    for loc in found:
        bad(loc, "a secret value is written in the configuration: give a credential reference "
                 "(credentials: {id: {key_file: PATH} or {env: VARIABLE}}) instead")

    agency_ids: dict[str, int] = {}
    for i, a in enumerate(city.agencies):
        if a.id in agency_ids:
            bad(("agencies", i, "id"), f"duplicate agency id {a.id!r} (first at agencies[{agency_ids[a.id]}])")
        agency_ids.setdefault(a.id, i)
        if not a.networks:
            bad(("agencies", i, "networks"), f"agency {a.id!r} has no network")
    sensor_ids = {s.id for s in city.sensors}
    seen_sensor: set[str] = set()
    for i, s in enumerate(city.sensors):
        if s.id in seen_sensor:
            bad(("sensors", i, "id"), f"duplicate sensor id {s.id!r}")
        seen_sensor.add(s.id)
        if s.agency not in agency_ids:
            bad(("sensors", i, "agency"), f"unknown agency {s.agency!r}")
    if city.sensor and city.sensor not in sensor_ids:
        bad(("sensor",), f"unknown sensor {city.sensor!r}")

    nets: list[tuple[Any, str, tuple]] = []
    for i, a in enumerate(city.agencies):
        if a.parent and a.parent not in agency_ids:
            bad(("agencies", i, "parent"), f"unknown agency {a.parent!r}")
        if a.sensor and a.sensor not in sensor_ids:
            bad(("agencies", i, "sensor"), f"unknown sensor {a.sensor!r}")
        if a.ssh.key and a.ssh.key not in city.credentials:
            bad(("agencies", i, "ssh", "key"), f"unknown credential {a.ssh.key!r}")
        for j, n in enumerate(a.networks):
            if n.sensor not in sensor_ids:
                bad(("agencies", i, "networks", j, "sensor"), f"unknown sensor {n.sensor!r}")
            for other_net, other_agency, other_loc in nets:
                if n.network.overlaps(other_net):
                    who = "the same agency" if other_agency == a.id else f"agency {other_agency!r}"
                    bad(("agencies", i, "networks", j, "cidr"),
                        f"{n.cidr} overlaps {other_net} of {who} ({'.'.join(map(str, other_loc))})")
            nets.append((n.network, a.id, ("agencies", i, "networks", j)))
        names: set[str] = set()
        for j, h in enumerate(a.hosts):
            ip = ipaddress.ip_address(h.ip)
            if not any(ip in n.network for n in a.networks):
                bad(("agencies", i, "hosts", j, "ip"), f"{h.ip} is in none of agency {a.id!r}'s networks")
            if h.name in names:
                bad(("agencies", i, "hosts", j, "name"), f"duplicate host name {h.name!r}")
            names.add(h.name)
            if h.system and h.system not in {s.id for s in city.systems}:
                bad(("agencies", i, "hosts", j, "system"), f"unknown information system {h.system!r}")
            if h.ssh and h.ssh.key and h.ssh.key not in city.credentials:
                bad(("agencies", i, "hosts", j, "ssh", "key"), f"unknown credential {h.ssh.key!r}")

    backup_ids = {b.id for b in city.policies.backups}
    sys_ids: set[str] = set()
    for i, s in enumerate(city.systems):
        if s.id in sys_ids:
            bad(("systems", i, "id"), f"duplicate system id {s.id!r}")
        sys_ids.add(s.id)
        for field in ("owner", "operator"):
            if getattr(s, field) not in agency_ids:
                bad(("systems", i, field), f"unknown agency {getattr(s, field)!r}")
        if s.backup and s.backup not in backup_ids:
            bad(("systems", i, "backup"), f"unknown backup policy {s.backup!r}")
        if s.owner in agency_ids:
            owner = city.agencies[agency_ids[s.owner]]
            known = {h.name for h in owner.hosts} | {h.ip for h in owner.hosts}
            for j, h in enumerate(s.hosts):
                if h not in known:
                    bad(("systems", i, "hosts", j), f"host {h!r} is not in agency {s.owner!r}'s register")

    for i, rule in enumerate(city.policies.services):
        for j, ag in enumerate(rule.agencies):
            if ag not in agency_ids:
                bad(("policies", "services", i, "agencies", j), f"unknown agency {ag!r}")
    for section in ("scan_windows", "blackouts"):
        for i, item in enumerate(getattr(city.policies, section)):
            for j, ag in enumerate(item.agencies):
                if ag not in agency_ids:
                    bad(("policies", section, i, "agencies", j), f"unknown agency {ag!r}")
    for i, b in enumerate(city.policies.blackouts):
        if b.end <= b.start:
            bad(("policies", "blackouts", i, "end"), "the blackout ends before it starts")

    for cid, cred in city.credentials.items():
        if bool(cred.key_file) == bool(cred.env):
            bad(("credentials", cid), "give exactly one of key_file or env")
        elif cred.key_file and check_files and cred.check_exists and not os.path.exists(cfg.resolve(cred.key_file)):
            bad(("credentials", cid, "key_file"), f"key file {cred.key_file} does not exist")
    es = city.elasticsearch
    for field in ("api_key", "password"):
        ref = getattr(es, field)
        if ref and ref not in city.credentials:
            bad(("elasticsearch", field), f"unknown credential {ref!r} (give a credential id, not the secret)")
    if es.ca_file and check_files and not os.path.exists(cfg.resolve(es.ca_file)):
        bad(("elasticsearch", "ca_file"), f"CA file {es.ca_file} does not exist")
    return problems
