"""Notifications of what is new: queued changes → one digest per agency and channel per cycle →
delivery that survives a crash, a restart and a mail server outage.

1. The store queues each change (``notify_queue``) in the transaction that records it
   (:func:`findings.triage.after_record`): a new finding, a reopened one, a severity that rose, a
   triage decision that ended; the triage job adds expiries and overdue findings. A change's id is
   derived from the change, so it is queued once.
2. :func:`digest` takes every waiting change of a cycle in one transaction and writes the digests
   (``notify_out``) — one per agency and channel (and, for email, per language of its readers),
   already rendered. A change taken by a cycle is never taken again.
3. :func:`deliver` sends every digest not yet delivered and marks it delivered only after the
   server accepted it; a failure keeps it for the next cycle. A crash between the server's
   acceptance and the mark can repeat one digest: its Message-ID / Idempotency-Key stays the same,
   so a receiver can drop the repeat.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from findings.notify import send as notify_send
from findings.notify import text as notify_text
from findings.model import iso
from findings.triage import RANK

ALWAYS = ("expired", "triage_ended")      # notified whatever the severity


@dataclass(frozen=True)
class Reader:
    address: str
    lang: str = "vi"


@dataclass(frozen=True)
class Channels:
    """Where digests go, as plain values (built from the configuration by ``config/``)."""
    smtp: Mapping[str, Any] | None = None                     # host, port, sender, security, ca_file
    city: tuple[Reader, ...] = ()                              # the city team: every agency's digest
    contacts: Mapping[str, tuple[Reader, ...]] = field(default_factory=dict)   # agency → its readers
    webhooks: Mapping[str, str] = field(default_factory=dict)  # name → URL
    syslog: tuple[str, ...] = ()                               # "host:port/udp" or "host:port/tcp"
    names: Mapping[str, tuple[str, str | None]] = field(default_factory=dict)  # agency → (vi, en)
    min_severity: str = "high"
    lang: str = "vi"                                           # webhook and syslog text
    hostname: str = "-"

    def name(self, agency: str, lang: str) -> str:
        vi, en = self.names.get(agency, (agency, None))
        return (en or vi) if lang == "en" else vi


def _wanted(kind: str, severity: str, minimum: str) -> bool:
    return kind in ALWAYS or RANK[severity] >= RANK[minimum]


def _id(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def digest(store, ch: Channels, cycle: str) -> dict[str, Any]:
    """Take the waiting changes into this cycle's digests (one transaction). The changes of an
    agency that no channel reaches stay queued (``kept``, with ``kept_why``) until one does."""
    now = iso(store.clock())
    counts: dict[str, Any] = {"changes": 0, "below_threshold": 0, "digests": 0, "kept": 0}
    with store.write() as c:
        rows = c.execute("SELECT * FROM notify_queue WHERE cycle IS NULL ORDER BY agency, ts, id").fetchall()
        by_agency: dict[str, list[dict]] = defaultdict(list)
        taken: dict[str, list[int]] = defaultdict(list)
        done = []
        for r in rows:
            if _wanted(r["kind"], r["severity"], ch.min_severity):
                by_agency[r["agency"]].append(json.loads(r["data"]) | {
                    "kind": r["kind"], "fingerprint": r["fingerprint"], "ts": r["ts"]})
                taken[r["agency"]].append(r["id"])
            else:
                done.append(r["id"])
                counts["below_threshold"] += 1
        unreached = []
        for agency, items in by_agency.items():
            outs = _digests(ch, agency, items, cycle)
            if not outs:
                unreached.append(agency)
                counts["kept"] += len(items)
                continue
            done += taken[agency]
            counts["changes"] += len(items)
            for out in outs:
                c.execute("INSERT OR IGNORE INTO notify_out (id, cycle, agency, channel, target, lang, recipients,"
                          " subject, body, created) VALUES (?,?,?,?,?,?,?,?,?,?)",
                          (_id(cycle, agency, out["channel"], out["target"]), cycle, agency, out["channel"],
                           out["target"], out["lang"], json.dumps(out.get("to", [])), out["subject"],
                           json.dumps(out["body"], ensure_ascii=False), now))
                counts["digests"] += 1
        c.executemany("UPDATE notify_queue SET cycle=? WHERE id=?", [(cycle, i) for i in done])
    if unreached:
        counts["kept_why"] = (f"no channel reaches {', '.join(sorted(unreached))}: configure notify.smtp (with the"
                              " agency's contacts or notify.smtp.recipients), notify.digests.webhooks or"
                              " notify.digests.syslog; the changes stay queued")
    return counts


def _digests(ch: Channels, agency: str, items: list[dict], cycle: str) -> list[dict[str, Any]]:
    """The rendered digests of one agency: email per language, each webhook, each syslog target."""
    out = []
    if ch.smtp:
        by_lang: dict[str, list[str]] = defaultdict(list)
        for reader in (*ch.contacts.get(agency, ()), *ch.city):
            if reader.address not in by_lang[reader.lang]:
                by_lang[reader.lang].append(reader.address)
        for lang, to in sorted(by_lang.items()):
            parts = notify_text.render(items, ch.name(agency, lang), cycle, lang)
            out.append({"channel": "email", "target": lang, "lang": lang, "to": to, "subject": parts["subject"],
                        "body": {"text": parts["text"], "html": parts["html"]}})
    subject = notify_text.word("subject", ch.lang, agency=ch.name(agency, ch.lang), n=len(items))
    for name in sorted(ch.webhooks):
        payload = {"digest": _id(cycle, agency, "webhook", name), "cycle": cycle, "agency": agency,
                   "agency_name": ch.name(agency, ch.lang), "summary": subject, "items": items}
        out.append({"channel": "webhook", "target": name, "lang": ch.lang, "subject": subject,
                    "body": {"json": payload}})
    worst = max((i["severity"] for i in items), key=lambda s: RANK[s])
    for target in ch.syslog:
        out.append({"channel": "syslog", "target": target, "lang": ch.lang, "subject": subject,
                    "body": {"msg": notify_text.one_line(items, ch.name(agency, ch.lang), ch.lang),
                             "severity": worst, "items": len(items), "ts": items[-1]["ts"]}})
    return out


Sender = Callable[[dict[str, Any], dict[str, Any]], str]


def deliver(store, ch: Channels) -> dict[str, Any]:
    """Send every digest not yet delivered; mark each delivered only once its server took it."""
    rows = [dict(r) for r in store.query("SELECT * FROM notify_out WHERE delivered IS NULL ORDER BY created, id")]
    counts: dict[str, Any] = {"delivered": 0, "failed": 0, "errors": []}
    down: dict[str, str] = {}                     # a server that failed this pass is not asked again
    for row in rows:
        body = json.loads(row["body"])
        key = row["channel"] + ":" + row["target"] if row["channel"] != "email" else "email"
        try:
            if key in down:
                raise notify_send.SendError(f"{down[key]} (not asked again in this pass)")
            result = _send(ch, row, body)
        except notify_send.SendError as exc:
            down.setdefault(key, str(exc))
            counts["failed"] += 1
            counts["errors"].append(str(exc))
            with store.write() as c:
                c.execute("UPDATE notify_out SET attempts=attempts+1, last_error=? WHERE id=?", (str(exc), row["id"]))
            continue
        with store.write() as c:
            c.execute("UPDATE notify_out SET attempts=attempts+1, delivered=?, last_error=? WHERE id=?",
                      (iso(store.clock()), result, row["id"]))
        counts["delivered"] += 1
    counts["errors"] = sorted(set(counts["errors"]))
    return counts


def _send(ch: Channels, row: dict[str, Any], body: dict[str, Any]) -> str:
    if row["channel"] == "email":
        if not ch.smtp:
            raise notify_send.SendError("email: no SMTP relay configured (notify.smtp)")
        return notify_send.email(dict(ch.smtp), row, body)
    if row["channel"] == "webhook":
        url = ch.webhooks.get(row["target"])
        if not url:
            raise notify_send.SendError(f"webhook {row['target']!r} is no longer configured (notify.webhooks)")
        return notify_send.webhook(url, row, body)
    return notify_send.syslog(row["target"], row, body, ch.hostname)


def pending(store) -> dict[str, int]:
    q = store.query
    return {"changes_waiting": q("SELECT COUNT(*) FROM notify_queue WHERE cycle IS NULL")[0][0],
            "digests_undelivered": q("SELECT COUNT(*) FROM notify_out WHERE delivered IS NULL")[0][0],
            "digests_delivered": q("SELECT COUNT(*) FROM notify_out WHERE delivered IS NOT NULL")[0][0]}


def digests(store, limit: int = 50) -> list[dict[str, Any]]:
    return [dict(r) for r in store.query(
        "SELECT id, cycle, agency, channel, target, lang, recipients, subject, created, attempts, last_error,"
        " delivered FROM notify_out ORDER BY created DESC, id LIMIT ?", (limit,))]
