"""Technical injects of a drill: changes made on the range, each undone and the undoing verified.

Every type in ``KINDS`` offers the same interface (``InjectKind``):

- ``check(params)`` → ``[(key, message)]``: validation, pure (no range); unknown keys are refused.
- ``targets(params)`` → the range host names (for ``rogue_host``: the address) it acts on;
  ``scope_check(rng, kind, params)`` refuses, before anything acts, a target that is not a host or
  network of the range, or lies outside 198.18.0.0/15.
- ``apply(rng, params)`` → ``facts``: makes the change; the JSON-serialisable facts (what was there
  before, what was saved where) are kept by the runner and passed to the other methods.
- ``applied(rng, params, facts)`` → whether the change is present now (after a crash, an inject
  whose effect is already there is not sent twice). ``apply`` on an applied inject does no harm.
- ``cleanup(rng, params, facts)``: undoes it; ``verify(rng, params, facts)`` → what still differs
  from the range's description, one line per difference naming the host (empty: equal again).
- ``describe(params)``: one line for the MSEL table and the timeline.

After a crash the runner may have lost the facts of an inject it was sending: ``applied``,
``cleanup`` and ``verify`` also work with ``facts == {}`` (they read the description and what the
inject keeps in the range's state folder), and ``apply`` again on an applied inject returns the
facts of the first time where they matter (deface: the original page; rogue_host: the device).

Files are written only below a host's own ``/var`` (everything else in a range host is the
machine's own file system). Logs a drill produced (auth.log, clamav.log, backup.log) are history:
cleanup leaves them, as on a real network.

Types (defaults in brackets):

``eicar`` — ``host``, ``path`` [/var/lib/citysec-data/documents/hoa-don.exe], ``scan`` [true].
  Drops the EICAR test file; with ``scan`` the host's clamd scans the file's folder as its
  scheduled scan does (``CONTSCAN`` on /run/clamav/clamd.ctl), which writes the detection to the
  host's clamav.log (skipped when clamd is not running, as on a host whose antivirus is off).
  Facts: path, sha256, folders created, the scanner's answer. Cleanup removes the file and the
  folders it created; verify: the file is absent.
``service`` — ``host``, ``service`` (telnet, ftp, http, http-admin, https, smb, rdp, vnc, mysql,
  postgresql, redis, snmp, elasticsearch, docker-api), ``action`` [start] or stop (stop only for a
  service the host's description lists). Facts: port, whether it listened before, configuration
  files written for it. Cleanup: listening again iff the description lists it; verify the same.
``antivirus`` — ``host``, ``state``: stopped (clamd stopped) or stale with
  ``signature_age_hours`` (≥ 73; clamd keeps running if it ran). Facts: clamd running before, the
  database's age before. Cleanup: the database rebuilt with the described age (not a fresh one)
  and clamd running iff described; verify: clamd running iff described, database age at most
  the described one (plus the time since ``up``, plus slack).
``backup`` — ``host``, ``state``: failing (the job's log ends with a fatal error and
  ``backup finished: FAILED``) or aged with ``hours`` (the newest backup becomes older than that:
  restic snapshots newer are forgotten with ``restic forget``; archive files newer are moved aside
  into the range's state folder). Facts: the forgotten snapshots (id, time) or the moved files.
  Cleanup: failing and restic-aged → a fresh backup now (and an OK log line); files-aged → the
  files moved back (same mtime). Verify: the newest backup is no older than described (or fresh)
  and the backup log's last line is OK (unless the description has the job failing).
``brute_force`` — ``attacker``, ``target`` (hosts), ``user`` [admin], ``attempts`` [10],
  ``success`` [false]. Real failed SSH password logins from the attacker's namespace; with
  ``success`` the attacker then logs in for real as a compromised account (the range's operator
  key, user citysec, host key checked) and runs ``id``. Returns once the target's auth.log holds
  the lines. Facts: addresses, counts of matching log lines before. Cleanup: no SSH session of the
  attacker's address stays open on the target (leftover sshd session processes are killed);
  verify: none established. The log lines stay (history).
``rogue_host`` — ``agency``, ``ip``: an unregistered device (sshd) plugged into the agency's
  network (``Range.add_rogue``). Facts: its name and namespace. Cleanup: ``Range.remove_rogue``;
  verify: namespace gone, address not configured anywhere, not in the range's state.
``deface`` — ``host``, ``path`` [/var/www/html/index.html], ``content`` [a defacement page].
  Facts: sha256 and mode of the original, where its copy is kept (range state folder). Cleanup
  restores it byte for byte (mode and owner too); verify: sha256 and mode equal the original's.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import json
import os
import re
import shutil
import time
from dataclasses import replace
from datetime import datetime
from typing import Any, ClassVar

import paramiko

from exercises.range import net, services, state
from exercises.range.spec import RANGE_BLOCK, SERVICES
from exercises.range.state import EICAR
from findings.errors import RuntimeFailure, UsageError
from findings.support.netns import connect_in_netns

REQUIRED = object()
SLACK_H = 0.25  # tolerance on ages (hours): commands take time between "now" and the check
DEFACED = ("<!doctype html><html><head><title>Hacked</title></head><body>"
           "<h1>HACKED BY citysec drill</h1><p>This site has been defaced (exercise inject).</p></body></html>\n")
CLAMD_SOCKET = "UNIX-CONNECT:/run/clamav/clamd.ctl"
INJECT_SERVICES = tuple(s for s in SERVICES if s != "ssh")


# ----- small helpers shared by the kinds
def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _elapsed_h(rng) -> float:
    """Hours since the range came up (ages in its description are relative to that moment)."""
    since = rng._read_state().get("up_since")
    return (time.time() - since) / 3600 if since else 0.0


def _path_problem(path: Any) -> str | None:
    if not isinstance(path, str) or not path.startswith("/var/"):
        return f"expected an absolute path under /var (the host's own folder), got {path!r}"
    parts = path.split("/")
    if ".." in parts or "." in parts or "" in parts[1:] or parts[2] in ("run", "lock"):
        return f"{path!r}: no '..', '.', '//' or trailing '/', and not under /var/run or /var/lock"
    return None


def _real(rng, host: str, path: str) -> str:
    """The path on the machine of ``path`` inside ``host``; refuses symbolic links on the way (they
    would resolve in the machine's file system, not the host's)."""
    if (problem := _path_problem(path)):
        raise UsageError(f"{host}: {problem}")
    real = rng._host_path(host, path)
    root = real[: len(real) - len(path)]
    walk = root
    for part in path.strip("/").split("/"):
        walk = os.path.join(walk, part)
        if os.path.islink(walk):
            raise UsageError(f"{host}: {path}: {walk[len(root):]} is a symbolic link")
    return real


def _read(real: str) -> bytes | None:
    try:
        with open(real, "rb") as fh:
            return fh.read()
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise UsageError(f"{real.split('/root', 1)[-1]} is a folder, not a file") from None


def _missing_dirs(rng, host: str, path: str) -> list[str]:
    """The folders (inside the host) above ``path`` that do not exist yet, deepest first."""
    out, parent = [], os.path.dirname(path)
    while parent not in ("/", "/var") and not os.path.isdir(rng._host_path(host, parent)):
        out.append(parent)
        parent = os.path.dirname(parent)
    return out


def _remove_dirs(rng, host: str, dirs: list[str]) -> None:
    for d in dirs:  # deepest first; only when empty (something else may have been put there)
        try:
            os.rmdir(rng._host_path(host, d))
        except OSError:  # gone already, or not empty
            pass


class InjectKind:
    """One type of technical inject; subclasses set ``name``, ``schema`` and the range methods."""

    name = ""
    # key -> (accepted types, default or REQUIRED, what to say when the type is wrong)
    schema: ClassVar[dict[str, tuple[tuple[type, ...], Any, str]]] = {}

    def check(self, params: dict) -> list[tuple[str, str]]:
        if not isinstance(params, dict):
            return [("", f"expected a mapping of parameters, got {type(params).__name__}")]
        problems = [(k, f"unknown key (allowed: {', '.join(sorted(self.schema))})")
                    for k in params if k not in self.schema]
        for key, (types, default, what) in self.schema.items():
            if key not in params:
                if default is REQUIRED:
                    problems.append((key, "required"))
                continue
            value = params[key]
            if (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
                problems.append((key, f"expected {what}, got {value!r}"))
        return problems or self._check(self.resolved(params))

    def _check(self, p: dict) -> list[tuple[str, str]]:
        return []

    def resolved(self, params: dict) -> dict:
        return {k: params.get(k, d) for k, (_, d, _) in self.schema.items() if k in params or d is not REQUIRED}

    def params(self, params: dict) -> dict:
        """Checked parameters with defaults; UsageError naming every problem."""
        problems = self.check(params)
        if problems:
            raise UsageError(f"inject {self.name}: " + "; ".join(f"{k or '.'}: {m}" for k, m in problems))
        return self.resolved(params)

    def targets(self, params: dict) -> list[str]:
        return [params["host"]] if isinstance(params, dict) and isinstance(params.get("host"), str) else []

    def apply(self, rng, params: dict) -> dict:
        raise NotImplementedError

    def applied(self, rng, params: dict, facts: dict) -> bool:
        raise NotImplementedError

    def cleanup(self, rng, params: dict, facts: dict) -> None:
        raise NotImplementedError

    def verify(self, rng, params: dict, facts: dict) -> list[str]:
        raise NotImplementedError

    def describe(self, params: dict) -> str:
        raise NotImplementedError


STR, BOOL, NUM, INT = (str,), (bool,), (int, float), (int,)


# ----- eicar
class Eicar(InjectKind):
    name = "eicar"
    schema: ClassVar[dict] = {"host": (STR, REQUIRED, "a host name"),
              "path": (STR, "/var/lib/citysec-data/documents/hoa-don.exe", "an absolute path"),
              "scan": (BOOL, True, "true or false")}

    def _check(self, p):
        return [("path", m)] if (m := _path_problem(p["path"])) else []

    def apply(self, rng, params):
        p = self.params(params)
        host, path = rng.host(p["host"]).name, p["path"]
        real = _real(rng, host, path)
        before = _read(real)
        if before not in (None, EICAR.encode()):
            raise UsageError(f"{host}: {path} exists; an eicar inject does not overwrite a file")
        created = _missing_dirs(rng, host, path)
        rng.drop_file(host, path, EICAR)
        facts = {"path": path, "sha256": _sha(EICAR.encode()), "created_dirs": created, "scan": None}
        if p["scan"] and rng.service_running(host, "clamd"):
            facts["scan"] = self._scan(rng, host, os.path.dirname(path))
        return facts

    @staticmethod
    def _scan(rng, host: str, folder: str) -> str:
        proc = rng.exec(host, ["socat", "-", CLAMD_SOCKET], input=f"CONTSCAN {folder}\n", timeout=120)
        if proc.returncode != 0:
            raise RuntimeFailure(f"{host}: clamd scan of {folder}: exit {proc.returncode}: {proc.stderr.strip()[:300]}")
        return proc.stdout.strip()

    def applied(self, rng, params, facts):
        p = self.resolved(params)
        return _read(_real(rng, rng.host(p["host"]).name, p["path"])) == EICAR.encode()

    def cleanup(self, rng, params, facts):
        p = self.resolved(params)
        host = rng.host(p["host"]).name
        real = _real(rng, host, p["path"])
        if os.path.lexists(real):
            os.remove(real)
        _remove_dirs(rng, host, facts.get("created_dirs", []))

    def verify(self, rng, params, facts):
        p = self.resolved(params)
        host = rng.host(p["host"]).name
        out = [f"{host}: {p['path']} still exists"] if os.path.lexists(_real(rng, host, p["path"])) else []
        return out + [f"{host}: folder {d} (created by the inject) still exists"
                      for d in facts.get("created_dirs", []) if os.path.isdir(rng._host_path(host, d))]

    def describe(self, params):
        p = self.resolved(params)
        scan = ", scanned by the host's clamd" if p.get("scan", True) else ""
        return f"EICAR test file dropped at {p.get('path')} on {p.get('host')}{scan}"


# ----- service
def _lighttpd_conf(svc: str, ip: str, port: int) -> str:
    root, bind, lport = services.LIGHTTPD[svc](ip, port)
    return services.LIGHTTPD_CONF.format(root=root, bind=bind, port=lport, name=svc)


class Service(InjectKind):
    name = "service"
    schema: ClassVar[dict] = {"host": (STR, REQUIRED, "a host name"), "service": (STR, REQUIRED, "a service name"),
              "action": (STR, "start", "start or stop")}

    def _check(self, p):
        out = []
        if p["service"] not in INJECT_SERVICES:
            out.append(("service", f"expected one of {', '.join(INJECT_SERVICES)}, got {p['service']!r}"))
        if p["action"] not in ("start", "stop"):
            out.append(("action", f"expected start or stop, got {p['action']!r}"))
        return out

    @staticmethod
    def _where(rng, p: dict) -> tuple[str, int, bool, bool]:
        """(host, port, udp, described) of the inject's service."""
        h = rng.host(p["host"])
        port = rng._service_spec(h.name, p["service"]).port
        return h.name, port, p["service"] == "snmp", p["service"] in h.services

    @staticmethod
    def _leftovers(rng, host: str, svc: str, described: bool, facts: dict) -> list[str]:
        """Configuration files the inject wrote that still exist (a described service keeps its own)."""
        if described:
            return []
        names = [f"lighttpd-{svc}.conf"] if svc in services.LIGHTTPD else ["snmpd.conf"] if svc == "snmp" else []
        paths = set(facts.get("created_files", [])) | {f"{services.D}/{n}" for n in names}
        return sorted(x for x in paths if os.path.exists(rng._host_path(host, x)))

    def _config_files(self, rng, host: str, svc: str, port: int) -> list[str]:
        """Write the configuration a service the host does not describe needs; returns what was written."""
        h = rng.host(host)
        files = {}
        if svc in services.LIGHTTPD:
            files[f"{services.D}/lighttpd-{svc}.conf"] = _lighttpd_conf(svc, h.ip, port)
        if svc == "snmp":
            files[f"{services.D}/snmpd.conf"] = f"agentAddress udp:{h.ip}:{port}\nrocommunity public default\nsysName {host}\n"
        written = []
        for path, text in files.items():
            if not os.path.exists(rng._host_path(host, path)):
                rng.drop_file(host, path, text)
                written.append(path)
        return written

    def apply(self, rng, params):
        p = self.params(params)
        host, port, udp, described = self._where(rng, p)
        if p["action"] == "stop" and not described:
            raise UsageError(f"{host}: its description does not run {p['service']}: nothing to stop")
        was = rng.listening(host, port, udp=udp)
        facts = {"port": port, "udp": udp, "was_listening": was, "described": described, "created_files": []}
        if p["action"] == "start" and not was:
            facts["created_files"] = self._config_files(rng, host, p["service"], port)
            rng.service(host, p["service"], "start")
        elif p["action"] == "stop" and was:
            rng.service(host, p["service"], "stop")
        return facts

    def applied(self, rng, params, facts):
        p = self.resolved(params)
        host, port, udp, _ = self._where(rng, p)
        return rng.listening(host, port, udp=udp) == (p["action"] == "start")

    def cleanup(self, rng, params, facts):
        p = self.resolved(params)
        host, port, udp, described = self._where(rng, p)
        if rng.listening(host, port, udp=udp) != described:
            rng.service(host, p["service"], "start" if described else "stop")
        for path in self._leftovers(rng, host, p["service"], described, facts):
            os.remove(rng._host_path(host, path))

    def verify(self, rng, params, facts):
        p = self.resolved(params)
        host, port, udp, described = self._where(rng, p)
        out = []
        if rng.listening(host, port, udp=udp) != described:
            state_ = "does not listen" if described else "listens"
            out.append(f"{host}: {p['service']} ({'udp' if udp else 'tcp'}/{port}) {state_}; "
                       f"the description says {'running' if described else 'not running'}")
        return out + [f"{host}: {path} (written by the inject) still exists"
                      for path in self._leftovers(rng, host, p["service"], described, facts)]

    def describe(self, params):
        p = self.resolved(params)
        verb = "started" if p.get("action", "start") == "start" else "stopped"
        return f"service {p.get('service')} {verb} on {p.get('host')}"


# ----- antivirus
DB = "/var/lib/clamav/daily.cud"


def _db_age_h(rng, host: str) -> float | None:
    try:
        return (time.time() - os.stat(rng._host_path(host, DB)).st_mtime) / 3600
    except FileNotFoundError:
        return None


class Antivirus(InjectKind):
    name = "antivirus"
    schema: ClassVar[dict] = {"host": (STR, REQUIRED, "a host name"), "state": (STR, REQUIRED, "stopped or stale"),
              "signature_age_hours": (NUM, None, "a number of hours")}

    def _check(self, p):
        age = p.get("signature_age_hours")
        if p["state"] not in ("stopped", "stale"):
            return [("state", f"expected stopped or stale, got {p['state']!r}")]
        if p["state"] == "stale" and age is None:
            return [("signature_age_hours", "required when state is stale")]
        if p["state"] == "stale" and age < 73:
            return [("signature_age_hours", f"expected at least 73 (older than the 72 h policy), got {age!r}")]
        if p["state"] == "stopped" and age is not None:
            return [("signature_age_hours", "only with state stale")]
        return []

    @staticmethod
    def _described(rng, host: str):
        av = rng.host(host).spec.antivirus
        if av is None or not av.installed:
            raise UsageError(f"{host}: its description has no antivirus (nothing to stop or age)")
        return av

    def apply(self, rng, params):
        p = self.params(params)
        host = rng.host(p["host"]).name
        self._described(rng, host)
        running = rng.service_running(host, "clamd")
        facts = {"clamd_was_running": running, "signature_age_hours_before": _db_age_h(rng, host)}
        if p["state"] == "stopped":
            if running:
                rng.set_antivirus(host, "stopped")
        else:
            rng.set_antivirus(host, {"signature_age_hours": float(p["signature_age_hours"]), "daemon": running})
        return facts

    def applied(self, rng, params, facts):
        p = self.resolved(params)
        host = rng.host(p["host"]).name
        if p["state"] == "stopped":
            return not rng.service_running(host, "clamd")
        age = _db_age_h(rng, host)
        return age is not None and age >= float(p["signature_age_hours"]) - SLACK_H

    def cleanup(self, rng, params, facts):
        p = self.resolved(params)
        host = rng.host(p["host"]).name
        av = self._described(rng, host)
        if p["state"] == "stale":  # the described database again (its age counted from `up`)
            age = av.signature_age_hours + _elapsed_h(rng)
            rng.set_antivirus(host, {"signature_age_hours": age, "daemon": av.daemon})
        running = rng.service_running(host, "clamd")
        if running != av.daemon:
            rng.set_antivirus(host, "running" if av.daemon else "stopped")

    def verify(self, rng, params, facts):
        host = rng.host(self.resolved(params)["host"]).name
        av = self._described(rng, host)
        out = []
        if rng.service_running(host, "clamd") != av.daemon:
            out.append(f"{host}: clamd is {'not ' if av.daemon else ''}running; "
                       f"the description says {'running' if av.daemon else 'stopped'}")
        age, allowed = _db_age_h(rng, host), av.signature_age_hours + _elapsed_h(rng) + SLACK_H
        if age is None:
            out.append(f"{host}: no signature database {DB}")
        elif age > allowed:
            out.append(f"{host}: signature database is {age:.1f} h old; the description says "
                       f"{av.signature_age_hours:g} h at up (now at most {allowed:.1f} h)")
        return out

    def describe(self, params):
        p = self.resolved(params)
        if p.get("state") == "stale":
            return f"antivirus signatures on {p.get('host')} made {p.get('signature_age_hours')} h old"
        return f"antivirus daemon (clamd) stopped on {p.get('host')}"


# ----- backup
RESTIC = ["restic", "--no-cache", "-q", "-r", "/var/backups/restic", "--password-file", "/var/backups/restic.pass"]


def _restic_time(text: str) -> float:
    """restic's RFC 3339 time (nanoseconds, Z or an offset) as a Unix time."""
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$", text)
    if not m:
        raise RuntimeFailure(f"restic: unexpected snapshot time {text!r}")
    frac = float(m.group(2) or 0)
    return datetime.fromisoformat(m.group(1) + m.group(3).replace("Z", "+00:00")).timestamp() + frac


def _snapshots(rng, host: str) -> list[dict]:
    proc = rng.exec(host, RESTIC + ["snapshots", "--json"], timeout=120, check=True)
    return [{"id": s["id"], "time": _restic_time(s["time"])} for s in json.loads(proc.stdout or "[]")]


def _archives(rng, host: str) -> list[tuple[str, float]]:
    """(file name, mtime) of the host's archive backups in /var/backups."""
    folder = rng._host_path(host, "/var/backups")
    names = [n for n in os.listdir(folder) if n.startswith(f"{host}-") and n.endswith(".tar.gz")]
    return [(n, os.stat(os.path.join(folder, n)).st_mtime) for n in names]


def _newest_age_h(rng, host: str, method: str) -> float | None:
    times = [s["time"] for s in _snapshots(rng, host)] if method == "restic" else [t for _, t in _archives(rng, host)]
    return (time.time() - max(times)) / 3600 if times else None


def _last_backup_line(rng, host: str) -> str:
    data = _read(rng._host_path(host, "/var/log/backup.log")) or b""
    lines = [ln for ln in data.decode(errors="replace").splitlines() if "backup finished" in ln]
    return lines[-1] if lines else ""


class Backup(InjectKind):
    name = "backup"
    schema: ClassVar[dict] = {"host": (STR, REQUIRED, "a host name"), "state": (STR, REQUIRED, "failing or aged"),
              "hours": (NUM, None, "a number of hours")}

    def _check(self, p):
        if p["state"] not in ("failing", "aged"):
            return [("state", f"expected failing or aged, got {p['state']!r}")]
        if p["state"] == "aged" and p.get("hours") is None:
            return [("hours", "required when state is aged")]
        if p["state"] == "aged" and p["hours"] <= 0:
            return [("hours", f"expected a positive number of hours, got {p['hours']!r}")]
        if p["state"] == "failing" and p.get("hours") is not None:
            return [("hours", "only with state aged")]
        return []

    @staticmethod
    def _described(rng, host: str):
        b = rng.host(host).spec.backup
        if b is None:
            raise UsageError(f"{host}: its description has no backup")
        return b

    def _aside(self, rng, host: str) -> str:
        return os.path.join(rng.state_dir, "injects", "backup-aside", host)

    def apply(self, rng, params):
        p = self.params(params)
        host = rng.host(p["host"]).name
        b = self._described(rng, host)
        if p["state"] == "failing":
            if "FAILED" not in _last_backup_line(rng, host):
                rng.set_backup(host, "failing")
            return {"method": b.method}
        cutoff = time.time() - float(p["hours"]) * 3600
        if b.method == "restic":
            newer = [s for s in _snapshots(rng, host) if s["time"] > cutoff]
            if newer:
                rng.exec(host, RESTIC + ["forget", *[s["id"] for s in newer]], timeout=120, check=True)
            backdated = not any(s["time"] <= cutoff for s in _snapshots(rng, host))
            if backdated:   # nothing that old: the job's last run, N hours ago, is the newest snapshot
                rng.exec(host, state.restic_commands(host, replace(b, snapshots_hours_ago=(float(p["hours"]),)),
                                                     time.time())[1], timeout=120, check=True)
            return {"method": "restic", "forgotten": newer, "backdated": backdated}
        aside = self._aside(rng, host)
        os.makedirs(aside, exist_ok=True)
        moved = [n for n, t in _archives(rng, host) if t > cutoff]
        for n in moved:
            shutil.move(os.path.join(rng._host_path(host, "/var/backups"), n), os.path.join(aside, n))
        return {"method": "files", "moved": moved, "aside": aside}

    def applied(self, rng, params, facts):
        p = self.resolved(params)
        host = rng.host(p["host"]).name
        if p["state"] == "failing":
            return "FAILED" in _last_backup_line(rng, host)
        age = _newest_age_h(rng, host, self._described(rng, host).method)
        return age is None or age >= float(p["hours"]) - SLACK_H

    def cleanup(self, rng, params, facts):
        p = self.resolved(params)
        host = rng.host(p["host"]).name
        b = self._described(rng, host)
        if p["state"] == "failing" or b.method == "restic":
            rng.set_backup(host, "ok")  # a fresh snapshot (or archive) now, and its OK log line
            return
        folder, aside = rng._host_path(host, "/var/backups"), self._aside(rng, host)
        for n in sorted(os.listdir(aside)) if os.path.isdir(aside) else []:
            shutil.move(os.path.join(aside, n), os.path.join(folder, n))

    def verify(self, rng, params, facts):
        host = rng.host(self.resolved(params)["host"]).name
        b = self._described(rng, host)
        described = list(b.snapshots_hours_ago) + [h for h, _ in b.files]
        out, age = [], _newest_age_h(rng, host, b.method)
        if described:
            allowed = min(described) + _elapsed_h(rng) + SLACK_H
            if age is None or age > allowed:
                out.append(f"{host}: newest {b.method} backup is "
                           f"{'missing' if age is None else f'{age:.1f} h old'}; described at most {allowed:.1f} h")
        last = _last_backup_line(rng, host)
        if not b.failing and not last.endswith("backup finished: OK"):
            out.append(f"{host}: backup log's last result is not OK: {last[-120:]!r}")
        aside = self._aside(rng, host)
        missing = set(facts.get("moved", [])) | set(os.listdir(aside) if os.path.isdir(aside) else [])
        missing = sorted(n for n in missing if not os.path.exists(rng._host_path(host, f"/var/backups/{n}")))
        return out + [f"{host}: archive /var/backups/{n} not back in place" for n in missing]

    def describe(self, params):
        p = self.resolved(params)
        if p.get("state") == "aged":
            return f"newest backup on {p.get('host')} made older than {p.get('hours')} h"
        return f"backup job on {p.get('host')} fails"


# ----- brute force
class BruteForce(InjectKind):
    name = "brute_force"
    schema: ClassVar[dict] = {"attacker": (STR, REQUIRED, "a host name"), "target": (STR, REQUIRED, "a host name"),
              "user": (STR, "admin", "a user name"), "attempts": (INT, 10, "a whole number"),
              "success": (BOOL, False, "true or false")}

    def _check(self, p):
        out = []
        if not 1 <= p["attempts"] <= 1000:
            out.append(("attempts", f"expected 1 to 1000, got {p['attempts']}"))
        if not re.match(r"^[a-z_][a-z0-9_.-]{0,31}$", p["user"]):
            out.append(("user", f"expected a user name, got {p['user']!r}"))
        if p["attacker"] == p["target"]:
            out.append(("target", "must differ from attacker"))
        return out

    def targets(self, params):
        return [params[k] for k in ("attacker", "target") if isinstance(params, dict) and isinstance(params.get(k), str)]

    @staticmethod
    def _lines(rng, host: str) -> list[str]:
        return (_read(rng._host_path(host, "/var/log/auth.log")) or b"").decode(errors="replace").splitlines()

    def _failures(self, rng, host: str, user: str, ip: str) -> int:
        trace = f"{user} from {ip} port "
        return sum(1 for ln in self._lines(rng, host) if "Failed password for " in ln and trace in ln)

    def _accepted(self, rng, host: str, ip: str) -> int:
        return sum(1 for ln in self._lines(rng, host) if f"Accepted publickey for citysec from {ip} port " in ln)

    def apply(self, rng, params):
        p = self.params(params)
        atk, tgt = rng.host(p["attacker"]), rng.host(p["target"])
        facts = {"attacker_ip": atk.ip, "target_ip": tgt.ip,
                 "failures_before": self._failures(rng, tgt.name, p["user"], atk.ip),
                 "accepted_before": self._accepted(rng, tgt.name, atk.ip)}
        facts["failures"] = rng.brute_force(atk.name, tgt.ip, p["user"], p["attempts"])
        if p["success"]:
            facts["output"] = _login(rng, atk, tgt)
            deadline = time.monotonic() + 15
            while self._accepted(rng, tgt.name, atk.ip) <= facts["accepted_before"]:
                if time.monotonic() > deadline:
                    raise RuntimeFailure(f"{tgt.name}: the attacker's login is not in auth.log after 15 s")
                time.sleep(0.1)
        return facts

    def applied(self, rng, params, facts):
        p = self.resolved(params)
        atk, tgt = rng.host(p["attacker"]), rng.host(p["target"])
        failed = self._failures(rng, tgt.name, p["user"], atk.ip) - facts.get("failures_before", 0) >= p["attempts"]
        return failed and (not p["success"] or self._accepted(rng, tgt.name, atk.ip) > facts.get("accepted_before", 0))

    @staticmethod
    def _sessions(rng, host: str, ip: str) -> list[str]:
        proc = rng.exec(host, ["ss", "-Htnp", "state", "established", "dst", ip], check=True)
        return [ln for ln in proc.stdout.splitlines() if ln.strip()]

    def cleanup(self, rng, params, facts):
        p = self.resolved(params)
        tgt, ip = rng.host(p["target"]).name, rng.host(p["attacker"]).ip
        for sig in ("TERM", "KILL"):
            pids = {int(x) for ln in self._sessions(rng, tgt, ip) for x in re.findall(r"pid=(\d+)", ln)}
            pids = [pid for pid in pids if not _is_sshd_listener(rng, tgt, pid)]
            if not pids:
                return
            rng.exec(tgt, ["kill", f"-{sig}", *map(str, sorted(pids))])
            deadline = time.monotonic() + 5
            while self._sessions(rng, tgt, ip) and time.monotonic() < deadline:
                time.sleep(0.1)

    def verify(self, rng, params, facts):
        p = self.resolved(params)
        tgt, ip = rng.host(p["target"]).name, rng.host(p["attacker"]).ip
        return [f"{tgt}: connection from the attacker {ip} still established: {' '.join(ln.split()[:4])}"
                for ln in self._sessions(rng, tgt, ip)]

    def describe(self, params):
        p = self.resolved(params)
        end = ", then a successful login as citysec" if p.get("success") else ""
        return (f"SSH brute force from {p.get('attacker')} on {p.get('target')}: "
                f"{p.get('attempts', 10)} failed passwords for {p.get('user', 'admin')}{end}")


def _is_sshd_listener(rng, host: str, pid: int) -> bool:
    """The host's sshd that accepts connections (never killed): its command line names its config."""
    cmd = rng.exec(host, ["cat", f"/proc/{pid}/cmdline"]).stdout.replace("\0", " ")
    return "sshd_config" in cmd


def _login(rng, atk, tgt) -> str:
    """Log in from the attacker's namespace as citysec with the operator key (host key checked); run id."""
    known = rng.host_keys()[tgt.ip]
    transport = paramiko.Transport(connect_in_netns(atk.netns, tgt.ip, 22, timeout=10))
    try:
        transport.start_client(timeout=10)
        key = transport.get_remote_server_key()
        if f"{key.get_name()} {key.get_base64()}" != known:
            raise RuntimeFailure(f"{tgt.name}: host key differs from the range's record")
        transport.auth_publickey("citysec", paramiko.Ed25519Key.from_private_key_file(rng.operator_key))
        chan = transport.open_session(timeout=10)
        chan.settimeout(15)
        chan.exec_command("id")
        out = b""
        while (chunk := chan.recv(4096)):
            out += chunk
        if chan.recv_exit_status() != 0:
            raise RuntimeFailure(f"{tgt.name}: the attacker's command failed")
        return out.decode(errors="replace").strip()
    finally:
        transport.close()


# ----- rogue host
class RogueHost(InjectKind):
    name = "rogue_host"
    schema: ClassVar[dict] = {"agency": (STR, REQUIRED, "an agency id"), "ip": (STR, REQUIRED, "an IPv4 address")}

    def _check(self, p):
        try:
            addr = ipaddress.IPv4Address(p["ip"])
        except ValueError:
            return [("ip", f"expected an IPv4 address, got {p['ip']!r}")]
        return [] if addr in RANGE_BLOCK else [("ip", f"{addr} is outside {RANGE_BLOCK} (the range's block)")]

    def targets(self, params):
        return [params["ip"]] if isinstance(params, dict) and isinstance(params.get("ip"), str) else []

    @staticmethod
    def _present(rng, name: str) -> bool:
        in_state = any(r["name"] == name for r in rng._read_state().get("rogues", []))
        return in_state and net.prefix(rng.name) + name in net.namespaces(rng.name)

    def apply(self, rng, params):
        p = self.params(params)
        for r in rng._read_state().get("rogues", []):  # applied before (a crash): keep it
            if r["ip"] == p["ip"] and r["agency"] == p["agency"] and self._present(rng, r["name"]):
                return {"name": r["name"], "netns": r["netns"]}
        name = rng.add_rogue(p["agency"], p["ip"])
        h = rng.host(name)
        # as a device joining a network does: its first packet (to its gateway) makes the core learn
        # its address, also when a probe before it left a failed neighbour entry there
        gw = rng.spec.network_of(h.ip).gateway
        with contextlib.suppress(OSError):  # the core has no listener: refused, once ARP is done
            connect_in_netns(h.netns, gw, 9, timeout=3).close()
        return {"name": name, "netns": h.netns}

    @staticmethod
    def _name(rng, params: dict, facts: dict) -> str:
        """The device's name: from the facts, else the one add_rogue would give this address."""
        if facts.get("name"):
            return facts["name"]
        ip = params["ip"]
        known = [r["name"] for r in rng._read_state().get("rogues", []) if r["ip"] == ip]
        return known[0] if known else "rogue-" + "-".join(ip.split(".")[2:])

    def applied(self, rng, params, facts):
        return self._present(rng, self._name(rng, params, facts))

    def cleanup(self, rng, params, facts):
        name = self._name(rng, params, facts)
        netns = net.prefix(rng.name) + name
        if netns in net.namespaces(rng.name) or any(r["name"] == name for r in rng._read_state().get("rogues", [])) \
                or name in rng._by_name:
            rng.remove_rogue(name)

    def verify(self, rng, params, facts):
        name, ip = self._name(rng, params, facts), params["ip"]
        out = []
        if net.prefix(rng.name) + name in net.namespaces(rng.name):
            out.append(f"{name}: its namespace {net.prefix(rng.name) + name} still exists")
        used = net.addresses_in_use("\0")  # the machine and every namespace, this range's too
        if ip in used:
            out.append(f"{name}: address {ip} is still configured ({used[ip]})")
        if any(r["name"] == name for r in rng._read_state().get("rogues", [])):
            out.append(f"{name}: still listed in the range's state")
        if name in rng._by_name:
            out.append(f"{name}: still a host of this Range")
        return out

    def describe(self, params):
        return f"unregistered device plugged into {params.get('agency')}'s network at {params.get('ip')}"


# ----- deface
class Deface(InjectKind):
    name = "deface"
    schema: ClassVar[dict] = {"host": (STR, REQUIRED, "a host name"), "path": (STR, "/var/www/html/index.html", "an absolute path"),
              "content": (STR, DEFACED, "text")}

    def _check(self, p):
        return [("path", m)] if (m := _path_problem(p["path"])) else []

    @staticmethod
    def _copy(rng, host: str, path: str) -> str:
        return os.path.join(rng.state_dir, "injects", "deface", host, hashlib.sha256(path.encode()).hexdigest()[:16])

    def apply(self, rng, params):
        p = self.params(params)
        host = rng.host(p["host"]).name
        real, copy = _real(rng, host, p["path"]), self._copy(rng, host, p["path"])
        defaced, before = p["content"].encode(), _read(_real(rng, host, p["path"]))
        if before == defaced and os.path.exists(copy + ".json"):  # applied before: keep the first copy
            with open(copy + ".json") as fh:
                return json.load(fh)
        facts = {"path": p["path"], "existed": before is not None, "sha256_defaced": _sha(defaced),
                 "saved_copy": copy, "created_dirs": _missing_dirs(rng, host, p["path"])}
        if before is not None:
            st = os.stat(real)
            facts.update(sha256_original=_sha(before), mode=st.st_mode & 0o7777, uid=st.st_uid, gid=st.st_gid)
            os.makedirs(os.path.dirname(copy), exist_ok=True)
            with open(copy, "wb") as fh:
                fh.write(before)
        with open(copy + ".json", "w") as fh:
            json.dump(facts, fh)
        rng.drop_file(host, p["path"], defaced, mode=facts.get("mode", 0o644))
        return facts

    def _facts(self, rng, p: dict, facts: dict) -> dict:
        """The facts, or (lost in a crash) the record apply wrote beside the saved copy."""
        record = self._copy(rng, rng.host(p["host"]).name, p["path"]) + ".json"
        if facts or not os.path.exists(record):
            return facts
        with open(record) as fh:
            return json.load(fh)

    def applied(self, rng, params, facts):
        p = self.resolved(params)
        data = _read(_real(rng, rng.host(p["host"]).name, p["path"]))
        return data is not None and _sha(data) == _sha(p["content"].encode())

    def cleanup(self, rng, params, facts):
        p = self.resolved(params)
        host, facts = rng.host(p["host"]).name, self._facts(rng, p, facts)
        real = _real(rng, host, p["path"])
        if not facts:  # no record: apply never got as far as changing the page
            return
        if not facts["existed"]:
            if os.path.lexists(real):
                os.remove(real)
            _remove_dirs(rng, host, facts.get("created_dirs", []))
            return
        if (now := _read(real)) is None or _sha(now) != facts["sha256_original"]:
            original = _read(facts["saved_copy"])
            if original is None or _sha(original) != facts["sha256_original"]:
                raise RuntimeFailure(f"{host}: the saved copy of {p['path']} is missing or altered: not restored")
            with open(real, "wb") as fh:
                fh.write(original)
        os.chown(real, facts["uid"], facts["gid"])
        os.chmod(real, facts["mode"])

    def verify(self, rng, params, facts):
        p = self.resolved(params)
        host, facts = rng.host(p["host"]).name, self._facts(rng, p, facts)
        real = _real(rng, host, p["path"])
        data = _read(real)
        if not facts:
            return [f"{host}: {p['path']} is the defaced page and no copy of the original is kept"] \
                if self.applied(rng, params, facts) else []
        if not facts["existed"]:
            return [f"{host}: {p['path']} (created by the inject) still exists"] if data is not None else []
        if data is None:
            return [f"{host}: {p['path']} is missing"]
        out, mode = [], os.stat(real).st_mode & 0o7777
        if _sha(data) != facts["sha256_original"]:
            out.append(f"{host}: {p['path']} differs from the original (sha256 {_sha(data)[:12]}...)")
        if mode != facts["mode"]:
            out.append(f"{host}: {p['path']} has mode {mode:o}, the original {facts['mode']:o}")
        return out

    def describe(self, params):
        return f"web page {params.get('path', '/var/www/html/index.html')} on {params.get('host')} defaced"


KINDS: dict[str, InjectKind] = {k.name: k for k in
                                (Eicar(), Service(), Antivirus(), Backup(), BruteForce(), RogueHost(), Deface())}


# ----- scope guard
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


def scope_check(rng, kind: str | InjectKind, params: dict, approved: set[str] | frozenset = frozenset()) -> list[str]:
    """Problems if the inject would act on anything but this range (call before ``apply``; it reads
    the range's description only, nothing acts). A target is a host of the range whose address is
    in one of the range's networks, or (rogue_host) an address in one of the agency's networks;
    ``approved`` adds addresses or networks (CIDR) the drill's plan approved beyond the described
    networks, but nothing outside 198.18.0.0/15 passes, approved or not."""
    k = KINDS.get(kind) if isinstance(kind, str) else kind
    if k is None:
        return [f"unknown inject type {kind!r} (known: {', '.join(KINDS)})"]
    problems = [f"{key or '.'}: {msg}" for key, msg in k.check(params)]
    for target in k.targets(params):
        if k.name == "rogue_host":
            problems += _rogue_problems(rng, params, approved)
            continue
        host = rng._by_name.get(target)
        if host is None:
            problems.append(f"{target!r} is not a host of range {rng.name}")
        elif (msg := _address_problem(rng, host.ip, approved)):
            problems.append(f"{target}: {msg}")
    return problems
