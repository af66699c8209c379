"""The Range: bring a described city network up and down, run commands in its hosts.

Its public API is what drills, tests and the command need: lookups (``host``, ``find_host``,
``hosts``, ``service_spec``), paths inside a host (``host_path``, ``var_dir``) and the one guarded
way to touch files there (``drop_file``, ``append_log``, ``read_file``, ``file_status``,
``remove_file``, ``remove_dir``), its recorded state (``up_since``, ``rogues``, ``namespaces``),
running things (``exec``, ``spawn``, ``sensor_exec``) and the inject primitives (``service``,
``set_antivirus``, ``set_backup``, ``brute_force``, ``add_rogue`` ...; see ``inject.py``).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path

from findings.errors import RuntimeFailure, UsageError
from findings.support.netns import netns_argv

from . import files, inject, net, rogue, services, state
from . import hosts as hostmod
from .hosts import Host
from .record import Record, Rogue
from .spec import SERVICES, RangeSpec, ServiceSpec

__all__ = ["Host", "Range"]


class Range:
    """A range described by ``spec``; its keys, host folders and ``state.json`` live in ``state_dir``."""

    def __init__(self, spec: RangeSpec, state_dir: str | None = None):
        self.spec = spec
        self.name = spec.name
        self.state_dir = os.path.abspath(state_dir or f"var/range-{spec.name}")
        self.record = Record(os.path.join(self.state_dir, "state.json"))
        self.hosts = [Host(h.name, h.ip, h.agency, self.netns_of(h.name), h.role, tuple(h.service_names),
                           h.registered, h) for h in spec.hosts]
        self.hosts += [rogue.as_host(r) for r in self.record.rogues()]  # added while the range runs
        self._by_name = {h.name: h for h in self.hosts}
        self.sensor_netns = self.netns_of(spec.sensors[0].name)
        self.sensor_ip = spec.sensors[0].ip
        self.core_netns = self.netns_of("core")

    # ----- lookups
    def host(self, name: str) -> Host:
        """The host called ``name`` (UsageError naming the range when there is none)."""
        try:
            return self._by_name[name]
        except KeyError:
            raise UsageError(f"range {self.name}: no host {name!r}") from None

    def find_host(self, name: str) -> Host | None:
        """The host called ``name``, or None."""
        return self._by_name.get(name)

    def service_spec(self, host: str, name: str) -> ServiceSpec:
        """The service ``name`` as ``host`` describes it, else with its default port (an inject
        may start a service the host does not describe)."""
        listed = {s.name: s for s in self.host(host).spec.services}
        if name in listed:
            return listed[name]
        if name in SERVICES:
            return ServiceSpec(name, SERVICES[name], "public" if name == "snmp" else None)
        raise UsageError(f"unknown service {name!r} (known: {', '.join(SERVICES)}, clamd)")

    def netns_of(self, name: str) -> str:
        """The network namespace name of host (or sensor, or ``core``) ``name`` in this range."""
        return net.prefix(self.name) + name

    # ----- recorded state
    @property
    def operator_key(self) -> str:
        """The operator's private key file (its ``.pub`` is authorised for user citysec on every host)."""
        return os.path.join(self.state_dir, "operator_key")

    @property
    def up_since(self) -> float | None:
        """Unix time of the last ``up`` (the description's ages count from it); None when down."""
        return self.record.up_since()

    def rogues(self) -> list[Rogue]:
        """The rogue devices ``add_rogue`` plugged in and the state still records."""
        return self.record.rogues()

    def namespaces(self) -> list[str]:
        """The network namespaces of this range that exist on the machine (also a crash's leftovers)."""
        return net.namespaces(self.name)

    def configured_at(self, ip: str) -> str | None:
        """Where address ``ip`` is configured now (the machine, or a namespace of any range), or None."""
        return net.addresses_in_use("\0").get(ip)

    def pid(self, host: str) -> int:
        """The PID 1 of ``host`` (in the machine's PID namespace)."""
        self.host(host)
        pid = self.record.pids().get(host)
        if not pid or not os.path.exists(f"/proc/{pid}/root/run/citysec/ready"):
            raise RuntimeFailure(f"range {self.name}: host {host} is not running (is the range up?)")
        return pid

    # ----- paths and files inside a host (the one guard: files.py)
    def var_dir(self, host: str) -> str:
        """The folder that is ``/var`` inside ``host``."""
        return os.path.join(self.state_dir, "hosts", self.host(host).name, "var")

    def _root(self, host: str) -> str:
        return f"/proc/{self.pid(host)}/root"

    def host_path(self, host: str, path: str) -> str:
        """The machine's path of ``path`` inside running ``host``, once checked: under its own
        /var, /run or /dev, no '..', no symbolic link on the way (UsageError otherwise)."""
        return files.real(self._root(host), host, path)

    def drop_file(self, host: str, path: str, content: str | bytes, mode: int = 0o644,
                  owner: tuple[int, int] | None = None, mtime: float | None = None) -> None:
        """Write ``content`` at ``path`` inside ``host`` (missing folders made), with ``mode``
        (and ``owner``, ``mtime`` when given). Only inside the host's /var, /run, /dev."""
        data = content.encode() if isinstance(content, str) else content
        files.write(self._root(host), host, path, data, mode, owner=owner)
        if mtime is not None:
            os.utime(self.host_path(host, path), (mtime, mtime), follow_symlinks=False)

    def append_log(self, host: str, file: str, lines: list[str]) -> None:
        """Append lines to a log file inside ``host`` (written as given, one per line)."""
        files.write(self._root(host), host, file, "".join(ln.rstrip("\n") + "\n" for ln in lines).encode(),
                    append=True)

    def read_file(self, host: str, path: str) -> bytes | None:
        """The content of ``path`` inside ``host``; None when it does not exist."""
        return files.read(self._root(host), host, path)

    def file_status(self, host: str, path: str) -> os.stat_result | None:
        """``lstat`` of ``path`` inside ``host``; None when it does not exist."""
        return files.lstat(self._root(host), host, path)

    def remove_file(self, host: str, path: str) -> bool:
        """Remove the file at ``path`` inside ``host``; False when there was none."""
        return files.remove(self._root(host), host, path)

    def remove_dir(self, host: str, path: str) -> bool:
        """Remove the folder ``path`` inside ``host`` if it is empty; False when missing or not empty."""
        return files.remove_dir(self._root(host), host, path)

    def _digest(self) -> str:
        described = {k: v for k, v in asdict(self.spec).items() if k != "source"}
        code = "".join(Path(m.__file__).read_text() for m in (hostmod, services, state))
        blob = json.dumps(described, sort_keys=True, default=str) + code
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    # ----- lifecycle
    def is_up(self) -> bool:
        """Whether the range runs exactly as described (same description and code, every namespace
        and host, no rogue device plugged in)."""
        state = self.record.read()
        if state.get("digest") != self._digest() or state.get("rogues") or \
                set(net.namespaces(self.name)) != self._expected_ns():
            return False
        return all(os.path.exists(f"/proc/{pid}/root/run/citysec/ready") for pid in state.get("pids", {}).values())

    def _expected_ns(self) -> set[str]:
        rogues = {r.netns for r in self.record.rogues()}
        return {self.core_netns} | {h.netns for h in self.hosts} | {self.netns_of(s.name) for s in self.spec.sensors} | rogues

    def up(self) -> dict:
        """Build the range (or keep it when it already runs as described); returns timings."""
        if os.geteuid() != 0:
            raise UsageError("the range builds network namespaces: run as root")
        if self.is_up():
            return {"reused": True}
        t0 = time.monotonic()
        self.down()
        net.check_free(self.spec)
        os.makedirs(self.state_dir, exist_ok=True)
        hostmod.keypair(self.operator_key, f"citysec-range-{self.name}-operator")
        hostmod.ensure_user()
        self._now = time.time()
        self._tls_pem()
        self._prepare_hosts()
        t1 = time.monotonic()
        try:
            net.guard_root()
            net.build(self.spec)
            t2 = time.monotonic()
            pids = self._start_holders()
            self.record.write({"name": self.name, "digest": self._digest(), "pids": pids,
                               "up_since": self._now})
            self._start_services()
        except BaseException:
            self.down()
            raise
        t3 = time.monotonic()
        return {"reused": False, "prepare_s": round(t1 - t0, 2), "network_s": round(t2 - t1, 2),
                "hosts_s": round(t3 - t2, 2), "total_s": round(t3 - t0, 2)}

    def _prepare_hosts(self) -> None:
        with open(self.operator_key + ".pub") as fh:
            operator_pub = fh.read()
        if os.path.isdir(os.path.join(self.state_dir, "hosts")):
            shutil.rmtree(os.path.join(self.state_dir, "hosts"))

        def one(h: Host) -> None:
            keys = os.path.join(self.state_dir, "keys", h.name)
            hostmod.keypair(os.path.join(keys, "ssh_host_ed25519_key"), f"root@{h.name}")
            hostmod.layout(self.var_dir(h.name), h.name, h.ip, keys, operator_pub)
            self._populate(h)

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(one, self.hosts))

    def _populate(self, h: Host) -> None:
        """Fill the host's /var with its described state before it starts."""
        var, now = self.var_dir(h.name), self._now
        services.write_files(var, h.spec, self._tls_pem())
        state.write_antivirus(var, h.spec.antivirus, os.path.join(self.state_dir, "cache"), now)
        state.write_backup(var, h.spec, now)
        state.write_auth_log(var, h.spec, self.sensor_ip, now)

    def _tls_pem(self) -> str:
        pem = os.path.join(self.state_dir, "tls.pem")
        if not os.path.exists(pem):
            net.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                     "-nodes", "-days", "3650", "-subj", f"/O=citysec range {self.name}/CN={self.name}.range.invalid",
                     "-keyout", pem + ".key", "-out", pem + ".crt"])
            with open(pem, "w") as out:
                for part in (".key", ".crt"):
                    with open(pem + part) as fh:
                        out.write(fh.read())
            os.chmod(pem, 0o600)
        return pem

    def _start_services(self) -> None:
        def one(h: Host) -> None:
            for svc in h.spec.services:
                self.service(h.name, svc.name, "start")
            av = h.spec.antivirus
            if av is not None and av.installed and av.daemon:
                self.service(h.name, "clamd", "start")
            if h.spec.backup is not None and h.spec.backup.method == "restic":
                for argv in state.restic_commands(h.name, h.spec.backup, self._now):
                    self.exec(h.name, argv, timeout=120, check=True)
                # setgid folders: what root writes later (a backup, a case's snapshot) stays readable by group adm
                self.exec(h.name, ["sh", "-c", "chgrp -R adm /var/backups && chmod -R g+rX /var/backups && "
                                   "find /var/backups -type d -exec chmod g+s {} +"], check=True)

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(one, self.hosts))

    def _start_holders(self) -> dict[str, int]:
        logs = os.path.join(self.state_dir, "holders")
        os.makedirs(logs, exist_ok=True)
        errfiles = {h.name: os.path.join(logs, h.name + ".err") for h in self.hosts}
        init = os.path.join(self.state_dir, "bin", "init")
        hostmod.write_init(init)
        procs = {h.name: hostmod.start_holder(h.netns, init, self.var_dir(h.name), h.name, errfiles[h.name])
                 for h in self.hosts}
        return hostmod.wait_holders(procs, errfiles)

    def down(self) -> dict:
        """Remove every namespace, process and mount of this range name (also a crashed run's)."""
        t0 = time.monotonic()
        removed = net.destroy(self.name)
        net.unguard_root()
        self.record.remove()
        return {"removed_namespaces": len(removed), "seconds": round(time.monotonic() - t0, 2)}

    # ----- running things
    def exec(self, host: str, argv: list[str], input: str | None = None, timeout: float = 30,
             check: bool = False) -> subprocess.CompletedProcess:
        """Run ``argv`` inside ``host`` (its network, mount, UTS and PID namespaces)."""
        return self._run(hostmod.nsenter(self.pid(host), list(argv)), input, timeout, check)

    def spawn(self, host: str, argv: list[str], timeout: float = 30) -> tuple[int, str]:
        """Start a daemon inside ``host``: output not captured through pipes (they would stay open)."""
        with tempfile.TemporaryFile() as err:
            proc = subprocess.run(hostmod.nsenter(self.pid(host), list(argv)), stdin=subprocess.DEVNULL,
                                  stdout=subprocess.DEVNULL, stderr=err, timeout=timeout)
            err.seek(0)
            return proc.returncode, err.read().decode(errors="replace")

    def sensor_exec(self, argv: list[str], input: str | None = None, timeout: float = 120,
                    check: bool = False) -> subprocess.CompletedProcess:
        """Run ``argv`` in the city sensor's network namespace."""
        return self._run(netns_argv(self.sensor_netns, list(argv)), input, timeout, check)

    @staticmethod
    def _run(argv: list[str], input: str | None, timeout: float, check: bool) -> subprocess.CompletedProcess:
        proc = subprocess.run(argv, input=input, capture_output=True, text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise RuntimeFailure(f"{' '.join(argv[-3:])}: exit {proc.returncode}: {proc.stderr.strip()[:300]}")
        return proc

    def host_keys(self) -> dict[str, str]:
        """{ip: "ssh-ed25519 AAAA..."} of every host, for a known_hosts file."""
        out = {}
        for h in self.hosts:
            with open(os.path.join(self.state_dir, "keys", h.name, "ssh_host_ed25519_key.pub")) as fh:
                out[h.ip] = " ".join(fh.read().split()[:2])
        return out

    def status(self) -> dict:
        """Hosts (running or not), sensor, namespaces and leftovers: what ``range status`` shows."""
        state = self.record.read()
        present = net.namespaces(self.name)
        pids = state.get("pids", {})
        hosts = []
        for h in self.hosts:
            alive = bool(pids.get(h.name)) and os.path.exists(f"/proc/{pids[h.name]}/root/run/citysec/ready")
            hosts.append({"name": h.name, "ip": h.ip, "agency": h.agency, "role": h.role, "netns": h.netns,
                          "registered": h.registered, "services": list(h.services), "running": alive})
        return {"name": self.name, "up": self.is_up(), "state_dir": self.state_dir,
                "sensor": {"netns": self.sensor_netns, "ip": self.sensor_ip},
                "hosts": hosts, "namespaces": len(present),
                "leftovers": sorted(set(present) - self._expected_ns())}

    # ----- inject primitives (inject.py, rogue.py)
    def service(self, host: str, name: str, action: str) -> None:
        """Start or stop a listener (or ``clamd``) on ``host``; done when its port (or process) is."""
        inject.service(self, host, name, action)

    def service_config_paths(self, host: str, name: str) -> list[str]:
        """Paths (inside ``host``) of the configuration files service ``name`` reads when the
        host's description does not list it."""
        return sorted(inject.config_files(self, host, name))

    def write_service_config(self, host: str, name: str) -> list[str]:
        """Write the configuration an undescribed service ``name`` needs on ``host`` (files that
        exist are kept); returns the paths written."""
        return inject.write_config(self, host, name)

    def service_running(self, host: str, name: str) -> bool:
        """Whether service ``name`` (or ``ssh``, ``clamd``) runs on ``host``."""
        return inject.service_running(self, host, name)

    def listening(self, host: str, port: int, *, udp: bool = False) -> bool:
        """Whether a process inside ``host`` listens on ``port``."""
        return inject.listening(self, host, port, udp=udp)

    def wait_port(self, host: str, port: int, *, listening: bool = True, udp: bool = False,
                  seconds: float = 15) -> bool:
        """Wait until ``port`` on ``host`` listens (``listening=False``: no longer does); False
        when it did not within ``seconds``."""
        return inject.wait_port(self, host, port, listening=listening, udp=udp, seconds=seconds)

    def set_antivirus(self, host: str, state_: str | dict) -> None:
        """``running`` / ``stopped`` (clamd), or {installed, daemon, signature_age_hours}: the
        signature database rebuilt with that age (installed: false removes it)."""
        inject.set_antivirus(self, host, state_)

    def set_backup(self, host: str, state_: str) -> None:
        """``failing``: the job fails now (log lines); ``ok``: a new snapshot (restic) or file now."""
        inject.set_backup(self, host, state_)

    def restic_snapshot(self, host: str, hours_ago: float = 0) -> None:
        """A restic snapshot of ``host``'s data dated ``hours_ago`` (a host described with restic)."""
        inject.restic_snapshot(self, host, hours_ago)

    def brute_force(self, attacker_host: str, target_ip: str, user: str = "admin", attempts: int = 10) -> int:
        """Real SSH password failures from ``attacker_host`` against ``target_ip``; returns the
        count once the target's auth.log holds them (or after 15 s)."""
        return inject.brute_force(self, attacker_host, target_ip, user, attempts)

    def add_rogue(self, agency: str, ip: str) -> str:
        """Plug an unregistered device (sshd only) into one of ``agency``'s networks; returns its name."""
        h, pid = rogue.plug(self, agency, ip)
        self.hosts.append(h)
        self._by_name[h.name] = h
        self.record.add_rogue(Rogue(h.name, ip, agency, h.netns), pid)
        return h.name

    def remove_rogue(self, name: str) -> None:
        """Unplug a device ``add_rogue`` added: stop its processes, delete its namespace (and its
        veth), forget it in ``state.json`` and in this Range. Described hosts are refused."""
        if not name.startswith("rogue-") or any(h.name == name for h in self.spec.hosts):
            raise UsageError(f"{name!r} is not a rogue added to range {self.name}")
        rogue.unplug(self, name)
        self.record.forget_rogue(name)
        self.hosts = [h for h in self.hosts if h.name != name]
        self._by_name.pop(name, None)
