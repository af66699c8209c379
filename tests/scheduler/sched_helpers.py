"""Shared pieces of the scheduler tests: a temporary city config, a fake clock, a store on it."""

from __future__ import annotations

import os
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config" / "examples" / "haiphong.yaml"
HERE = Path(__file__).resolve().parent


def write_city(folder: Path, extra: str = "", replace: dict[str, str] | None = None) -> Path:
    """The example city with its store in ``folder``, plus ``extra`` YAML appended."""
    text = EXAMPLE.read_text(encoding="utf-8")
    text = text.replace("store: {path: var/citysec.db}", f"store: {{path: {folder / 'citysec.db'}}}")
    for old, new in (replace or {}).items():
        assert old in text, old
        text = text.replace(old, new)
    path = folder / "city.yaml"
    path.write_text(text + extra, encoding="utf-8")
    return path


class FakeClock:
    """An injectable clock: returns ``now`` until a test moves it."""

    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> datetime:
        self.now += timedelta(**kw)
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 30, 3, 0, tzinfo=timezone.utc))  # 10:00 in Hải Phòng


@pytest.fixture
def city_file(tmp_path: Path) -> Path:
    return write_city(tmp_path)


def cli_env(tmp_path: Path) -> dict[str, str]:
    """Environment for a `citysec run` subprocess that loads the test jobs module."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE), env.get("PYTHONPATH", "")]))
    env["SCHED_TEST_DIR"] = str(tmp_path)
    env.pop("CITYSEC_SENSOR", None)
    env.pop("CITYSEC_CONFIG", None)
    return env


def line_of(path: Path, pattern: str) -> int:
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if re.search(pattern, line):
            return n
    raise AssertionError(pattern)
