"""Build a small range for a test session: ``with build_range(spec, "sc", tmp) as r: ...``.

Other areas use it in session-scoped fixtures, each with its own range name and address block
(see docs/range.md). The range comes up on enter and is removed on exit, also after a failure.
"""

from __future__ import annotations

import contextlib
import os
from typing import Iterator

from exercises.range import Range, load_spec


@contextlib.contextmanager
def build_range(spec: dict | str, name: str, state_dir: str | os.PathLike) -> Iterator[Range]:
    """Up on enter, down on exit. ``spec`` is a mapping or a YAML file; ``name`` overrides its name."""
    loaded = load_spec({**spec, "name": name}) if isinstance(spec, dict) else load_spec(str(spec)).renamed(name)
    rng = Range(loaded, state_dir=str(state_dir))
    try:
        rng.up()
        yield rng
    finally:
        rng.down()
