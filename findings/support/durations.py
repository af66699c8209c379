"""The one duration grammar: playbook time limits, drill offsets and windows, ``--since``.

``2d``, ``4h``, ``30m``, ``90s`` or parts of them in that order (``1h30m``, ``2d12h``); ``0``; a whole
number (not a string of digits) is seconds, as YAML gives ``at: 90``. Schedules ("every 6 hours")
are another grammar, a schedule's, in citysec.scheduler.spec.
"""

from __future__ import annotations

import re
from datetime import timedelta

_GRAMMAR = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
EXAMPLES = "90s, 30m, 1h30m, 4h or 2d"


def parse_duration(value: str | int) -> timedelta:
    """A duration as a timedelta; ValueError naming the value and the grammar otherwise."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return timedelta(seconds=value)
    if value == "0":
        return timedelta(0)
    m = _GRAMMAR.match(value.strip()) if isinstance(value, str) else None
    if not m or not any(m.groups()):
        raise ValueError(f"invalid duration {value!r}: give e.g. {EXAMPLES}")
    d, h, mi, s = (int(g or 0) for g in m.groups())
    return timedelta(days=d, hours=h, minutes=mi, seconds=s)
