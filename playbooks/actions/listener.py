"""Stop what listens on a port: the processes that hold the listening socket (``ss -tlnp``, as
root) get SIGTERM, then SIGKILL if they still hold it after a grace period (as service managers
do), and the port is watched a little longer: a service manager that restarts the service
(systemd ``Restart=``, a supervisor loop) makes the step fail, naming the new process and its
unit, instead of reporting a stop that did not last. Works whatever the service manager calls
the service (a scanner knows the port and nmap's service name, not the unit name). PID 1 is
never signalled: a socket held by the service manager (socket activation) needs a manual step."""

from __future__ import annotations

import re
import time

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


def _seconds(params: dict, key: str, default: float) -> float:
    try:
        value = float(params.get(key, default))
    except (TypeError, ValueError):
        value = -1.0
    if not 0 <= value <= 300:
        raise ParamError(f"parameter {key!r}: need seconds between 0 and 300, not {params.get(key)!r}")
    return value


def listener_pids(ss_output: str) -> list[int]:
    """The process ids in ``ss -Hlnp`` output (pure)."""
    return sorted({int(p) for line in ss_output.splitlines() for p in _PID.findall(line)})


def _ss(ctx: ActionContext, host: str, port: int, proto: str) -> tuple[list[str], str]:
    argv = [*ctx.privileged, "ss", "-Hlnp" + ("t" if proto == "tcp" else "u"), f"sport = :{port}"]
    _, out = run_checked(ctx.need_transport(), host, argv)
    return [line for line in out.splitlines() if line.strip()], out


def unit_of(cgroup: str) -> str | None:
    """The systemd unit in ``/proc/PID/cgroup`` text (v2 ``0::/system.slice/x.service`` or a v1
    ``name=systemd`` line), or None (pure)."""
    for line in cgroup.splitlines():
        parts = line.split(":", 2)
        if len(parts) == 3 and (parts[0] == "0" or parts[1] == "name=systemd"):
            units = [c for c in parts[2].split("/") if c.endswith((".service", ".scope"))]
            if units:
                return units[-1]
    return None


def _units(ctx: ActionContext, host: str, pids: list[int]) -> dict[int, str | None]:
    out = {}
    for pid in pids:
        rc, text, _ = ctx.need_transport().exec(host, ["cat", f"/proc/{pid}/cgroup"])
        out[pid] = unit_of(text) if rc == 0 else None
    return out


def _wait_closed(ctx: ActionContext, host: str, port: int, proto: str, seconds: float) -> tuple[list[str], str]:
    """The listeners left (and ``ss`` output) once the port closed or ``seconds`` passed."""
    deadline = time.monotonic() + seconds
    while True:
        still, out = _ss(ctx, host, port, proto)
        if not still or time.monotonic() >= deadline:
            return still, out
        time.sleep(0.3)


def _stop(ctx: ActionContext, params: dict, dry_run: bool) -> dict:
    host, (port, proto) = params["host"], _port(params)
    grace, settle = _seconds(params, "grace_seconds", 10), _seconds(params, "settle_seconds", 3)
    if dry_run:
        return {"host": host, "would_stop": f"{port}/{proto}"}
    lines, out = _ss(ctx, host, port, proto)
    pids = listener_pids(out)
    if lines and not pids:
        raise ActionError(f"{host}: {port}/{proto} listens but ss shows no process (not run as root?)")
    if 1 in pids:
        raise ActionError(f"{host}: {port}/{proto} is held by PID 1 (socket activation): stop the unit by hand")
    units, signal = _units(ctx, host, pids), None
    if pids:
        run_checked(ctx.need_transport(), host, [*ctx.privileged, "kill", "-TERM", "--", *map(str, pids)])
        signal = "TERM"
        still, out = _wait_closed(ctx, host, port, proto, grace)
        if still:
            # ignored SIGTERM for the whole grace period: the processes still holding the port get SIGKILL
            stubborn = [p for p in listener_pids(out) if p in pids]
            if stubborn:
                run_checked(ctx.need_transport(), host, [*ctx.privileged, "kill", "-KILL", "--", *map(str, stubborn)],
                            ok=(0, 1))
                signal = "KILL"
            if _wait_closed(ctx, host, port, proto, 5)[0]:
                raise ActionError(f"{host}: {port}/{proto} still listens after SIGTERM and SIGKILL to {pids}")
    if settle > 0:
        time.sleep(settle)
    back, out = _ss(ctx, host, port, proto)
    if back:
        new = listener_pids(out)
        named = ", ".join(f"pid {p}" + (f" ({u})" if u else "") for p, u in _units(ctx, host, new).items())
        raise ActionError(f"{host}: {port}/{proto} listens again {settle:g} s after the stop ({named or 'no pid'}): "
                          "its service manager restarts it; stop and disable the service by hand")
    return {"host": host, "port": port, "transport": proto, "stopped_pids": pids, "signal": signal,
            "units": sorted({u for u in units.values() if u}),
            "listeners": [line.split()[3] if len(line.split()) > 3 else line for line in lines]}


def _probe(ctx: ActionContext, params: dict) -> dict | None:
    port, proto = _port(params)
    lines, _ = _ss(ctx, params["host"], port, proto)
    return None if lines else {"host": params["host"], "port": port, "transport": proto, "already": True}


STOP_LISTENER = Action(name="stop_listener",
                       doc="Stop the processes listening on a port (SIGTERM, SIGKILL after a grace period), "
                           "then check that it stays closed.",
                       required=("host", "port"), optional=("transport", "grace_seconds", "settle_seconds"), dry_run=True, destructive=True,
                       run=_stop, probe=_probe)
