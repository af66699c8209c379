"""The citysec-managed known_hosts: loaded once, read lock-free, written through a lock.

Enrolment is an explicit operator step (`citysec hosts enroll`): :func:`fetch_host_key` asks a
host for its key without authenticating; the operator compares the fingerprint (or gives a
file of known fingerprints) and only then :meth:`KnownHosts.record` writes it.
"""

from __future__ import annotations

import fcntl
import os
import threading
from dataclasses import dataclass

import paramiko

from findings.support.netns import connect_in_netns


def host_id(ip: str, port: int) -> str:
    """The known_hosts name of a host, as OpenSSH writes it."""
    return ip if port == 22 else f"[{ip}]:{port}"


class KnownHosts:
    def __init__(self, path: str):
        self.path = path
        self._lock = threading.Lock()
        self._keys = paramiko.HostKeys()
        if os.path.exists(path):
            try:
                self._keys.load(path)
            except (OSError, paramiko.SSHException) as exc:
                from findings.errors import ConfigError
                raise ConfigError(f"{path}: cannot read the known_hosts file: {exc}") from exc

    def keys_for(self, hid: str) -> list[paramiko.PKey]:
        entry = self._keys.lookup(hid)
        return list(entry.values()) if entry else []

    def hosts(self) -> list[str]:
        return sorted(set(self._keys.keys()))   # HostKeys is a mapping: host name → keys

    def state(self, hid: str, key: paramiko.PKey) -> str:
        """'known' (same key), 'changed' (a different key of any type is enrolled) or 'unknown'."""
        keys = self.keys_for(hid)
        if not keys:
            return "unknown"
        return "known" if any(k.get_name() == key.get_name() and k.asbytes() == key.asbytes()
                              for k in keys) else "changed"

    def record(self, hid: str, key: paramiko.PKey, *, replace: bool = False) -> None:
        """Add (or, with replace, swap in) a host's key and save the file under an exclusive lock."""
        with self._lock:
            os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
            with open(self.path + ".lock", "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                fresh = paramiko.HostKeys()
                if os.path.exists(self.path):
                    fresh.load(self.path)
                if replace and hid in fresh:
                    del fresh[hid]
                fresh.add(hid, key.get_name(), key)
                tmp = self.path + ".tmp"
                fresh.save(tmp)
                os.chmod(tmp, 0o600)
                os.replace(tmp, self.path)
                self._keys = fresh


@dataclass(frozen=True)
class OfferedKey:
    hid: str
    key_type: str
    fingerprint: str
    key: paramiko.PKey


def fetch_host_key(ip: str, port: int = 22, *, netns: str | None = None, timeout: float = 5.0,
                   sock=None) -> OfferedKey:
    """Ask a host for its SSH host key (no authentication). Raises OSError/SSHException."""
    sock = sock or connect_in_netns(netns, ip, port, timeout)
    transport = paramiko.Transport(sock)
    transport.banner_timeout = timeout
    try:
        transport.start_client(timeout=timeout)
        key = transport.get_remote_server_key()
    finally:
        transport.close()
    return OfferedKey(host_id(ip, port), key.get_name(), key.fingerprint, key)


def parse_accept_file(text: str) -> set[str]:
    """Known fingerprints, one per line (``SHA256:...``, optionally after a host name);
    ``#`` starts a comment."""
    out = set()
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        for word in line.split():
            if word.startswith("SHA256:"):
                out.add(word)
    return out
