"""What a responder may write into a case's record (``case set ID FIELD VALUE``), checked when it
is set: ``help`` one of the documented values, ``damage_vnd`` a non-negative whole number of đồng,
``conditions`` one a deadline rule knows, dates real dates, free text bounded and without control
characters. Form 05 and the reports print these values, so a wrong one is refused (exit 2), never
stored. docs/incident-response.md lists the fields."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

from findings.errors import UsageError
from reports.cases import HELP

from .casedb import LIST_FIELDS, SETTABLE

TEXT_LIMIT = 4000            # characters of one text field
ITEM_LIMIT = 500             # characters of one item of a list field
DAMAGE_LIMIT = 10 ** 15      # đồng: beyond any agency's budget, so surely a typo
DATE_FIELDS: tuple[str, ...] = ()      # record fields holding a date (YYYY-MM-DD); none settable yet
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SLUG = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def accepts(name: str, conditions: Iterable[str] = ()) -> str:
    """What field ``name`` accepts, in words (for the error and for ``--help``)."""
    if name == "help":
        return "one of " + ", ".join(HELP)
    if name == "damage_vnd":
        return "a whole number of đồng, 0 or more (e.g. 15000000)"
    if name == "conditions":
        known = sorted(set(conditions))
        return "one of " + ", ".join(known) if known else "a condition a deadline rule of the profile names"
    if name in DATE_FIELDS:
        return "a date YYYY-MM-DD"
    limit = ITEM_LIMIT if name in LIST_FIELDS else TEXT_LIMIT
    return f"text of 1 to {limit} characters without control characters"


def check_field(name: str, value: str, conditions: Iterable[str] = ()) -> str | int:
    """The value to store for ``name``, or a UsageError naming the field and what it accepts
    (pure). ``conditions``: the conditions the deadline rules know."""
    if name not in SETTABLE:
        raise UsageError(f"unknown case field {name!r}; settable: {', '.join(SETTABLE)}")
    known = set(conditions)
    ok: str | int | None = None
    if name == "help":
        ok = value if value in HELP else None
    elif name == "damage_vnd":
        digits = value.strip().replace("_", "")
        ok = int(digits) if digits.isascii() and digits.isdigit() and int(digits) < DAMAGE_LIMIT else None
    elif name == "conditions":
        ok = value if _SLUG.match(value) and (value in known) else None
    elif name in DATE_FIELDS:
        try:
            ok = date.fromisoformat(value).isoformat()
        except ValueError:
            ok = None
    else:
        limit = ITEM_LIMIT if name in LIST_FIELDS else TEXT_LIMIT
        ok = value if value.strip() and len(value) <= limit and not _CONTROL.search(value) else None
    if ok is None:
        raise UsageError(f"case field {name}: {_show(value)} is not accepted; {name} takes {accepts(name, known)}")
    return ok


def _show(value: str) -> str:
    text = _CONTROL.sub("?", value)
    return repr(text if len(text) <= 60 else text[:59] + "…")
