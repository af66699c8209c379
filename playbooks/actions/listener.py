"""Stop what listens on a port: the processes that hold the listening socket (``ss -tlnp``, as
root) get SIGTERM, then the port is checked again. Works whatever the service manager calls the
service (a scanner knows the port and nmap's service name, not the unit name). PID 1 is never
signalled: a socket held by the service manager (socket activation) needs a manual step."""

from __future__ import annotations

import re

from .base import Action, ActionContext, ActionError, ParamError, run_checked

_PID = re.compile(r"pid=(\d+)")


def _port(params: dict) -> tuple[int, str]:
    try:
        port = int(params["port"])
    except (KeyError, TypeError, ValueError):
        raise ParamError(f"parameter 'port': need a port number, not {params.get('port')!r}") from None
    proto = str(params.get("transport") or "tcp")
    if not 0 < port < 65536 or proto not in ("tcp", "udp"):
        raise ParamError(f"parameter 'port'/'transport': need 1-65535 and tcp or udp, not {port}/{proto}")
    return port, proto


def listener_pids(ss_output: str) -> list[int]:
    """The process ids in ``ss -Hlnp`` output (pure)."""
    return sorted({int(p) for line in ss_output.splitlines() for p in _PID.findall(line)})


def _ss(ctx: ActionContext, host: str, port: int, proto: str) -> tuple[list[str], str]:
    argv = [*ctx.privileged, "ss", "-Hlnp" + ("t" if proto == "tcp" else "u"), f"sport = :{port}"]
    _, out = run_checked(ctx.need_transport(), host, argv)
    return [line for line in out.splitlines() if line.strip()], out


def _stop(ctx: ActionContext, params: dict, dry_run: bool) -> dict:
    host, (port, proto) = params["host"], _port(params)
    if dry_run:
        return {"host": host, "would_stop": f"{port}/{proto}"}
    lines, out = _ss(ctx, host, port, proto)
    pids = listener_pids(out)
    if lines and not pids:
        raise ActionError(f"{host}: {port}/{proto} listens but ss shows no process (not run as root?)")
    if 1 in pids:
        raise ActionError(f"{host}: {port}/{proto} is held by PID 1 (socket activation): stop the unit by hand")
    if pids:
        run_checked(ctx.need_transport(), host, [*ctx.privileged, "kill", "-TERM", "--", *map(str, pids)])
    still, _ = _ss(ctx, host, port, proto)
    if still:
        raise ActionError(f"{host}: {port}/{proto} still listens after SIGTERM to {pids}")
    return {"host": host, "port": port, "transport": proto, "stopped_pids": pids,
            "listeners": [line.split()[3] if len(line.split()) > 3 else line for line in lines]}


def _probe(ctx: ActionContext, params: dict) -> dict | None:
    port, proto = _port(params)
    lines, _ = _ss(ctx, params["host"], port, proto)
    return None if lines else {"host": params["host"], "port": port, "transport": proto, "already": True}


STOP_LISTENER = Action(name="stop_listener", doc="Stop the processes listening on a port (SIGTERM), then check.",
                       required=("host", "port"), optional=("transport",), dry_run=True, destructive=True,
                       run=_stop, probe=_probe)
