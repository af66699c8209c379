"""Isolate a host and undo it; block an address. nftables rules inside the host itself, in their
own table (``inet citysec_isolate`` / ``inet citysec_block``): isolation drops everything except
loopback and the city sensors' addresses, so the SOC keeps its SSH access. Each change is one nft
transaction (add-then-delete the table makes re-running it a clean replace: idempotent)."""

from __future__ import annotations

import ipaddress

from .base import Action, ActionContext, ActionError, ParamError, ip_param, run_checked

ISOLATE_TABLE = "citysec_isolate"
BLOCK_TABLE = "citysec_block"


def isolation_ruleset(sensor_ips: tuple[str, ...]) -> str:
    """The nft script of an isolation that keeps the sensors reachable (pure)."""
    if not sensor_ips:
        raise ParamError("isolation needs the city sensor's address (sensors[].address) to keep its access")
    v4 = [str(ipaddress.ip_address(a)) for a in sensor_ips if ipaddress.ip_address(a).version == 4]
    v6 = [str(ipaddress.ip_address(a)) for a in sensor_ips if ipaddress.ip_address(a).version == 6]
    keep_in = "".join([f" ip saddr {{ {', '.join(v4)} }} accept;" if v4 else "",
                       f" ip6 saddr {{ {', '.join(v6)} }} accept;" if v6 else ""])
    keep_out = keep_in.replace("saddr", "daddr")
    t = f"inet {ISOLATE_TABLE}"
    return (f"add table {t}; delete table {t}; add table {t}; "
            f"add chain {t} input {{ type filter hook input priority -10; policy drop; iif lo accept;{keep_in} }}; "
            f"add chain {t} output {{ type filter hook output priority -10; policy drop; oif lo accept;{keep_out} }}; "
            f"add chain {t} forward {{ type filter hook forward priority -10; policy drop; }}")


def _table_exists(ctx: ActionContext, host: str, table: str) -> bool:
    rc, _, _ = ctx.need_transport().exec(host, [*ctx.privileged, "nft", "list", "table", "inet", table],
                                          timeout=30)
    return rc == 0


def _isolate(ctx: ActionContext, params: dict, dry_run: bool) -> dict:
    script = isolation_ruleset(ctx.sensor_ips)
    argv = [*ctx.privileged, "nft", script]
    if dry_run:
        return {"host": params["host"], "would_run": argv}
    run_checked(ctx.need_transport(), params["host"], argv)
    if not _table_exists(ctx, params["host"], ISOLATE_TABLE):
        raise ActionError(f"{params['host']}: isolation rules not in place after nft ran")
    return {"host": params["host"], "isolated": True, "kept": list(ctx.sensor_ips)}


def _isolate_probe(ctx: ActionContext, params: dict) -> dict | None:
    if _table_exists(ctx, params["host"], ISOLATE_TABLE):
        return {"host": params["host"], "isolated": True, "kept": list(ctx.sensor_ips), "already": True}
    return None


def _release(ctx: ActionContext, params: dict, dry_run: bool) -> dict:
    t = f"inet {ISOLATE_TABLE}"
    argv = [*ctx.privileged, "nft", f"add table {t}; delete table {t}"]
    if dry_run:
        return {"host": params["host"], "would_run": argv}
    run_checked(ctx.need_transport(), params["host"], argv)
    return {"host": params["host"], "isolated": False}


def _release_probe(ctx: ActionContext, params: dict) -> dict | None:
    if _table_exists(ctx, params["host"], ISOLATE_TABLE):
        return None
    return {"host": params["host"], "isolated": False, "already": True}


def block_script(address: str) -> str:
    family, kind = ("ip", "ipv4_addr") if ipaddress.ip_address(address).version == 4 else ("ip6", "ipv6_addr")
    t, s = f"inet {BLOCK_TABLE}", f"blocked_{family}"
    return (f"add table {t}; add set {t} {s} {{ type {kind}; }}; "
            f"add chain {t} input_{family} {{ type filter hook input priority -5; policy accept; }}; "
            f"add chain {t} output_{family} {{ type filter hook output priority -5; policy accept; }}; "
            f"flush chain {t} input_{family}; flush chain {t} output_{family}; "
            f"add rule {t} input_{family} {family} saddr @{s} drop; "
            f"add rule {t} output_{family} {family} daddr @{s} drop; "
            f"add element {t} {s} {{ {address} }}")


def _block(ctx: ActionContext, params: dict, dry_run: bool) -> dict:
    address = ip_param(params, "address")
    if address in ctx.sensor_ips:
        raise ParamError(f"refusing to block {address}: it is a city sensor")
    argv = [*ctx.privileged, "nft", block_script(address)]
    if dry_run:
        return {"host": params["host"], "would_run": argv}
    run_checked(ctx.need_transport(), params["host"], argv)
    return {"host": params["host"], "blocked": address}


ISOLATE = Action(name="isolate_host", doc="Cut a host off the network except the city sensors (nftables).",
                 required=("host",), dry_run=True, destructive=True, run=_isolate, probe=_isolate_probe)
RELEASE = Action(name="release_host", doc="Undo isolate_host.", required=("host",), dry_run=True,
                 destructive=False, run=_release, probe=_release_probe)
BLOCK = Action(name="block_address", doc="Drop traffic from and to an address on a host (nftables set).",
               required=("host", "address"), dry_run=True, destructive=False, run=_block)
