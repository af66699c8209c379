"""Hash chains of append-only logs (the playbooks' case audit, the triage log).

Each entry's hash is SHA-256 over the previous entry's hash and the canonical JSON of the entry's
fields; the first entry's previous hash is :data:`GENESIS`. :func:`verify` recomputes a chain.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from typing import Any

GENESIS = "0" * 64


def link_hash(prev: str, *fields: Any) -> str:
    body = json.dumps(list(fields), ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((prev + body).encode("utf-8")).hexdigest()


def verify(rows: Sequence[dict[str, Any]], fields: Callable[[dict[str, Any]], tuple], *, prefix: str = "",
           what: str = "what") -> list[str]:
    """Problems of entries ordered by ``seq`` (1, 2, ...): a gap, a broken link, changed content.
    ``fields(row)`` gives the hashed fields of a row (after its previous hash)."""
    problems, prev = [], GENESIS
    for expected, r in enumerate(rows, start=1):
        if r["seq"] != expected:
            problems.append(f"{prefix}entry {expected} is missing (next is {r['seq']})")
            break
        if r["prev"] != prev:
            problems.append(f"{prefix}entry {r['seq']}: previous-hash link broken")
        if link_hash(r["prev"], *fields(r)) != r["hash"]:
            problems.append(f"{prefix}entry {r['seq']} ({r[what]} by {r['actor']} at {r['ts']}): content changed")
        prev = r["hash"]
    return problems
