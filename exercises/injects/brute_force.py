"""``brute_force`` — ``attacker``, ``target`` (hosts), ``user`` [admin], ``attempts`` [10],
``success`` [false].

Real failed SSH password logins from the attacker's namespace; with ``success`` the attacker then
logs in for real as a compromised account (the range's operator key, user citysec, host key
checked) and runs ``id``. Returns once the target's auth.log holds the lines. Facts: addresses,
counts of matching log lines before. Cleanup: no SSH session of the attacker's address stays open
on the target (leftover sshd session processes are killed); verify: none established. The log
lines stay (history).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import paramiko

from findings.errors import RuntimeFailure
from findings.support.netns import connect_in_netns

from .base import BOOL, INT, STR, InjectKind, Params, param

AUTH_LOG = "/var/log/auth.log"


@dataclass(frozen=True)
class BruteForceParams(Params):
    TARGETS = ("attacker", "target")
    attacker: str = param("a host name", STR)
    target: str = param("a host name", STR)
    user: str = param("a user name", STR, "admin")
    attempts: int = param("a whole number", INT, 10)
    success: bool = param("true or false", BOOL, False)

    def problems(self):
        out = []
        if not 1 <= self.attempts <= 1000:
            out.append(("attempts", f"expected 1 to 1000, got {self.attempts}"))
        if not re.match(r"^[a-z_][a-z0-9_.-]{0,31}$", self.user):
            out.append(("user", f"expected a user name, got {self.user!r}"))
        if self.attacker == self.target:
            out.append(("target", "must differ from attacker"))
        return out


def _lines(rng, host: str) -> list[str]:
    return (rng.read_file(host, AUTH_LOG) or b"").decode(errors="replace").splitlines()


def failures(rng, host: str, user: str, ip: str) -> int:
    trace = f"{user} from {ip} port "
    return sum(1 for ln in _lines(rng, host) if "Failed password for " in ln and trace in ln)


def accepted(rng, host: str, ip: str) -> int:
    return sum(1 for ln in _lines(rng, host) if f"Accepted publickey for citysec from {ip} port " in ln)


def sessions(rng, host: str, ip: str) -> list[str]:
    proc = rng.exec(host, ["ss", "-Htnp", "state", "established", "dst", ip], check=True)
    return [ln for ln in proc.stdout.splitlines() if ln.strip()]


def is_sshd_listener(rng, host: str, pid: int) -> bool:
    """The host's sshd that accepts connections (never killed): its command line names its config."""
    cmd = rng.exec(host, ["cat", f"/proc/{pid}/cmdline"]).stdout.replace("\0", " ")
    return "sshd_config" in cmd


def login(rng, atk, tgt) -> str:
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


class BruteForce(InjectKind):
    name = "brute_force"
    Params = BruteForceParams

    def apply(self, rng, params):
        p = self.parse(params)
        atk, tgt = rng.host(p.attacker), rng.host(p.target)
        facts = {"attacker_ip": atk.ip, "target_ip": tgt.ip,
                 "failures_before": failures(rng, tgt.name, p.user, atk.ip),
                 "accepted_before": accepted(rng, tgt.name, atk.ip)}
        facts["failures"] = rng.brute_force(atk.name, tgt.ip, p.user, p.attempts)
        if p.success:
            facts["output"] = login(rng, atk, tgt)
            deadline = time.monotonic() + 15
            while accepted(rng, tgt.name, atk.ip) <= facts["accepted_before"]:
                if time.monotonic() > deadline:
                    raise RuntimeFailure(f"{tgt.name}: the attacker's login is not in auth.log after 15 s")
                time.sleep(0.1)
        return facts

    def applied(self, rng, params, facts):
        p = self.parse(params)
        atk, tgt = rng.host(p.attacker), rng.host(p.target)
        failed = failures(rng, tgt.name, p.user, atk.ip) - facts.get("failures_before", 0) >= p.attempts
        return failed and (not p.success or accepted(rng, tgt.name, atk.ip) > facts.get("accepted_before", 0))

    def cleanup(self, rng, params, facts):
        p = self.parse(params)
        tgt, ip = rng.host(p.target).name, rng.host(p.attacker).ip
        for sig in ("TERM", "KILL"):
            pids = {int(x) for ln in sessions(rng, tgt, ip) for x in re.findall(r"pid=(\d+)", ln)}
            pids = [pid for pid in pids if not is_sshd_listener(rng, tgt, pid)]
            if not pids:
                return
            rng.exec(tgt, ["kill", f"-{sig}", *map(str, sorted(pids))])
            deadline = time.monotonic() + 5
            while sessions(rng, tgt, ip) and time.monotonic() < deadline:
                time.sleep(0.1)

    def verify(self, rng, params, facts):
        p = self.parse(params)
        tgt, ip = rng.host(p.target).name, rng.host(p.attacker).ip
        return [f"{tgt}: connection from the attacker {ip} still established: {' '.join(ln.split()[:4])}"
                for ln in sessions(rng, tgt, ip)]

    def describe(self, params):
        p = self.parse(params)
        end = ", then a successful login as citysec" if p.success else ""
        return f"SSH brute force from {p.attacker} on {p.target}: {p.attempts} failed passwords for {p.user}{end}"
