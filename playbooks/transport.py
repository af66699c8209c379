"""The actions' transport over the collectors' SSH sessions: ``exec(host, argv)`` quotes every
argument (``shlex.join``: the remote shell turns it back into the same argv; no data ever becomes
shell syntax) and returns ``(rc, stdout, stderr)``; SSH failures become ActionError."""

from __future__ import annotations

import shlex

from collectors.hostkeys import KnownHosts
from collectors.ssh import CollectError, Session, Target, Timeouts

from .actions.base import ActionError


class SshTransport:
    def __init__(self, targets: dict[str, Target], known_hosts: KnownHosts, timeouts: Timeouts = Timeouts()):
        self.targets, self.known, self.timeouts = targets, known_hosts, timeouts

    def exec(self, host: str, argv: list[str], *, timeout: float = 60) -> tuple[int, str, str]:
        target = self.targets.get(host)
        if target is None:
            raise ActionError(f"{host} is not a registered host that citysec can reach over SSH")
        try:
            with Session(target, self.known, self.timeouts) as s:
                r = s.run(shlex.join(argv), timeout=timeout)
        except CollectError as exc:
            raise ActionError(f"{host}: {exc.reason}") from exc
        if r.truncated or r.rc is None:
            raise ActionError(f"{host}: the output of {argv[0]} passed the size limit")
        return r.rc, r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")
