"""The shipper: delivers the store's outbox to Elasticsearch in bulk, exactly once.

- ids are deterministic: ``_id`` = the outbox ``doc_id`` (a history or event id, or for ``state``
  the fingerprint). History and events go to data streams with ``create``: a 409 means the
  document is there already, which is success. State goes to ``citysec-state`` with ``index`` and
  an external version (timestamp and outbox seq), so an old state never overwrites a newer one
  and a repeat is a harmless 409.
- connection errors, 429 and 5xx are retried with exponential backoff for ``retry_for`` seconds,
  then :class:`ElasticUnreachable` (exit 3) with every undelivered row still in the outbox.
- a document the server rejects (400: mapping error) becomes a dead letter with the server's
  reason; other per-document failures are retried and given up after ``max_attempts`` ships.
- acknowledged rows go to the sent journal (:mod:`elastic_journal`) until a later ship finds them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from elasticsearch import Elasticsearch

from findings.elastic import client as elastic
from findings.elastic import journal
from findings.elastic import templates as T
from findings.model import parse_ts
from findings.store import Store

ITEM_RETRIES = 4         # per-document 429/5xx retried this many times within one ship
LOOKUP_CHUNK = 1000


@dataclass
class ShipResult:
    sent: int = 0              # acknowledged (created, indexed)
    already: int = 0           # 409: the server had it (a repeat after a crash or retry)
    dead_letters: int = 0
    deferred: int = 0          # still failing per document: stays in the outbox
    requeued: int = 0          # acknowledged earlier, missing on the server: sent again
    confirmed: int = 0         # journal rows found on the server
    batches: int = 0
    retries: int = 0
    remaining: int = 0         # outbox depth at the end
    unconfirmed: int = 0       # journal depth at the end

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def action_line(row: Any, namespace: str) -> str:
    """The bulk action of one outbox row."""
    if row["stream"] == "state":
        return json.dumps({"index": {"_index": T.STATE_INDEX, "_id": row["doc_id"],
                                     "version": state_version(row), "version_type": "external"}})
    return json.dumps({"create": {"_index": T.stream_name(row["dataset"], namespace), "_id": row["doc_id"]}})


def state_version(row: Any) -> int:
    """Newer observations of a fingerprint have higher versions: timestamp (ms), then outbox seq."""
    ts = parse_ts(json.loads(row["body"])["@timestamp"])
    return int(ts.timestamp() * 1000) * 1000 + row["seq"] % 1000


def target(row: Any, namespace: str) -> str:
    return T.STATE_INDEX if row["stream"] == "state" else T.stream_name(row["dataset"], namespace)


def classify(rows: Sequence[Any], items: Sequence[dict]) -> tuple[list[int], list[int], list[tuple], list]:
    """Judge a bulk response: (delivered seqs, already-there seqs, dead letters, rows to retry)."""
    done, already, dead, retry = [], [], [], []
    for row, item in zip(rows, items, strict=True):
        res = next(iter(item.values()))
        status = res.get("status", 0)
        if 200 <= status < 300:
            done.append(row["seq"])
        elif status == 409:
            already.append(row["seq"])
        elif status == 400:
            dead.append((row["seq"], status, reason_of(res)))
        else:
            retry.append((row, status, reason_of(res)))
    return done, already, dead, retry


def reason_of(res: dict) -> str:
    err = res.get("error") or {}
    if isinstance(err, str):
        return err
    text = f"{err.get('type', 'error')}: {err.get('reason', '')}"
    cause = err.get("caused_by") or {}
    if cause.get("reason"):
        text += f" (caused by {cause.get('type')}: {cause['reason']})"
    return text[:2000]


class Shipper:
    def __init__(self, client: Elasticsearch, store: Store, *, namespace: str, where: str,
                 batch_size: int = 2000, retry_for: float = 60.0, settle_seconds: float = 5.0,
                 max_attempts: int = 10, retention_days: int = 400,
                 sleep: Callable[[float], None] = time.sleep):
        self.client, self.store, self.namespace = client, store, namespace
        self.batch_size, self.settle, self.max_attempts = batch_size, settle_seconds, max_attempts
        self.retention_days, self.sleep = retention_days, sleep
        self.call = elastic.Retrier(where=where, retry_for=retry_for, sleep=sleep, on_trouble=self.trouble)
        self.areas: set[str] = set()
        self.data_streams = True
        self.troubled = False
        self.started = time.time()
        self.result = ShipResult()

    def trouble(self) -> None:
        """A connection error, 429 or 5xx: what the server acknowledged so far is looked up again."""
        self.troubled = True
        journal.expire(self.store)

    def survived(self, answered_at: float) -> None:
        """The server answered ``settle`` seconds after acknowledging rows sent in this ship, with no
        trouble in between (trouble expires them): it kept them. No lookup needed."""
        self.result.confirmed += journal.survived(self.store, self.started, answered_at - self.settle)

    def run(self) -> ShipResult:
        self.started = time.time()
        self.prepare()
        self.confirm()
        after = 0
        while rows := self.store.outbox_batch(self.batch_size, after):
            after = rows[-1]["seq"]
            self.map_areas(rows)
            self.deliver(rows)
            self.result.batches += 1
        if self.troubled:  # the server came back during this ship: did it keep what it had acknowledged?
            self.confirm()
        self.result.retries = self.call.retries
        self.result.remaining = self.store.outbox_depth()
        self.result.unconfirmed = journal.depth(self.store)
        return self.result

    def prepare(self) -> None:
        """Run setup if it never ran (so nothing is dynamically mapped), and learn the mapped areas."""
        areas = self.call(lambda: elastic.known_areas(self.client), "reading the templates")
        if areas is None:
            self.call(lambda: elastic.setup(self.client, retention_days=self.retention_days), "setup")
            areas = self.call(lambda: elastic.known_areas(self.client), "reading the templates")
        self.areas = areas or set()
        caps = self.call(lambda: elastic.capabilities(self.client), "feature detection")
        self.data_streams = caps.data_streams

    def map_areas(self, rows: Sequence[Any]) -> None:
        wanted = {T.area_of(r["dataset"]) for r in rows}
        if not wanted <= self.areas:
            self.areas = self.call(lambda: elastic.ensure_areas(self.client, wanted, self.areas), "mapping")

    def deliver(self, rows: Sequence[Any]) -> None:
        pending = list(rows)
        for attempt in range(ITEM_RETRIES + 1):
            payload = "".join(f"{action_line(r, self.namespace)}\n{r['body']}\n" for r in pending)
            resp = self.call(lambda p=payload: self.client.bulk(operations=p.encode("utf-8")).body, "bulk")
            done, already, dead, retry = classify(pending, resp["items"])
            journal.mark_sent(self.store, done + already)
            self.survived(time.time())
            if dead:
                self.store.dead_letter(dead)
            self.result.sent += len(done)
            self.result.already += len(already)
            self.result.dead_letters += len(dead)
            if not retry:
                return
            if attempt < ITEM_RETRIES:
                self.sleep(elastic.backoff(attempt))
                pending = [r for r, _, _ in retry]
        self.give_up(retry)

    def give_up(self, retry: list[tuple]) -> None:
        """Per-document failures left after this ship: count an attempt; dead letter at the limit."""
        self.store.outbox_attempted([r["seq"] for r, _, _ in retry])
        final = [(r["seq"], status, f"gave up after {r['attempts'] + 1} attempts: {reason}")
                 for r, status, reason in retry if r["attempts"] + 1 >= self.max_attempts]
        if final:
            self.store.dead_letter(final)
        self.result.dead_letters += len(final)
        self.result.deferred += len(retry) - len(final)

    def confirm(self) -> None:
        """Look up the journal on the server (the tail of earlier ships, and rows expired by
        trouble): missing → back in the outbox; found and past the settle time → dropped; found
        but younger → kept for the next ship's look."""
        now, after, refreshed = time.time(), 0, False
        while rows := journal.due(self.store, now, LOOKUP_CHUNK, after):
            after = rows[-1]["seq"]
            if self.data_streams and not refreshed:  # search is near real time; mget is not used
                self.call(lambda: self.client.indices.refresh(
                    index=f"{T.STATE_INDEX},{T.LOGS_PATTERN}", ignore_unavailable=True,
                    allow_no_indices=True), "refresh")
                refreshed = True
            have = self.lookup(rows)
            found = [r["seq"] for r in rows if r["doc_id"] in have.get(target(r, self.namespace), {})
                     and (r["stream"] != "state" or have[target(r, self.namespace)][r["doc_id"]] >= state_version(r))]
            missing = sorted({r["seq"] for r in rows} - set(found))
            if missing:
                self.result.requeued += journal.requeue(self.store, missing)
            sent_at = {r["seq"]: r["sent_at"] for r in rows}
            settled = [s for s in found if now - sent_at[s] >= self.settle]
            journal.confirmed(self.store, settled)
            self.result.confirmed += len(settled)

    def lookup(self, rows: Sequence[dict]) -> dict[str, dict[str, int]]:
        """index → {id: version} of the rows the server has. Data streams: a search by ids (a
        document id is not unique across backing indices); plain indices: mget (real time)."""
        by_index: dict[str, list[str]] = {}
        for r in rows:
            by_index.setdefault(target(r, self.namespace), []).append(r["doc_id"])
        out: dict[str, dict[str, int]] = {}
        for index, ids in by_index.items():
            if self.data_streams:
                resp = self.call(lambda index=index, ids=ids: self.client.search(
                    index=index, query={"ids": {"values": ids}}, size=len(ids), source=False, version=True,
                    ignore_unavailable=True, allow_no_indices=True), "lookup")
                out[index] = {h["_id"]: h.get("_version", 0) for h in resp["hits"]["hits"]}
            else:
                resp = self.call(lambda index=index, ids=ids: self.client.options(ignore_status=404).mget(
                    index=index, ids=ids, source=False, realtime=True), "lookup")
                out[index] = {d["_id"]: d.get("_version", 0) for d in resp.get("docs", []) if d.get("found")}
        return out
