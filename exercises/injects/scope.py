"""The scope guard of technical injects: nothing acts outside the range (and 198.18.0.0/15)."""

from __future__ import annotations

import ipaddress

from exercises.range import RANGE_BLOCK

from .base import InjectKind


def _in_approved(value: str, approved: set[str] | frozenset) -> bool:
    try:
        addr = ipaddress.ip_address(value)
    except ValueError:
        return value in approved
    for a in approved:
        try:
            if addr in ipaddress.ip_network(a, strict=False):
                return True
        except ValueError:
            continue
    return False


def _address_problem(rng, ip: str, approved) -> str | None:
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return f"{ip!r} is not an address"
    if addr not in RANGE_BLOCK:
        return f"{ip} is outside {RANGE_BLOCK}: never a range address"
    if rng.spec.network_of(ip) is None and not _in_approved(ip, approved):
        return f"{ip} is in none of range {rng.name}'s networks"
    return None


def _rogue_problems(rng, params: dict, approved) -> list[str]:
    ip, agency = params["ip"], params.get("agency")
    if (msg := _address_problem(rng, ip, approved)):
        return [f"ip: {msg}"]
    if agency not in {a.id for a in rng.spec.agencies}:
        return [f"agency: {agency!r} is not an agency of range {rng.name}"]
    nets = [n.network for a, n in rng.spec.networks() if a == agency]
    if not any(ipaddress.ip_address(ip) in n for n in nets) and not _in_approved(ip, approved):
        return [f"ip: {ip} is in none of agency {agency}'s networks"]
    return []


def scope_check(rng, kind: str | InjectKind, params, approved: set[str] | frozenset = frozenset()) -> list[str]:
    """Problems if the inject would act on anything but this range (call before ``apply``; it reads
    the range's description only, nothing acts). A target is a host of the range whose address is
    in one of the range's networks, or (rogue_host) an address in one of the agency's networks;
    ``approved`` adds addresses or networks (CIDR) the drill's plan approved beyond the described
    networks, but nothing outside 198.18.0.0/15 passes, approved or not."""
    from . import KINDS
    k = KINDS.get(kind) if isinstance(kind, str) else kind
    if k is None:
        return [f"unknown inject type {kind!r} (known: {', '.join(KINDS)})"]
    problems = [f"{key or '.'}: {msg}" for key, msg in k.check(params)]
    for target in k.targets(params):
        if k.name == "rogue_host":
            problems += _rogue_problems(rng, {"ip": target, "agency": _agency(params)}, approved)
            continue
        host = rng.find_host(target)
        if host is None:
            problems.append(f"{target!r} is not a host of range {rng.name}")
        elif (msg := _address_problem(rng, host.ip, approved)):
            problems.append(f"{target}: {msg}")
    return problems


def _agency(params) -> str | None:
    return params.get("agency") if isinstance(params, dict) else getattr(params, "agency", None)
