"""Rogue devices: an unregistered host (sshd only) plugged into an agency's network of a running
range, and unplugged again. ``Range.add_rogue`` / ``Range.remove_rogue`` keep the bookkeeping;
these functions do the network and process work over the Range's public API."""

from __future__ import annotations

import ipaddress
import os
import shutil
from typing import TYPE_CHECKING

from findings.errors import UsageError

from . import hosts as hostmod
from . import net
from .hosts import Host
from .record import Rogue
from .spec import RANGE_BLOCK, HostSpec

if TYPE_CHECKING:  # annotations only: range.py imports this module, never the other way round
    from .range import Range


def name_for(ip: str) -> str:
    """The name a rogue device at ``ip`` gets (``rogue-<third>-<fourth>``)."""
    a, b = ip.split(".")[2:]
    return f"rogue-{a}-{b}"


def plug(rng: Range, agency: str, ip: str) -> tuple[Host, int]:
    """Create the device's namespace, link it to the agency's network, start its holder and sshd;
    returns the Host and its PID 1."""
    nets = [(i, n) for i, (a, n) in enumerate(rng.spec.networks()) if a == agency]
    addr = ipaddress.ip_address(ip)
    match = [(i, n) for i, n in nets if addr in n.network]
    if addr not in RANGE_BLOCK or not match:
        raise UsageError(f"{ip} is in none of agency {agency!r}'s networks in range {rng.name}")
    if ip in net.addresses_in_use("\0") or ip in {h.ip for h in rng.hosts}:
        raise UsageError(f"{ip} is already used")
    idx, network = match[0]
    name = name_for(ip)
    spec = HostSpec(name, ip, agency, "workstation", False)
    h = Host(name, ip, agency, rng.netns_of(name), "workstation", ("ssh",), False, spec)
    veth = f"r{int(addr) & 0xFFFF:x}"
    net.ip_batch([f"netns add {h.netns}"])
    net.ip_batch([f"link add {veth} type veth peer name eth0 netns {h.netns}", f"link set {veth} master br{idx}",
                  f"link set {veth} up"], rng.core_netns)
    net.ip_batch(["link set lo up", f"addr add {ip}/{network.network.prefixlen} dev eth0", "link set eth0 up",
                  f"route add 198.18.0.0/15 via {network.gateway}"], h.netns)
    keys = os.path.join(rng.state_dir, "keys", name)
    hostmod.keypair(os.path.join(keys, "ssh_host_ed25519_key"), f"root@{name}")
    var = os.path.join(rng.state_dir, "hosts", name, "var")
    with open(rng.operator_key + ".pub") as fh:
        hostmod.layout(var, name, ip, keys, fh.read())
    errfile = os.path.join(rng.state_dir, "holders", name + ".err")
    proc = hostmod.start_holder(h.netns, os.path.join(rng.state_dir, "bin", "init"), var, name, errfile)
    return h, hostmod.wait_holders({name: proc}, {name: errfile})[name]


def unplug(rng: Range, name: str) -> None:
    """Stop the device's processes and delete its namespace (and with it its veth) and folder."""
    netns = rng.netns_of(name)
    if netns in rng.namespaces():
        net.kill_all([netns])
        net.ip_batch([f"netns del {netns}"])
    shutil.rmtree(os.path.join(rng.state_dir, "hosts", name), ignore_errors=True)


def as_host(r: Rogue) -> Host:
    """The Host of a recorded rogue device (a Range made while it is plugged in lists it)."""
    return Host(r.name, r.ip, r.agency, r.netns, "workstation", ("ssh",), False,
                HostSpec(r.name, r.ip, r.agency, "workstation", False))
