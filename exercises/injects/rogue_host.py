"""``rogue_host`` — ``agency``, ``ip``: an unregistered device (sshd) plugged into the agency's
network (``Range.add_rogue``).

Facts: its name and namespace. Cleanup: ``Range.remove_rogue``; verify: namespace gone, address
not configured anywhere, not in the range's state.
"""

from __future__ import annotations

import contextlib
import ipaddress
from dataclasses import dataclass

from exercises.range import RANGE_BLOCK
from findings.support.netns import connect_in_netns

from .base import STR, InjectKind, Params, param


@dataclass(frozen=True)
class RogueHostParams(Params):
    TARGETS = ("ip",)
    agency: str = param("an agency id", STR)
    ip: str = param("an IPv4 address", STR)

    def problems(self):
        try:
            addr = ipaddress.IPv4Address(self.ip)
        except ValueError:
            return [("ip", f"expected an IPv4 address, got {self.ip!r}")]
        return [] if addr in RANGE_BLOCK else [("ip", f"{addr} is outside {RANGE_BLOCK} (the range's block)")]


def present(rng, name: str) -> bool:
    """Recorded in the range's state and its namespace exists."""
    return any(r.name == name for r in rng.rogues()) and rng.netns_of(name) in rng.namespaces()


class RogueHost(InjectKind):
    name = "rogue_host"
    Params = RogueHostParams

    def apply(self, rng, params):
        p = self.parse(params)
        for r in rng.rogues():  # applied before (a crash): keep it
            if r.ip == p.ip and r.agency == p.agency and present(rng, r.name):
                return {"name": r.name, "netns": r.netns}
        name = rng.add_rogue(p.agency, p.ip)
        h = rng.host(name)
        # as a device joining a network does: its first packet (to its gateway) makes the core learn
        # its address, also when a probe before it left a failed neighbour entry there
        gw = rng.spec.network_of(h.ip).gateway
        with contextlib.suppress(OSError):  # the core has no listener: refused, once ARP is done
            connect_in_netns(h.netns, gw, 9, timeout=3).close()
        return {"name": name, "netns": h.netns}

    @staticmethod
    def _name(rng, p: RogueHostParams, facts: dict) -> str:
        """The device's name: from the facts, else the one add_rogue would give this address."""
        if facts.get("name"):
            return facts["name"]
        known = [r.name for r in rng.rogues() if r.ip == p.ip]
        return known[0] if known else "rogue-" + "-".join(p.ip.split(".")[2:])

    def applied(self, rng, params, facts):
        return present(rng, self._name(rng, self.parse(params), facts))

    def cleanup(self, rng, params, facts):
        name = self._name(rng, self.parse(params), facts)
        if rng.netns_of(name) in rng.namespaces() or any(r.name == name for r in rng.rogues()) \
                or rng.find_host(name) is not None:
            rng.remove_rogue(name)

    def verify(self, rng, params, facts):
        p = self.parse(params)
        name, netns = self._name(rng, p, facts), rng.netns_of(self._name(rng, p, facts))
        out = []
        if netns in rng.namespaces():
            out.append(f"{name}: its namespace {netns} still exists")
        if (where := rng.configured_at(p.ip)):  # the machine and every namespace, this range's too
            out.append(f"{name}: address {p.ip} is still configured ({where})")
        if any(r.name == name for r in rng.rogues()):
            out.append(f"{name}: still listed in the range's state")
        if rng.find_host(name) is not None:
            out.append(f"{name}: still a host of this Range")
        return out

    def describe(self, params):
        p = self.parse(params)
        return f"unregistered device plugged into {p.agency}'s network at {p.ip}"
