"""``antivirus`` — ``host``, ``state``: stopped (clamd stopped) or stale with ``signature_age_hours``
(≥ 73; clamd keeps running if it ran).

Facts: clamd running before, the database's age before. Cleanup: the database rebuilt with the
described age (not a fresh one) and clamd running iff described; verify: clamd running iff
described, database age at most the described one (plus the time since ``up``, plus slack).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from findings.errors import UsageError

from .base import NUM, SLACK_H, STR, InjectKind, Params, elapsed_h, param

DB = "/var/lib/clamav/daily.cud"


def db_age_h(rng, host: str) -> float | None:
    st = rng.file_status(host, DB)
    return None if st is None else (time.time() - st.st_mtime) / 3600


@dataclass(frozen=True)
class AntivirusParams(Params):
    host: str = param("a host name", STR)
    state: str = param("stopped or stale", STR)
    signature_age_hours: float | None = param("a number of hours", NUM, None)

    def problems(self):
        age = self.signature_age_hours
        if self.state not in ("stopped", "stale"):
            return [("state", f"expected stopped or stale, got {self.state!r}")]
        if self.state == "stale" and age is None:
            return [("signature_age_hours", "required when state is stale")]
        if self.state == "stale" and age < 73:
            return [("signature_age_hours", f"expected at least 73 (older than the 72 h policy), got {age!r}")]
        if self.state == "stopped" and age is not None:
            return [("signature_age_hours", "only with state stale")]
        return []


class Antivirus(InjectKind):
    name = "antivirus"
    Params = AntivirusParams

    @staticmethod
    def _described(rng, host: str):
        av = rng.host(host).spec.antivirus
        if av is None or not av.installed:
            raise UsageError(f"{host}: its description has no antivirus (nothing to stop or age)")
        return av

    def apply(self, rng, params):
        p = self.parse(params)
        host = rng.host(p.host).name
        self._described(rng, host)
        running = rng.service_running(host, "clamd")
        facts = {"clamd_was_running": running, "signature_age_hours_before": db_age_h(rng, host)}
        if p.state == "stopped":
            if running:
                rng.set_antivirus(host, "stopped")
        else:
            rng.set_antivirus(host, {"signature_age_hours": float(p.signature_age_hours), "daemon": running})
        return facts

    def applied(self, rng, params, facts):
        p = self.parse(params)
        host = rng.host(p.host).name
        if p.state == "stopped":
            return not rng.service_running(host, "clamd")
        age = db_age_h(rng, host)
        return age is not None and age >= float(p.signature_age_hours) - SLACK_H

    def cleanup(self, rng, params, facts):
        p = self.parse(params)
        host = rng.host(p.host).name
        av = self._described(rng, host)
        if p.state == "stale":  # the described database again (its age counted from `up`)
            rng.set_antivirus(host, {"signature_age_hours": av.signature_age_hours + elapsed_h(rng), "daemon": av.daemon})
        if rng.service_running(host, "clamd") != av.daemon:
            rng.set_antivirus(host, "running" if av.daemon else "stopped")

    def verify(self, rng, params, facts):
        host = rng.host(self.parse(params).host).name
        av = self._described(rng, host)
        out = []
        if rng.service_running(host, "clamd") != av.daemon:
            out.append(f"{host}: clamd is {'not ' if av.daemon else ''}running; "
                       f"the description says {'running' if av.daemon else 'stopped'}")
        age, allowed = db_age_h(rng, host), av.signature_age_hours + elapsed_h(rng) + SLACK_H
        if age is None:
            out.append(f"{host}: no signature database {DB}")
        elif age > allowed:
            out.append(f"{host}: signature database is {age:.1f} h old; the description says "
                       f"{av.signature_age_hours:g} h at up (now at most {allowed:.1f} h)")
        return out

    def describe(self, params):
        p = self.parse(params)
        if p.state == "stale":
            return f"antivirus signatures on {p.host} made {p.signature_age_hours} h old"
        return f"antivirus daemon (clamd) stopped on {p.host}"
