"""The primitives drills use on a running range: files, services, AV and backup states, logs,
SSH brute force, rogue hosts. Mixed into ``Range``; each acts on one host of this range only."""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import replace

import paramiko

from findings.errors import RuntimeFailure, UsageError
from findings.support.netns import connect_in_netns

from . import services, state
from .spec import AntivirusSpec, BackupSpec, ServiceSpec, SERVICES

CLAMD = ["setsid", "-f", "clamd", "-c", "/var/lib/citysec-range/clamd.conf"]
CLAMD_LOG_GROUP = ("for i in $(seq 1 150); do [ -S /run/clamav/clamd.ctl ] && break; sleep 0.2; done; "
                   "chgrp adm /var/log/clamav/clamav.log && chmod 0640 /var/log/clamav/clamav.log")


class Injects:
    def _host_path(self, host: str, path: str) -> str:
        if not path.startswith("/") or ".." in path.split("/"):
            raise UsageError(f"{path!r}: give an absolute path without '..'")
        return f"/proc/{self.pid(host)}/root{path}"

    def drop_file(self, host: str, path: str, content: str | bytes, mode: int = 0o644) -> None:
        """Write ``content`` at ``path`` inside ``host``."""
        real = self._host_path(host, path)
        os.makedirs(os.path.dirname(real), exist_ok=True)
        with open(real, "wb") as fh:
            fh.write(content.encode() if isinstance(content, str) else content)
        os.chmod(real, mode)

    def append_log(self, host: str, file: str, lines: list[str]) -> None:
        """Append lines to a log file inside ``host`` (written as given)."""
        with open(self._host_path(host, file), "a") as fh:
            fh.write("".join(line.rstrip("\n") + "\n" for line in lines))

    def _service_spec(self, host: str, name: str) -> ServiceSpec:
        listed = {s.name: s for s in self.host(host).spec.services}
        if name in listed:
            return listed[name]
        if name in SERVICES:
            return ServiceSpec(name, SERVICES[name], "public" if name == "snmp" else None)
        raise UsageError(f"unknown service {name!r} (known: {', '.join(SERVICES)}, clamd)")

    def service(self, host: str, name: str, action: str) -> None:
        """Start or stop a listener (or ``clamd``) on ``host``."""
        if action not in ("start", "stop"):
            raise UsageError(f"action {action!r}: start or stop")
        ip = self.host(host).ip
        if name == "clamd":
            argvs = [CLAMD] if action == "start" else [["pkill", "-x", "clamd"]]
        elif name == "ssh":
            argvs = [["/usr/sbin/sshd", "-f", "/var/lib/citysec-range/ssh/sshd_config"]] if action == "start" \
                else services.stop_argv(ip, ServiceSpec("ssh", 22))
        else:
            svc = self._service_spec(host, name)
            if svc.name == "snmp" and action == "start":
                self._ensure_snmp_conf(host, svc)
            argvs = services.start_argv(ip, svc) if action == "start" else services.stop_argv(ip, svc)
        for argv in argvs:
            rc, err = self.spawn(host, argv)
            if rc != 0 and not (action == "stop" and rc == 1):
                raise RuntimeFailure(f"{host}: {action} {name}: {' '.join(argv[:3])}: exit {rc}: {err.strip()[:300]}")
        if name == "clamd" and action == "start":
            # clamd running as root chowns its log to root:root at start; give it back to group adm
            # (as Debian's logrotate does) once clamd is up, so the collection account reads it.
            self.exec(host, ["sh", "-c", CLAMD_LOG_GROUP], timeout=60)
        elif name != "clamd":
            # daemons bind (or let go of) their port after the start command returns: the inject is
            # done when the port is in the state it asked for, so a probe right after sees it
            port = 22 if name == "ssh" else self._service_spec(host, name).port
            if not self.wait_port(host, port, listening=action == "start", udp=name == "snmp"):
                raise RuntimeFailure(f"{host}: {action} {name}: port {port} did not "
                                     f"{'open' if action == 'start' else 'close'} within 15 s")

    def listening(self, host: str, port: int, *, udp: bool = False) -> bool:
        """Whether a process inside ``host`` listens on ``port``."""
        return bool(self.exec(host, ["ss", "-Hln" + ("u" if udp else "t"), f"sport = :{port}"]).stdout.strip())

    def wait_port(self, host: str, port: int, *, listening: bool = True, udp: bool = False,
                  seconds: float = 15) -> bool:
        """Wait until ``port`` on ``host`` listens (or, ``listening=False``, no longer does); False
        when it did not within ``seconds``."""
        deadline = time.monotonic() + seconds
        while self.listening(host, port, udp=udp) != listening:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)
        return True

    def _ensure_snmp_conf(self, host: str, svc: ServiceSpec) -> None:
        conf = self._host_path(host, "/var/lib/citysec-range/snmpd.conf")
        if not os.path.exists(conf):
            h = self.host(host)
            with open(conf, "w") as fh:
                fh.write(f"agentAddress udp:{h.ip}:{svc.port}\nrocommunity {svc.community} default\nsysName {h.name}\n")

    def service_running(self, host: str, name: str) -> bool:
        if name == "clamd":
            return self.exec(host, ["pgrep", "-x", "clamd"]).returncode == 0
        svc = self._service_spec(host, name) if name != "ssh" else ServiceSpec("ssh", 22)
        return self.exec(host, services.running_argv(self.host(host).ip, svc)).returncode == 0

    def set_antivirus(self, host: str, state_: str | dict) -> None:
        """``running`` / ``stopped`` (clamd), or a mapping {installed, daemon, signature_age_hours}
        that rewrites the signature database with that age (installed: false removes it)."""
        if state_ in ("running", "stopped"):
            self.service(host, "clamd", "start" if state_ == "running" else "stop")
            return
        if not isinstance(state_, dict):
            raise UsageError(f"antivirus state {state_!r}: running, stopped, or a mapping")
        av = AntivirusSpec(**{"installed": True, "daemon": True, "signature_age_hours": 6.0, **state_})
        self.service(host, "clamd", "stop")
        db = self._host_path(host, "/var/lib/clamav/daily.cud")
        if not av.installed:
            if os.path.exists(db):
                os.remove(db)
            return
        built = time.time() - av.signature_age_hours * 3600
        with open(db, "wb") as out, open(state.signature_db(os.path.join(self.state_dir, "cache", "clamav"), built), "rb") as src:
            out.write(src.read())
        os.utime(db, (built, built))
        if av.daemon:
            self.service(host, "clamd", "start")

    def set_backup(self, host: str, state_: str) -> None:
        """``failing``: the job fails now (log line); ``ok``: a new snapshot (restic) or file now."""
        h = self.host(host)
        b = h.spec.backup or BackupSpec("files")
        now = time.time()
        if state_ == "failing":
            lines = state.backup_log_lines(host, replace(b, snapshots_hours_ago=(), files=(), failing=True), now)
            self.append_log(host, "/var/log/backup.log", lines[-3:])
        elif state_ == "ok":
            if b.method == "restic":
                self.exec(host, state.restic_commands(host, replace(b, snapshots_hours_ago=(0,)), now)[1],
                          timeout=120, check=True)
            else:
                state.write_files_backup(self._host_path(host, "/var"), host, replace(b, files=((0, 4096),)), now)
            self.append_log(host, "/var/log/backup.log", state.backup_log_lines(
                host, replace(b, snapshots_hours_ago=(0,), files=(), failing=False), now))
        else:
            raise UsageError(f"backup state {state_!r}: failing or ok")

    def brute_force(self, attacker_host: str, target_ip: str, user: str = "admin", attempts: int = 10) -> int:
        """Real SSH password failures from ``attacker_host`` against ``target_ip``; returns the count
        once the target's auth log holds them (sshd -> syslogd -> file is asynchronous), or after 15 s."""
        target = next((h for h in self.hosts if h.ip == target_ip), None)
        if target is None:
            raise UsageError(f"{target_ip} is not a host of range {self.name}")
        attacker = self.host(attacker_host)
        trace = f"{user} from {attacker.ip} port "
        logged_before = self._count_failures(target.name, trace)
        netns, failures = attacker.netns, 0
        while failures < attempts:
            sock = connect_in_netns(netns, target_ip, 22, timeout=10)
            transport = paramiko.Transport(sock)
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
        while self._count_failures(target.name, trace) - logged_before < failures and time.monotonic() < deadline:
            time.sleep(0.1)
        return failures

    def _count_failures(self, host: str, trace: str) -> int:
        try:
            with open(self._host_path(host, "/var/log/auth.log"), errors="replace") as fh:
                return sum(1 for line in fh if "Failed password for" in line and trace in line)
        except FileNotFoundError:
            return 0

    def add_rogue(self, agency: str, ip: str) -> str:
        """Plug an unregistered device (sshd only) into one of ``agency``'s networks; returns its name."""
        from . import hosts as hostmod, net
        from .range import Host
        from .spec import HostSpec, RANGE_BLOCK
        import ipaddress
        nets = [(i, n) for i, (a, n) in enumerate(self.spec.networks()) if a == agency]
        addr = ipaddress.ip_address(ip)
        match = [(i, n) for i, n in nets if addr in n.network]
        if addr not in RANGE_BLOCK or not match:
            raise UsageError(f"{ip} is in none of agency {agency!r}'s networks in range {self.name}")
        if ip in net.addresses_in_use("\0") or ip in {h.ip for h in self.hosts}:
            raise UsageError(f"{ip} is already used")
        idx, network = match[0]
        name = f"rogue-{str(addr).split('.')[2]}-{str(addr).split('.')[3]}"
        spec = HostSpec(name, ip, agency, "workstation", False)
        h = Host(name, ip, agency, net.prefix(self.name) + name, "workstation", ("ssh",), False, spec)
        veth = f"r{int(addr) & 0xFFFF:x}"
        net.ip_batch([f"netns add {h.netns}"])
        net.ip_batch([f"link add {veth} type veth peer name eth0 netns {h.netns}", f"link set {veth} master br{idx}",
                      f"link set {veth} up"], self.core_netns)
        net.ip_batch(["link set lo up", f"addr add {ip}/{network.network.prefixlen} dev eth0", "link set eth0 up",
                      f"route add 198.18.0.0/15 via {network.gateway}"], h.netns)
        self.hosts.append(h)
        self._by_name[name] = h
        keys = os.path.join(self.state_dir, "keys", name)
        hostmod.keypair(os.path.join(keys, "ssh_host_ed25519_key"), f"root@{name}")
        with open(self.operator_key + ".pub") as fh:
            hostmod.layout(self.var_dir(name), name, ip, keys, fh.read())
        errfile = os.path.join(self.state_dir, "holders", name + ".err")
        proc = hostmod.start_holder(h.netns, os.path.join(self.state_dir, "bin", "init"), self.var_dir(name), name, errfile)
        pid = hostmod.wait_holders({name: proc}, {name: errfile})[name]
        st = self._read_state()
        st["pids"][name] = pid
        st.setdefault("rogues", []).append({"agency": agency, "ip": ip, "name": name, "netns": h.netns})
        self._write_state(st)
        return name

    def remove_rogue(self, name: str) -> None:
        """Unplug a device ``add_rogue`` added: stop its processes, delete its namespace (and with it
        its veth), forget it in ``state.json`` and in this Range. Described hosts are refused."""
        from . import net
        if not name.startswith("rogue-") or any(h.name == name for h in self.spec.hosts):
            raise UsageError(f"{name!r} is not a rogue added to range {self.name}")
        netns = net.prefix(self.name) + name
        if netns in net.namespaces(self.name):
            net.kill_all([netns])
            net.ip_batch([f"netns del {netns}"])
        st = self._read_state()
        if st:
            st["rogues"] = [r for r in st.get("rogues", []) if r["name"] != name]
            st.get("pids", {}).pop(name, None)
            self._write_state(st)
        self.hosts = [h for h in self.hosts if h.name != name]
        self._by_name.pop(name, None)
        shutil.rmtree(os.path.join(self.state_dir, "hosts", name), ignore_errors=True)
