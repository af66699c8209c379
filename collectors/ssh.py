"""The SSH transport: strict host keys, keys only, timeouts everywhere, bounded output.

One :class:`Session` is one SSH connection to one host; a collection cycle opens it once and
runs every command that cycle needs through it. Host keys are checked against the
citysec-managed known_hosts (:class:`collectors.hostkeys.KnownHosts`) with paramiko's
``RejectPolicy``: an unknown key is refused, a changed key raises :class:`HostKeyChanged`.
Every failure becomes a :class:`CollectError` whose ``reason`` a finding carries.
"""

from __future__ import annotations

import io
import logging
import os
import socket
import threading
import time
from dataclasses import dataclass, field

import paramiko

from findings.support.netns import connect_in_netns

from .hostkeys import KnownHosts, host_id

# Old servers (OpenSSH < 7.8, dropbear, network gear) do not announce rsa-sha2 and reject it:
# legacy hosts sign with ssh-rsa (SHA-1); every other host may not use SHA-1 RSA at all.
# paramiko logs a failed banner read with a traceback; the reason reaches the finding instead.
logging.getLogger("paramiko").addHandler(logging.NullHandler())

LEGACY_DISABLED = {"pubkeys": ["rsa-sha2-512", "rsa-sha2-256"]}
MODERN_DISABLED = {"pubkeys": ["ssh-rsa"], "keys": ["ssh-rsa"]}


class CollectError(Exception):
    """A host could not be collected. ``kind``: unreachable, auth, hostkey_unknown,
    hostkey_changed, timeout, output, command, protocol."""

    def __init__(self, kind: str, reason: str, **details: object):
        super().__init__(reason)
        self.kind, self.reason, self.details = kind, reason, details


class HostKeyChanged(CollectError):
    def __init__(self, reason: str, *, expected: str, offered: str):
        super().__init__("hostkey_changed", reason, expected=expected, offered=offered)


@dataclass(frozen=True)
class Target:
    """How to reach one host: plain values built by the config layer."""

    agency: str
    name: str
    ip: str
    user: str = "citysec"
    port: int = 22
    key_file: str | None = None
    key_env: str | None = None         # name of an environment variable holding the private key
    jump: "Target | None" = None
    legacy_algorithms: bool = False
    netns: str | None = None           # open the TCP connection from this network namespace
    os: str = "linux"
    transport: str = "ssh"             # ssh, or winrm (Windows hosts of agencies without OpenSSH)
    role: str = "workstation"
    system: str | None = None
    collect: tuple[str, ...] = ("antivirus", "backup", "logs")


@dataclass(frozen=True)
class Timeouts:
    connect: float = 5.0
    auth: float = 10.0
    command: float = 60.0


@dataclass
class Result:
    rc: int | None
    stdout: bytes
    stderr: bytes
    truncated: bool = False
    elapsed: float = 0.0


_KEY_CACHE: dict[tuple, paramiko.PKey] = {}


def load_key(target: Target) -> paramiko.PKey:
    """The private key of a target: a file or an environment variable (never a password)."""
    cache_key = (target.key_file, target.key_env)
    if cache_key in _KEY_CACHE:
        return _KEY_CACHE[cache_key]
    try:
        if target.key_file:
            key = paramiko.PKey.from_path(target.key_file)
        elif target.key_env:
            text = os.environ.get(target.key_env)
            if not text:
                raise CollectError("auth", f"environment variable {target.key_env} holding the SSH key is not set") from None
            key = _key_from_text(text)
        else:
            raise CollectError("auth", "no SSH key configured for this host (ssh.key → a credential)") from None
    except (OSError, paramiko.SSHException, ValueError) as exc:
        raise CollectError("auth", f"cannot load the SSH key {target.key_file or target.key_env}: {exc}") from exc
    _KEY_CACHE[cache_key] = key
    return key


def _key_from_text(text: str) -> paramiko.PKey:
    for cls in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
        try:
            return cls.from_private_key(io.StringIO(text))
        except paramiko.SSHException:
            continue
    raise CollectError("auth", "the SSH key in the environment variable is not a supported private key") from None


class Session:
    """One SSH connection (optionally through a jump host). Use as a context manager."""

    def __init__(self, target: Target, known: KnownHosts, timeouts: Timeouts = Timeouts(),
                 max_output: int = 4 * 1024 * 1024):
        self.target, self.known, self.timeouts, self.max_output = target, known, timeouts, max_output
        self._clients: list[paramiko.SSHClient] = []
        self.client: paramiko.SSHClient | None = None

    def __enter__(self) -> "Session":
        try:
            self.client = self._connect(self.target)
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for c in reversed(self._clients):
            c.close()
        self._clients.clear()

    def _sock(self, t: Target) -> socket.socket | paramiko.Channel:
        if t.jump is not None:
            bastion = self._connect(t.jump)
            try:
                return bastion.get_transport().open_channel(
                    "direct-tcpip", (t.ip, t.port), ("127.0.0.1", 0), timeout=self.timeouts.connect)
            except (paramiko.SSHException, OSError) as exc:
                raise CollectError("unreachable", f"jump host {t.jump.name} cannot reach {t.ip}:{t.port}: {exc}") from None
        try:
            return connect_in_netns(t.netns, t.ip, t.port, self.timeouts.connect)
        except socket.timeout:
            raise CollectError("unreachable", f"no answer from {t.ip}:{t.port} within {self.timeouts.connect:g} s") from None
        except OSError as exc:
            raise CollectError("unreachable", f"cannot connect to {t.ip}:{t.port}: {exc.strerror or exc}") from None

    def _connect(self, t: Target) -> paramiko.SSHClient:
        pkey = load_key(t)
        sock = self._sock(t)
        client = paramiko.SSHClient()
        self._clients.append(client)
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        hid = host_id(t.ip, t.port)
        for key in self.known.keys_for(hid):
            client.get_host_keys().add(hid, key.get_name(), key)
        try:
            client.connect(t.ip, port=t.port, username=t.user, pkey=pkey, sock=sock,
                           timeout=self.timeouts.connect, banner_timeout=self.timeouts.connect,
                           auth_timeout=self.timeouts.auth, channel_timeout=self.timeouts.connect,
                           allow_agent=False, look_for_keys=False,
                           disabled_algorithms=LEGACY_DISABLED if t.legacy_algorithms else MODERN_DISABLED)
        except paramiko.BadHostKeyException as exc:
            raise HostKeyChanged(
                f"host key of {hid} changed (offered {fp(exc.key)}, enrolled {fp(exc.expected_key)}): "
                "refused — possible interception", expected=fp(exc.expected_key), offered=fp(exc.key))
        except paramiko.AuthenticationException as exc:
            raise CollectError("auth", f"authentication as {t.user} on {hid} failed: {exc}") from None
        except paramiko.SSHException as exc:
            if "not found in known_hosts" in str(exc):
                raise CollectError("hostkey_unknown", f"{hid} is not enrolled: run `citysec hosts enroll` "
                                   "and check its fingerprint")
            raise CollectError("protocol", f"SSH with {hid} failed: {exc}") from None
        except (OSError, EOFError) as exc:
            raise CollectError("unreachable", f"SSH with {hid} broke off: {exc}") from None
        return client

    def run(self, command: str, *, timeout: float | None = None, stdin: bytes | None = None) -> Result:
        """Run one command; read stdout and stderr together, capped, within an overall deadline."""
        assert self.client is not None, "use the session as a context manager"
        limit = timeout or self.timeouts.command
        start = time.monotonic()
        try:
            chan = self.client.get_transport().open_session(timeout=self.timeouts.connect)
            chan.exec_command(command)
            if stdin:
                chan.sendall(stdin)
            chan.shutdown_write()
            return _drain(chan, start, start + limit, self.max_output)
        except (paramiko.SSHException, OSError, EOFError) as exc:
            raise CollectError("protocol", f"running a command on {self.target.ip} failed: {exc}") from None


def _drain(chan: paramiko.Channel, start: float, deadline: float, cap: int) -> Result:
    # Waits on an Event the channel's buffers set, never on chan.fileno(): the OS pipe behind
    # fileno() is closed by Channel.close() while the transport thread may still write to it,
    # which kills the whole connection with EBADF or EPIPE (paramiko#692, #1700, #2271).
    ready = threading.Event()
    chan.in_buffer.set_event(ready)
    chan.in_stderr_buffer.set_event(ready)
    out, err = bytearray(), bytearray()
    truncated = False
    try:
        while True:
            got = False
            while chan.recv_ready():
                out += chan.recv(65536)
                got = True
            while chan.recv_stderr_ready():
                err += chan.recv_stderr(65536)
                got = True
            if len(out) + len(err) > cap:
                truncated = True
                break
            if chan.exit_status_ready() and not chan.recv_ready() and not chan.recv_stderr_ready() \
                    and (chan.eof_received or chan.closed):
                break
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise CollectError("timeout", f"the command did not finish within {deadline - start:.0f} s") from None
            # a read above clears the shared event even when the other stream has data: look again
            # before waiting (only this thread clears it, so data fed after this check sets it)
            if not got and not chan.recv_ready() and not chan.recv_stderr_ready():
                if chan.eof_received or chan.closed:    # nothing more comes: wait for the exit status
                    chan.status_event.wait(min(remaining, 0.5))
                else:
                    ready.wait(min(remaining, 0.5))
        rc = chan.recv_exit_status() if not truncated else None
    finally:
        chan.close()
    return Result(rc=rc, stdout=bytes(out[:cap]), stderr=bytes(err[:cap]), truncated=truncated,
                  elapsed=time.monotonic() - start)


def fp(key: paramiko.PKey | None) -> str:
    """The SHA256 fingerprint as OpenSSH prints it."""
    if key is None:
        return "?"
    return key.fingerprint


@dataclass
class HostOutcome:
    """What one host gave in a cycle: the command results by task, or the error that stopped it."""

    target: Target
    results: dict[str, Result] = field(default_factory=dict)
    error: CollectError | None = None
