"""The primitives drills use on a running range: services, AV and backup states, SSH brute force.

Plain functions over the Range's public API (``Range.service`` and the others call them); each
acts on one host of that range only, and writes files only through the range's guard
(``Range.drop_file`` / ``append_log``: inside the host's own /var, /run, /dev, no symbolic links).
"""

from __future__ import annotations

import os
import time
from dataclasses import replace
from typing import TYPE_CHECKING

import paramiko

from findings.errors import RuntimeFailure, UsageError
from findings.support.netns import connect_in_netns

from . import services, state
from .spec import AntivirusSpec, BackupSpec, ServiceSpec

if TYPE_CHECKING:  # annotations only: range.py imports this module, never the other way round
    from .range import Range

CLAMD = ["setsid", "-f", "clamd", "-c", "/var/lib/citysec-range/clamd.conf"]
CLAMD_LOG_GROUP = ("for i in $(seq 1 150); do [ -S /run/clamav/clamd.ctl ] && break; sleep 0.2; done; "
                   "chgrp adm /var/log/clamav/clamav.log && chmod 0640 /var/log/clamav/clamav.log")
SIGNATURES = "/var/lib/clamav/daily.cud"


def service(rng: Range, host: str, name: str, action: str) -> None:
    """Start or stop a listener (or ``clamd``) on ``host``; returns once its port (or clamd's
    process) is in the state asked for."""
    if action not in ("start", "stop"):
        raise UsageError(f"action {action!r}: start or stop")
    ip = rng.host(host).ip
    if name == "clamd":
        argvs = [CLAMD] if action == "start" else [["pkill", "-x", "clamd"]]
    elif name == "ssh":
        argvs = [["/usr/sbin/sshd", "-f", "/var/lib/citysec-range/ssh/sshd_config"]] if action == "start" \
            else services.stop_argv(ip, ServiceSpec("ssh", 22))
    else:
        svc = rng.service_spec(host, name)
        if svc.name == "snmp" and action == "start":
            _ensure_snmp_conf(rng, host, svc)
        argvs = services.start_argv(ip, svc) if action == "start" else services.stop_argv(ip, svc)
    for argv in argvs:
        rc, err = rng.spawn(host, argv)
        if rc != 0 and not (action == "stop" and rc == 1):
            raise RuntimeFailure(f"{host}: {action} {name}: {' '.join(argv[:3])}: exit {rc}: {err.strip()[:300]}")
    if name == "clamd" and action == "start":
        # clamd running as root chowns its log to root:root at start; give it back to group adm
        # (as Debian's logrotate does) once clamd is up, so the collection account reads it.
        rng.exec(host, ["sh", "-c", CLAMD_LOG_GROUP], timeout=60)
    elif name == "clamd":
        # pkill only signals: the stop is done when no clamd is left (a check right after sees it)
        deadline = time.monotonic() + 15
        while service_running(rng, host, "clamd"):
            if time.monotonic() > deadline:
                raise RuntimeFailure(f"{host}: stop clamd: still running after 15 s")
            time.sleep(0.1)
    else:
        # daemons bind (or let go of) their port after the start command returns: the inject is
        # done when the port is in the state it asked for, so a probe right after sees it
        port = 22 if name == "ssh" else rng.service_spec(host, name).port
        if not wait_port(rng, host, port, listening=action == "start", udp=name == "snmp"):
            raise RuntimeFailure(f"{host}: {action} {name}: port {port} did not "
                                 f"{'open' if action == 'start' else 'close'} within 15 s")


def listening(rng: Range, host: str, port: int, *, udp: bool = False) -> bool:
    """Whether a process inside ``host`` listens on ``port``."""
    return bool(rng.exec(host, ["ss", "-Hln" + ("u" if udp else "t"), f"sport = :{port}"]).stdout.strip())


def wait_port(rng: Range, host: str, port: int, *, listening: bool = True, udp: bool = False,
              seconds: float = 15) -> bool:
    """Wait until ``port`` on ``host`` listens (or, ``listening=False``, no longer does); False
    when it did not within ``seconds``."""
    deadline = time.monotonic() + seconds
    while rng.listening(host, port, udp=udp) != listening:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def _ensure_snmp_conf(rng: Range, host: str, svc: ServiceSpec) -> None:
    conf = "/var/lib/citysec-range/snmpd.conf"
    if rng.file_status(host, conf) is None:
        h = rng.host(host)
        rng.drop_file(host, conf, f"agentAddress udp:{h.ip}:{svc.port}\nrocommunity {svc.community} default\n"
                                  f"sysName {h.name}\n")


def config_files(rng: Range, host: str, name: str) -> dict[str, str]:
    """The configuration files (path inside the host → text) service ``name`` reads when ``host``
    does not describe it (a described service has its own, written at ``up``)."""
    h, port = rng.host(host), rng.service_spec(host, name).port
    out = {}
    if name in services.LIGHTTPD:
        root, bind, lport = services.LIGHTTPD[name](h.ip, port)
        out[f"{services.D}/lighttpd-{name}.conf"] = services.LIGHTTPD_CONF.format(root=root, bind=bind, port=lport,
                                                                                  name=name)
    if name == "snmp":
        out[f"{services.D}/snmpd.conf"] = f"agentAddress udp:{h.ip}:{port}\nrocommunity public default\nsysName {host}\n"
    return out


def write_config(rng: Range, host: str, name: str) -> list[str]:
    """Write the missing configuration files of ``name`` on ``host``; returns the paths written."""
    written = []
    for path, text in config_files(rng, host, name).items():
        if rng.file_status(host, path) is None:
            rng.drop_file(host, path, text)
            written.append(path)
    return written


def service_running(rng: Range, host: str, name: str) -> bool:
    """Whether ``name`` (a service, ``ssh`` or ``clamd``) runs on ``host``."""
    if name == "clamd":
        return rng.exec(host, ["pgrep", "-x", "clamd"]).returncode == 0
    svc = rng.service_spec(host, name) if name != "ssh" else ServiceSpec("ssh", 22)
    return rng.exec(host, services.running_argv(rng.host(host).ip, svc)).returncode == 0


def set_antivirus(rng: Range, host: str, state_: str | dict) -> None:
    """``running`` / ``stopped`` (clamd), or a mapping {installed, daemon, signature_age_hours}
    that rewrites the signature database with that age (installed: false removes it)."""
    if state_ in ("running", "stopped"):
        service(rng, host, "clamd", "start" if state_ == "running" else "stop")
        return
    if not isinstance(state_, dict):
        raise UsageError(f"antivirus state {state_!r}: running, stopped, or a mapping")
    av = AntivirusSpec(**{"installed": True, "daemon": True, "signature_age_hours": 6.0, **state_})
    service(rng, host, "clamd", "stop")
    if not av.installed:
        rng.remove_file(host, SIGNATURES)
        return
    built = time.time() - av.signature_age_hours * 3600
    with open(state.signature_db(os.path.join(rng.state_dir, "cache", "clamav"), built), "rb") as src:
        rng.drop_file(host, SIGNATURES, src.read(), mtime=built)
    if av.daemon:
        service(rng, host, "clamd", "start")


def set_backup(rng: Range, host: str, state_: str) -> None:
    """``failing``: the job fails now (log line); ``ok``: a new snapshot (restic) or file now."""
    b = rng.host(host).spec.backup or BackupSpec("files")
    now = time.time()
    if state_ == "failing":
        lines = state.backup_log_lines(host, replace(b, snapshots_hours_ago=(), files=(), failing=True), now)
        rng.append_log(host, "/var/log/backup.log", lines[-3:])
    elif state_ == "ok":
        if b.method == "restic":
            rng.exec(host, state.restic_commands(host, replace(b, snapshots_hours_ago=(0,)), now)[1],
                     timeout=120, check=True)
        else:
            state.write_files_backup(rng.host_path(host, "/var/backups").rsplit("/", 1)[0], host,
                                     replace(b, files=((0, 4096),)), now)
        rng.append_log(host, "/var/log/backup.log", state.backup_log_lines(
            host, replace(b, snapshots_hours_ago=(0,), files=(), failing=False), now))
    else:
        raise UsageError(f"backup state {state_!r}: failing or ok")


def restic_snapshot(rng: Range, host: str, hours_ago: float = 0) -> None:
    """A restic snapshot of ``host``'s data dated ``hours_ago`` (its description must use restic)."""
    b = rng.host(host).spec.backup
    if b is None or b.method != "restic":
        raise UsageError(f"{host}: its description has no restic backup")
    rng.exec(host, state.restic_commands(host, replace(b, snapshots_hours_ago=(hours_ago,)), time.time())[1],
             timeout=120, check=True)


def brute_force(rng: Range, attacker_host: str, target_ip: str, user: str = "admin", attempts: int = 10) -> int:
    """Real SSH password failures from ``attacker_host`` against ``target_ip``; returns the count
    once the target's auth log holds them (sshd -> syslogd -> file is asynchronous), or after 15 s."""
    target = next((h for h in rng.hosts if h.ip == target_ip), None)
    if target is None:
        raise UsageError(f"{target_ip} is not a host of range {rng.name}")
    attacker = rng.host(attacker_host)
    trace = f"{user} from {attacker.ip} port "
    logged_before = _count_failures(rng, target.name, trace)
    failures = 0
    while failures < attempts:
        transport = paramiko.Transport(connect_in_netns(attacker.netns, target_ip, 22, timeout=10))
        try:
            transport.start_client(timeout=10)
            for _ in range(min(5, attempts - failures)):
                try:
                    transport.auth_password(user, f"wrong-{failures}")
                except paramiko.AuthenticationException:
                    failures += 1
                else:
                    raise RuntimeFailure(f"brute force: a wrong password was accepted on {target_ip}")
        finally:
            transport.close()
    deadline = time.monotonic() + 15
    while _count_failures(rng, target.name, trace) - logged_before < failures and time.monotonic() < deadline:
        time.sleep(0.1)
    return failures


def _count_failures(rng: Range, host: str, trace: str) -> int:
    data = rng.read_file(host, "/var/log/auth.log") or b""
    return sum(1 for line in data.decode(errors="replace").splitlines()
               if "Failed password for" in line and trace in line)
