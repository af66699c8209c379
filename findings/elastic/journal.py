"""The sent journal: outbox rows the server acknowledged, until a later ship confirms them.

A real Elasticsearch acknowledges a write after its translog is on disk; a server that does not
(noida-db writes a snapshot about a second later) loses the last acknowledged writes when it is
killed. So an acknowledged row moves from ``outbox`` to ``outbox_sent`` in one transaction. It
leaves the journal when the server answers again, without trouble, more than the settle time
later in the same ship (:func:`survived`). Rows the ship could not vouch for (the tail of a ship,
rows sent before a connection failure, which :func:`expire` marks) are looked up by the next
ship: found and older than the settle time → dropped; missing → back into the outbox (its
original ``seq``), delivered again with the same id.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

from findings.store import Store


def mark_sent(store: Store, seqs: Sequence[int], now: float | None = None) -> None:
    """Move acknowledged outbox rows to the journal (one transaction)."""
    if not seqs:
        return
    when = time.time() if now is None else now
    params = [(when, s) for s in seqs]
    with store.write() as c:
        c.executemany("INSERT OR REPLACE INTO outbox_sent (seq, stream, dataset, doc_id, body, sent_at)"
                      " SELECT seq, stream, dataset, doc_id, body, ? FROM outbox WHERE seq=?", params)
        c.executemany("DELETE FROM outbox WHERE seq=?", [(s,) for s in seqs])


def due(store: Store, older_than: float, limit: int = 5000, after: int = 0) -> list[dict[str, Any]]:
    """Journal rows sent before ``older_than`` (epoch seconds), to look up on the server."""
    return [dict(r) for r in store.query(
        "SELECT seq, stream, dataset, doc_id, body, sent_at FROM outbox_sent WHERE seq>? AND sent_at<=?"
        " ORDER BY seq LIMIT ?", (after, older_than, limit))]


def expire(store: Store, before: float | None = None) -> None:
    """The server had trouble: look up every row sent before now at the next chance, settled or
    not (a crashed server may have lost them)."""
    with store.write() as c:
        c.execute("UPDATE outbox_sent SET sent_at=0 WHERE sent_at<=?",
                  (time.time() if before is None else before,))


def survived(store: Store, since: float, until: float) -> int:
    """Drop rows sent in [since, until]: the server answered after them without trouble."""
    if until < since:
        return 0
    with store.write() as c:
        return c.execute("DELETE FROM outbox_sent WHERE sent_at>=? AND sent_at<=?", (since, until)).rowcount


def confirmed(store: Store, seqs: Iterable[int]) -> None:
    with store.write() as c:
        c.executemany("DELETE FROM outbox_sent WHERE seq=?", [(s,) for s in seqs])


def requeue(store: Store, seqs: Iterable[int]) -> int:
    """Missing on the server: back to the outbox (unless a newer row of that id waits there)."""
    n = 0
    with store.write() as c:
        for s in seqs:
            n += c.execute("INSERT OR IGNORE INTO outbox (seq, stream, dataset, doc_id, body)"
                           " SELECT seq, stream, dataset, doc_id, body FROM outbox_sent WHERE seq=?",
                           (s,)).rowcount
            c.execute("DELETE FROM outbox_sent WHERE seq=?", (s,))
    return n


def depth(store: Store) -> int:
    return store.query("SELECT COUNT(*) FROM outbox_sent")[0][0]
