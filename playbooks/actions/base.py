"""The contract of an automated action.

Every action declares its parameters, whether it supports a dry run, whether it is destructive
(changes or cuts off a host: the playbook may then require two approvers), and is idempotent:
``probe`` tells whether its effect is already in place, so a case resumed after a crash never
does it twice. Actions reach hosts only through a transport with ``exec(host, argv)`` returning
``(rc, stdout, stderr)``; argv is a list, each element quoted by the transport — never a shell
string built from data.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from findings.errors import RuntimeFailure, UsageError


class Transport(Protocol):
    def exec(self, host: str, argv: list[str], *, timeout: float = 60) -> tuple[int, str, str]: ...


class ActionError(RuntimeFailure):
    """An action could not do what it was asked (the host refused, a command failed)."""


class ParamError(UsageError):
    """An action's parameter is missing or malformed."""


@dataclass
class ActionContext:
    """What an action may use. Built by the engine from plain values passed in by the caller."""
    case: dict[str, Any]
    transport: Transport | None = None
    clock: Callable[[], datetime] | None = None
    sensor_ips: tuple[str, ...] = ()               # kept reachable by isolation
    evidence_dir: str = "var/evidence"
    reports_dir: str = "var/reports"
    smtp: dict[str, Any] = field(default_factory=dict)       # host, port, sender, recipients
    webhooks: dict[str, str] = field(default_factory=dict)   # name → URL
    render_report: Callable[[str, str], str] | None = None   # (kind, lang) → HTML
    backup: dict[str, str] = field(default_factory=dict)     # repository, password_file on hosts
    backups: dict[str, dict[str, str]] = field(default_factory=dict)   # per host (ip or name): the same
    privileged: tuple[str, ...] = ()               # prefix of commands that need root, e.g. sudo -n

    def need_transport(self) -> Transport:
        if self.transport is None:
            raise ActionError("no host transport configured (SSH): this action needs one")
        return self.transport


@dataclass(frozen=True)
class Action:
    name: str
    doc: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    dry_run: bool = True
    destructive: bool | Callable[[dict], bool] = False
    run: Callable[[ActionContext, dict, bool], dict] = None            # type: ignore[assignment]
    probe: Callable[[ActionContext, dict], dict | None] | None = None  # already done → its result

    def is_destructive(self, params: dict[str, Any]) -> bool:
        return self.destructive(params) if callable(self.destructive) else bool(self.destructive)

    def check_params(self, params: dict[str, Any]) -> list[str]:
        problems = [f"missing parameter {k!r}" for k in self.required if k not in params]
        known = set(self.required) | set(self.optional)
        problems += [f"unknown parameter {k!r} (known: {', '.join(sorted(known)) or 'none'})"
                     for k in params if k not in known]
        return problems


def run_checked(t: Transport, host: str, argv: list[str], *, ok=(0,), timeout: float = 120) -> tuple[int, str]:
    rc, out, err = t.exec(host, argv, timeout=timeout)
    if rc not in ok:
        raise ActionError(f"{host}: {argv[0]} exited {rc}: {(err or out).strip()[:300]}")
    return rc, out


def ip_param(params: dict, key: str) -> str:
    try:
        return str(ipaddress.ip_address(str(params[key])))
    except (KeyError, ValueError):
        raise ParamError(f"parameter {key!r}: not an IP address: {params.get(key)!r}") from None


_PATH = re.compile(r"^/[A-Za-z0-9._/@+-]*$")


def path_param(params: dict, key: str) -> str:
    value = str(params.get(key, ""))
    if not _PATH.match(value) or "/../" in value + "/":
        raise ParamError(f"parameter {key!r}: need an absolute path without '..': {value!r}")
    return value
