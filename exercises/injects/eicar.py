"""``eicar`` — ``host``, ``path`` [/var/lib/citysec-data/documents/hoa-don.exe], ``scan`` [true].

Drops the EICAR test file; with ``scan`` the host's clamd scans the file's folder as its scheduled
scan does (``CONTSCAN`` on /run/clamav/clamd.ctl), which writes the detection to the host's
clamav.log (skipped when clamd is not running, as on a host whose antivirus is off).
Facts: path, sha256, folders created, the scanner's answer. Cleanup removes the file and the
folders it created; verify: the file is absent.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from exercises.range import EICAR
from findings.errors import RuntimeFailure, UsageError

from .base import BOOL, STR, InjectKind, Params, is_dir, missing_dirs, param, path_problem, remove_dirs, sha

CLAMD_SOCKET = "UNIX-CONNECT:/run/clamav/clamd.ctl"


@dataclass(frozen=True)
class EicarParams(Params):
    host: str = param("a host name", STR)
    path: str = param("an absolute path", STR, "/var/lib/citysec-data/documents/hoa-don.exe")
    scan: bool = param("true or false", BOOL, True)

    def problems(self):
        return [("path", m)] if (m := path_problem(self.path)) else []


class Eicar(InjectKind):
    name = "eicar"
    Params = EicarParams

    def apply(self, rng, params):
        p = self.parse(params)
        host, path = rng.host(p.host).name, p.path
        before = rng.read_file(host, path)
        if before not in (None, EICAR.encode()):
            raise UsageError(f"{host}: {path} exists; an eicar inject does not overwrite a file")
        created = missing_dirs(rng, host, path)
        rng.drop_file(host, path, EICAR)
        facts = {"path": path, "sha256": sha(EICAR.encode()), "created_dirs": created, "scan": None}
        if p.scan and rng.service_running(host, "clamd"):
            facts["scan"] = self._scan(rng, host, os.path.dirname(path))
        return facts

    @staticmethod
    def _scan(rng, host: str, folder: str) -> str:
        proc = rng.exec(host, ["socat", "-", CLAMD_SOCKET], input=f"CONTSCAN {folder}\n", timeout=120)
        if proc.returncode != 0:
            raise RuntimeFailure(f"{host}: clamd scan of {folder}: exit {proc.returncode}: {proc.stderr.strip()[:300]}")
        return proc.stdout.strip()

    def applied(self, rng, params, facts):
        p = self.parse(params)
        return rng.read_file(rng.host(p.host).name, p.path) == EICAR.encode()

    def cleanup(self, rng, params, facts):
        p = self.parse(params)
        host = rng.host(p.host).name
        rng.remove_file(host, p.path)
        remove_dirs(rng, host, facts.get("created_dirs", []))

    def verify(self, rng, params, facts):
        p = self.parse(params)
        host = rng.host(p.host).name
        out = [f"{host}: {p.path} still exists"] if rng.file_status(host, p.path) is not None else []
        return out + [f"{host}: folder {d} (created by the inject) still exists"
                      for d in facts.get("created_dirs", []) if is_dir(rng, host, d)]

    def describe(self, params):
        p = self.parse(params)
        scan = ", scanned by the host's clamd" if p.scan else ""
        return f"EICAR test file dropped at {p.path} on {p.host}{scan}"
