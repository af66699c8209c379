"""The Range: bring a described city network up and down, run commands in its hosts."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from findings.errors import RuntimeFailure, UsageError
from findings.support.netns import netns_argv

from . import hosts as hostmod
from . import net, services, state
from .inject import Injects
from .spec import HostSpec, RangeSpec


@dataclass(frozen=True)
class Host:
    name: str
    ip: str
    agency: str
    netns: str
    role: str
    services: tuple[str, ...]
    registered: bool
    spec: HostSpec


class Range(Injects):
    def __init__(self, spec: RangeSpec, state_dir: str | None = None):
        self.spec = spec
        self.name = spec.name
        self.state_dir = os.path.abspath(state_dir or f"var/range-{spec.name}")
        p = net.prefix(self.name)
        self.hosts = [Host(h.name, h.ip, h.agency, p + h.name, h.role, tuple(h.service_names), h.registered, h)
                      for h in spec.hosts]
        for r in self._read_state().get("rogues", []):  # added by add_rogue while the range runs
            self.hosts.append(Host(r["name"], r["ip"], r["agency"], r["netns"], "workstation", ("ssh",), False,
                                   HostSpec(r["name"], r["ip"], r["agency"], "workstation", False)))
        self._by_name = {h.name: h for h in self.hosts}
        self.sensor_netns = p + spec.sensors[0].name
        self.sensor_ip = spec.sensors[0].ip
        self.core_netns = p + "core"

    # ----- paths and state
    @property
    def operator_key(self) -> str:
        return os.path.join(self.state_dir, "operator_key")

    def var_dir(self, host: str) -> str:
        """The folder that is ``/var`` inside ``host``."""
        return os.path.join(self.state_dir, "hosts", self.host(host).name, "var")

    def _state_file(self) -> str:
        return os.path.join(self.state_dir, "state.json")

    def _read_state(self) -> dict:
        try:
            with open(self._state_file()) as fh:
                return json.load(fh)
        except FileNotFoundError:
            return {}

    def _write_state(self, state: dict) -> None:
        tmp = self._state_file() + ".tmp"
        with open(tmp, "w") as fh:
            json.dump(state, fh, indent=1)
        os.replace(tmp, self._state_file())

    def _digest(self) -> str:
        described = {k: v for k, v in asdict(self.spec).items() if k != "source"}
        code = "".join(Path(m.__file__).read_text() for m in (hostmod, services, state))
        blob = json.dumps(described, sort_keys=True, default=str) + code
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def host(self, name: str) -> Host:
        try:
            return self._by_name[name]
        except KeyError:
            raise UsageError(f"range {self.name}: no host {name!r}") from None

    def pid(self, host: str) -> int:
        """The PID 1 of ``host`` (in the machine's PID namespace)."""
        self.host(host)
        pid = self._read_state().get("pids", {}).get(host)
        if not pid or not os.path.exists(f"/proc/{pid}/root/run/citysec/ready"):
            raise RuntimeFailure(f"range {self.name}: host {host} is not running (is the range up?)")
        return pid

    # ----- lifecycle
    def is_up(self) -> bool:
        state = self._read_state()
        if state.get("digest") != self._digest() or state.get("rogues") or \
                set(net.namespaces(self.name)) != self._expected_ns():
            return False
        return all(os.path.exists(f"/proc/{pid}/root/run/citysec/ready") for pid in state.get("pids", {}).values())

    def _expected_ns(self) -> set[str]:
        p = net.prefix(self.name)
        rogues = {r["netns"] for r in self._read_state().get("rogues", [])}
        return {self.core_netns} | {h.netns for h in self.hosts} | {p + s.name for s in self.spec.sensors} | rogues

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
            self._write_state({"name": self.name, "digest": self._digest(), "pids": pids,
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
        if os.path.exists(self._state_file()):
            os.remove(self._state_file())
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
        state = self._read_state()
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
