"""The one exception tree of citysec. Only the command (citysec.cli) maps these to exit codes."""

from __future__ import annotations

from collections.abc import Iterable


class CitysecError(Exception):
    """Root of every error citysec raises on purpose."""

    exit_code = 3


class UsageError(CitysecError):
    """Bad input from the user: arguments, files, targets outside scope. Exit 2."""

    exit_code = 2


class ConfigError(UsageError):
    """Invalid configuration. Carries every problem found, each naming file, YAML path and line."""

    def __init__(self, problems: list[str] | str):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


class ScopeError(UsageError):
    """A target outside every configured agency network (or inside an exclusion)."""


class RuntimeFailure(CitysecError):
    """Something failed while running: a server down, a tool that crashed. Exit 3."""

    exit_code = 3


class MissingTool(RuntimeFailure):
    """A program citysec needs (nmap, restic, ...) is not installed. Exit 3."""


class StoreError(RuntimeFailure):
    """The findings store could not be read or written."""


def did_you_mean(value: object, known: Iterable[str]) -> str:
    """' (did you mean 'so-tttt'?)' for the closest known id, or ''."""
    import difflib
    close = difflib.get_close_matches(str(value), [str(k) for k in known], n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def unknown(kind: str, value: object, known: Iterable[str]) -> UsageError:
    """The usage error for an id that is not there: "unknown agency 'so-ttt' (did you mean
    'so-tttt'?); known: ...", the same words for agencies, sensors, playbooks and systems."""
    names = sorted(str(k) for k in known)
    return UsageError(f"unknown {kind} {value!r}{did_you_mean(value, names)}; known: {', '.join(names) or 'none'}")
