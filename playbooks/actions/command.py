"""Run an allow-listed command on a host. The allow-list is code, never YAML: a playbook names a
command and gives its parameters, each checked against a pattern and passed as one argv element
(the transport quotes it), so no data ever becomes shell syntax."""

from __future__ import annotations

import re

from findings.model import clean_text

from .base import Action, ActionContext, ParamError, run_checked

ACCOUNT = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
UNIT = re.compile(r"^[A-Za-z0-9@._-]{1,128}$")
PATH = re.compile(r"^/[A-Za-z0-9._/@+-]{0,1023}$")

# name → (argv template, {param: pattern}, destructive, return codes that mean success)
COMMANDS: dict[str, tuple[tuple[str, ...], dict[str, re.Pattern], bool, tuple[int, ...]]] = {
    "who": (("who",), {}, False, (0,)),
    "last-logins": (("last", "-n", "50", "-F", "-i"), {}, False, (0,)),
    "processes": (("ps", "-eo", "pid,user,etime,args"), {}, False, (0,)),
    "listening": (("ss", "-tulpn"), {}, False, (0,)),
    "auth-log": (("tail", "-n", "500", "/var/log/auth.log"), {}, False, (0,)),
    "file-hash": (("sha256sum", "--", "{path}"), {"path": PATH}, False, (0,)),
    "account-status": (("passwd", "-S", "{user}"), {"user": ACCOUNT}, False, (0,)),
    "lock-account": (("usermod", "--lock", "--expiredate", "1", "{user}"), {"user": ACCOUNT}, True, (0,)),
    "unlock-account": (("usermod", "--unlock", "--expiredate", "", "{user}"), {"user": ACCOUNT}, True, (0,)),
    "kill-sessions": (("pkill", "-KILL", "-u", "{user}"), {"user": ACCOUNT}, True, (0, 1)),
    "stop-service": (("systemctl", "stop", "{service}"), {"service": UNIT}, True, (0,)),
}


def build_argv(command: str, args: dict) -> list[str]:
    """The argv of an allow-listed command with its checked parameters (pure)."""
    if command not in COMMANDS:
        raise ParamError(f"command {command!r} is not allow-listed (allowed: {', '.join(sorted(COMMANDS))})")
    template, patterns, _, _ = COMMANDS[command]
    extra = set(args) - set(patterns)
    if extra:
        raise ParamError(f"command {command!r} takes no parameter {sorted(extra)[0]!r}")
    argv = []
    for part in template:
        if part.startswith("{") and part.endswith("}"):
            key = part[1:-1]
            value = str(args.get(key, ""))
            if not patterns[key].match(value):
                raise ParamError(f"command {command!r}: parameter {key!r} is not valid: {value!r}")
            argv.append(value)
        else:
            argv.append(part)
    return argv


def _run(ctx: ActionContext, params: dict, dry_run: bool) -> dict:
    argv = build_argv(params["command"], dict(params.get("args") or {}))
    if COMMANDS[params["command"]][2]:  # changes the host: needs root
        argv = [*ctx.privileged, *argv]
    if dry_run:
        return {"host": params["host"], "would_run": argv}
    ok = COMMANDS[params["command"]][3]
    rc, out = run_checked(ctx.need_transport(), params["host"], argv, ok=ok)
    return {"host": params["host"], "argv": argv, "rc": rc, "output": clean_text(out, 8000)}


RUN_COMMAND = Action(
    name="run_command", doc="Run an allow-listed command on a host over SSH.",
    required=("host", "command"), optional=("args",), dry_run=True,
    destructive=lambda p: COMMANDS.get(str(p.get("command")), ((), {}, True, ()))[2], run=_run)
