"""The contract every technical inject kind keeps, its typed parameters, and shared helpers.

A kind (one module each) is an ``InjectKind`` with a frozen ``Params`` dataclass:

- ``check(params)`` → ``[(key, message)]``: validation, pure (no range); unknown keys are refused.
  ``parse(params)`` → the typed parameters (``UsageError`` naming every problem). The scenario
  loader (``exercises/validate.py``) checks every technical inject with them.
- ``targets(params)`` → the range host names (for ``rogue_host``: the address) it acts on.
- ``apply(rng, params)`` → ``facts``: makes the change; the JSON-serialisable facts (what was there
  before, what was saved where) are kept by the runner and passed to the other methods.
- ``applied(rng, params, facts)`` → whether the change is present now (after a crash, an inject
  whose effect is already there is not sent twice). ``apply`` on an applied inject does no harm.
- ``cleanup(rng, params, facts)``: undoes it; ``verify(rng, params, facts)`` → what still differs
  from the range's description, one line per difference naming the host (empty: equal again).
- ``describe(params)``: one line for the MSEL table and the timeline.

``params`` is the scenario's mapping or the kind's ``Params``. Kinds act on the range only through
its public API (``exercises.range.Range``), whose file methods are the one guard: inside a host's
own /var, /run, /dev, never through a symbolic link.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import stat
import time
from dataclasses import MISSING, dataclass, field
from typing import Any, ClassVar

from findings.errors import UsageError

SLACK_H = 0.25  # tolerance on ages (hours): commands take time between "now" and the check
STR, BOOL, NUM, INT = (str,), (bool,), (int, float), (int,)


def param(what: str, types: tuple[type, ...], default: Any = MISSING) -> Any:
    """A parameter field: ``what`` is said when the value has another type than ``types``."""
    meta = {"what": what, "types": types}
    return field(metadata=meta) if default is MISSING else field(default=default, metadata=meta)


@dataclass(frozen=True)
class Params:
    """The parameters of one kind (subclasses: frozen dataclasses of ``param`` fields)."""

    TARGETS: ClassVar[tuple[str, ...]] = ("host",)  # the fields naming what the inject acts on

    def problems(self) -> list[tuple[str, str]]:
        """Problems between fields (after the types are right)."""
        return []

    @classmethod
    def check(cls, data: Any) -> list[tuple[str, str]]:
        """``[(key, message)]`` for a scenario's mapping (empty: ``parse`` succeeds)."""
        if not isinstance(data, dict):
            return [("", f"expected a mapping of parameters, got {type(data).__name__}")]
        fields = {f.name: f for f in dataclasses.fields(cls)}
        problems = [(k, f"unknown key (allowed: {', '.join(sorted(fields))})") for k in data if k not in fields]
        for name, f in fields.items():
            if name not in data:
                if f.default is MISSING:
                    problems.append((name, "required"))
                continue
            value, types = data[name], f.metadata["types"]
            if (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
                problems.append((name, f"expected {f.metadata['what']}, got {value!r}"))
        return problems or cls(**data).problems()

    @classmethod
    def parse(cls, data: Any, kind: str) -> Params:
        if isinstance(data, cls):
            return data
        problems = cls.check(data)
        if problems:
            raise UsageError(f"inject {kind}: " + "; ".join(f"{k or '.'}: {m}" for k, m in problems))
        return cls(**data)


class InjectKind:
    """One kind of technical inject; subclasses set ``name`` and ``Params`` and act on the range."""

    name: ClassVar[str] = ""
    Params: ClassVar[type[Params]] = Params

    def check(self, params: Any) -> list[tuple[str, str]]:
        return params.problems() if isinstance(params, self.Params) else self.Params.check(params)

    def parse(self, params: Any) -> Any:
        """The typed parameters (``UsageError`` naming every problem)."""
        return self.Params.parse(params, self.name)

    def targets(self, params: Any) -> list[str]:
        data = dataclasses.asdict(params) if isinstance(params, self.Params) else params
        if not isinstance(data, dict):
            return []
        return [data[k] for k in self.Params.TARGETS if isinstance(data.get(k), str)]

    def apply(self, rng, params) -> dict:
        raise NotImplementedError

    def applied(self, rng, params, facts: dict) -> bool:
        raise NotImplementedError

    def cleanup(self, rng, params, facts: dict) -> None:
        raise NotImplementedError

    def verify(self, rng, params, facts: dict) -> list[str]:
        raise NotImplementedError

    def describe(self, params) -> str:
        raise NotImplementedError


# ----- helpers the kinds share
def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def elapsed_h(rng) -> float:
    """Hours since the range came up (ages in its description are relative to that moment)."""
    since = rng.up_since
    return (time.time() - since) / 3600 if since else 0.0


def path_problem(path: Any) -> str | None:
    """Why ``path`` is no place for an inject's file (only under the host's own /var), or None."""
    if not isinstance(path, str) or not path.startswith("/var/"):
        return f"expected an absolute path under /var (the host's own folder), got {path!r}"
    parts = path.split("/")
    if ".." in parts or "." in parts or "" in parts[1:] or parts[2] in ("run", "lock"):
        return f"{path!r}: no '..', '.', '//' or trailing '/', and not under /var/run or /var/lock"
    return None


def missing_dirs(rng, host: str, path: str) -> list[str]:
    """The folders (inside the host) above ``path`` that do not exist yet, deepest first."""
    out, parent = [], os.path.dirname(path)
    while parent not in ("/", "/var"):
        st = rng.file_status(host, parent)
        if st is not None and stat.S_ISDIR(st.st_mode):
            break
        out.append(parent)
        parent = os.path.dirname(parent)
    return out


def remove_dirs(rng, host: str, dirs: list[str]) -> None:
    """Remove the folders an inject created, deepest first, only when empty (something else may
    have been put there since)."""
    for d in dirs:
        rng.remove_dir(host, d)


def is_dir(rng, host: str, path: str) -> bool:
    st = rng.file_status(host, path)
    return st is not None and stat.S_ISDIR(st.st_mode)
