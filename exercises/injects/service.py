"""``service`` — ``host``, ``service`` (telnet, ftp, http, http-admin, https, smb, rdp, vnc, mysql,
postgresql, redis, snmp, elasticsearch, docker-api), ``action`` [start] or stop (stop only for a
service the host's description lists).

Facts: port, whether it listened before, configuration files written for it. Cleanup: listening
again iff the description lists it; verify the same.
"""

from __future__ import annotations

from dataclasses import dataclass

from exercises.range import SERVICES
from findings.errors import UsageError

from .base import STR, InjectKind, Params, param

INJECT_SERVICES = tuple(s for s in SERVICES if s != "ssh")


@dataclass(frozen=True)
class ServiceParams(Params):
    host: str = param("a host name", STR)
    service: str = param("a service name", STR)
    action: str = param("start or stop", STR, "start")

    def problems(self):
        out = []
        if self.service not in INJECT_SERVICES:
            out.append(("service", f"expected one of {', '.join(INJECT_SERVICES)}, got {self.service!r}"))
        if self.action not in ("start", "stop"):
            out.append(("action", f"expected start or stop, got {self.action!r}"))
        return out


class Service(InjectKind):
    name = "service"
    Params = ServiceParams

    @staticmethod
    def _where(rng, p: ServiceParams) -> tuple[str, int, bool, bool]:
        """(host, port, udp, described) of the inject's service."""
        h = rng.host(p.host)
        return h.name, rng.service_spec(h.name, p.service).port, p.service == "snmp", p.service in h.services

    @staticmethod
    def _leftovers(rng, host: str, svc: str, described: bool, facts: dict) -> list[str]:
        """Configuration files the inject wrote that still exist (a described service keeps its own)."""
        if described:
            return []
        paths = set(facts.get("created_files", [])) | set(rng.service_config_paths(host, svc))
        return sorted(x for x in paths if rng.file_status(host, x) is not None)

    def apply(self, rng, params):
        p = self.parse(params)
        host, port, udp, described = self._where(rng, p)
        if p.action == "stop" and not described:
            raise UsageError(f"{host}: its description does not run {p.service}: nothing to stop")
        was = rng.listening(host, port, udp=udp)
        facts = {"port": port, "udp": udp, "was_listening": was, "described": described, "created_files": []}
        if p.action == "start" and not was:
            facts["created_files"] = rng.write_service_config(host, p.service)
            rng.service(host, p.service, "start")
        elif p.action == "stop" and was:
            rng.service(host, p.service, "stop")
        return facts

    def applied(self, rng, params, facts):
        p = self.parse(params)
        host, port, udp, _ = self._where(rng, p)
        return rng.listening(host, port, udp=udp) == (p.action == "start")

    def cleanup(self, rng, params, facts):
        p = self.parse(params)
        host, port, udp, described = self._where(rng, p)
        if rng.listening(host, port, udp=udp) != described:
            rng.service(host, p.service, "start" if described else "stop")
        for path in self._leftovers(rng, host, p.service, described, facts):
            rng.remove_file(host, path)

    def verify(self, rng, params, facts):
        p = self.parse(params)
        host, port, udp, described = self._where(rng, p)
        out = []
        if rng.listening(host, port, udp=udp) != described:
            state_ = "does not listen" if described else "listens"
            out.append(f"{host}: {p.service} ({'udp' if udp else 'tcp'}/{port}) {state_}; "
                       f"the description says {'running' if described else 'not running'}")
        return out + [f"{host}: {path} (written by the inject) still exists"
                      for path in self._leftovers(rng, host, p.service, described, facts)]

    def describe(self, params):
        p = self.parse(params)
        return f"service {p.service} {'started' if p.action == 'start' else 'stopped'} on {p.host}"
