"""``deface`` — ``host``, ``path`` [/var/www/html/index.html], ``content`` [a defacement page].

Facts: sha256 and mode of the original, where its copy is kept (range state folder). Cleanup
restores it byte for byte (mode and owner too); verify: sha256 and mode equal the original's.
After a crash that lost the facts, the record apply wrote beside the saved copy stands in.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass

from findings.errors import RuntimeFailure

from .base import STR, InjectKind, Params, missing_dirs, param, path_problem, remove_dirs, sha

DEFACED = ("<!doctype html><html><head><title>Hacked</title></head><body>"
           "<h1>HACKED BY citysec drill</h1><p>This site has been defaced (exercise inject).</p></body></html>\n")


@dataclass(frozen=True)
class DefaceParams(Params):
    host: str = param("a host name", STR)
    path: str = param("an absolute path", STR, "/var/www/html/index.html")
    content: str = param("text", STR, DEFACED)

    def problems(self):
        return [("path", m)] if (m := path_problem(self.path)) else []


def _saved(path: str) -> bytes | None:
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except FileNotFoundError:
        return None


class Deface(InjectKind):
    name = "deface"
    Params = DefaceParams

    @staticmethod
    def _copy(rng, host: str, path: str) -> str:
        return os.path.join(rng.state_dir, "injects", "deface", host, hashlib.sha256(path.encode()).hexdigest()[:16])

    def apply(self, rng, params):
        p = self.parse(params)
        host = rng.host(p.host).name
        copy, defaced = self._copy(rng, host, p.path), p.content.encode()
        before = rng.read_file(host, p.path)
        if before == defaced and os.path.exists(copy + ".json"):  # applied before: keep the first copy
            with open(copy + ".json") as fh:
                return json.load(fh)
        facts = {"path": p.path, "existed": before is not None, "sha256_defaced": sha(defaced),
                 "saved_copy": copy, "created_dirs": missing_dirs(rng, host, p.path)}
        if before is not None:
            st = rng.file_status(host, p.path)
            facts.update(sha256_original=sha(before), mode=st.st_mode & 0o7777, uid=st.st_uid, gid=st.st_gid)
            os.makedirs(os.path.dirname(copy), exist_ok=True)
            with open(copy, "wb") as fh:
                fh.write(before)
        with open(copy + ".json", "w") as fh:
            json.dump(facts, fh)
        rng.drop_file(host, p.path, defaced, mode=facts.get("mode", 0o644))
        return facts

    def _facts(self, rng, p: DefaceParams, facts: dict) -> dict:
        """The facts, or (lost in a crash) the record apply wrote beside the saved copy."""
        record = self._copy(rng, rng.host(p.host).name, p.path) + ".json"
        if facts or not os.path.exists(record):
            return facts
        with open(record) as fh:
            return json.load(fh)

    def applied(self, rng, params, facts):
        p = self.parse(params)
        data = rng.read_file(rng.host(p.host).name, p.path)
        return data is not None and sha(data) == sha(p.content.encode())

    def cleanup(self, rng, params, facts):
        p = self.parse(params)
        host, facts = rng.host(p.host).name, self._facts(rng, p, facts)
        if not facts:  # no record: apply never got as far as changing the page
            return
        if not facts["existed"]:
            rng.remove_file(host, p.path)
            remove_dirs(rng, host, facts.get("created_dirs", []))
            return
        data = rng.read_file(host, p.path)
        if data is None or sha(data) != facts["sha256_original"]:
            data = _saved(facts["saved_copy"])
            if data is None or sha(data) != facts["sha256_original"]:
                raise RuntimeFailure(f"{host}: the saved copy of {p.path} is missing or altered: not restored")
        rng.drop_file(host, p.path, data, mode=facts["mode"], owner=(facts["uid"], facts["gid"]))

    def verify(self, rng, params, facts):
        p = self.parse(params)
        host, facts = rng.host(p.host).name, self._facts(rng, p, facts)
        data = rng.read_file(host, p.path)
        if not facts:
            return [f"{host}: {p.path} is the defaced page and no copy of the original is kept"] \
                if self.applied(rng, params, facts) else []
        if not facts["existed"]:
            return [f"{host}: {p.path} (created by the inject) still exists"] if data is not None else []
        if data is None:
            return [f"{host}: {p.path} is missing"]
        out, mode = [], rng.file_status(host, p.path).st_mode & 0o7777
        if sha(data) != facts["sha256_original"]:
            out.append(f"{host}: {p.path} differs from the original (sha256 {sha(data)[:12]}...)")
        if mode != facts["mode"]:
            out.append(f"{host}: {p.path} has mode {mode:o}, the original {facts['mode']:o}")
        return out

    def describe(self, params):
        p = self.parse(params)
        return f"web page {p.path} on {p.host} defaced"
