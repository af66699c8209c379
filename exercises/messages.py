"""Delivering message injects (console, email through SMTP, a file per team) and flagging critical
lapses to the controllers (console, SMTP, webhooks). Where to send is configuration, passed in as
plain values; the text comes from the scenario. Each message carries an idempotency key (run and
inject number, or run and lapse) so a receiver can drop a repeat."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from email.message import EmailMessage

from findings.errors import RuntimeFailure
from findings.model import clean_text
from findings.notify.send import post_json, smtp_send


@dataclass(frozen=True)
class Channels:
    smtp: dict = field(default_factory=dict)          # host, port, sender, security, ca_file
    webhooks: dict[str, str] = field(default_factory=dict)   # name → URL (lapses go to each)
    folder: str = "var/exercises"                     # <folder>/<run>/teams/<participant>.md
    console: object = None                            # a file-like object; default stdout


def _console(ch: Channels):
    return ch.console or sys.stdout


def team_file(ch: Channels, run_id: str, participant) -> str:
    return participant.team_file or os.path.join(ch.folder, run_id, "teams", f"{participant.id}.md")


def send_email(smtp: dict, to: list[str], subject: str, body: str, key: str) -> list[str]:
    """Send one message; returns the recipients the relay accepted. RuntimeFailure if it is down."""
    if not smtp.get("host"):
        raise RuntimeFailure("email injects need an SMTP relay in the configuration (notify.smtp)")
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = smtp.get("sender", "citysec@localhost"), ", ".join(to), subject
    msg["Message-ID"] = f"<{key}@citysec>"
    msg.set_content(body)
    refused = smtp_send(smtp, msg)   # SendError (a RuntimeFailure) when the relay is down
    return [a for a in to if a not in refused]


def deliver(ch: Channels, run: dict, scenario, inject) -> dict:
    """Deliver a message inject to its recipients; returns what reached whom."""
    text = inject.message or str(inject.synopsis)
    subject = f"[{scenario.title}] #{inject.number}: {inject.synopsis}"
    people = [scenario.participant(p) for p in inject.to]
    key = f"{run['id']}.{inject.number}"
    if inject.method == "console":
        print(f"\n=== INJECT #{inject.number} → {', '.join(inject.to)} ===\n{clean_text(text)}\n", file=_console(ch),
              flush=True)
        return {"console": inject.to}
    if inject.method == "file":
        files = []
        for p in people:
            path = team_file(ch, run["id"], p)
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            with open(path, "a", encoding="utf-8") as fh:
                fh.write(f"## Inject #{inject.number} — {inject.synopsis}\n\n{text}\n\n<!-- {key} -->\n\n")
            files.append(path)
        return {"files": files}
    to = [c.email for p in people for c in p.contacts if c.email]
    if not to:
        raise RuntimeFailure(f"inject #{inject.number}: no recipient of {', '.join(inject.to)} has an email")
    if not ch.smtp.get("host"):   # no relay configured: the teams still get it, and the record says how
        got = deliver(ch, run, scenario, inject.model_copy(update={"method": "file"}))
        return got | {"email": [], "note": "no SMTP relay configured (notify.smtp): delivered as team files"}
    return {"email": send_email(ch.smtp, to, subject, text, key)}


def flag_lapse(ch: Channels, run: dict, scenario, key: str, message: str) -> list[str]:
    """Tell the controllers at once: console, email to their contacts, every configured webhook.
    Returns the channels reached; a channel that fails is named with its error, never fatal."""
    reached = []
    print(f"\n!!! CRITICAL LAPSE in drill {run['id']}: {message}\n", file=sys.stderr, flush=True)
    reached.append("console")
    to = [c.email for p in scenario.participants if p.role == "controller" for c in p.contacts if c.email]
    if to and ch.smtp.get("host"):
        try:
            send_email(ch.smtp, to, f"[citysec drill] CRITICAL LAPSE: {message[:120]}", message, f"{run['id']}.{key}")
            reached.append("email")
        except RuntimeFailure as exc:
            reached.append(f"email failed: {exc}")
    for name, url in ch.webhooks.items():
        try:
            post_json(name, url, {"drill": run["id"], "scenario": scenario.id, "lapse": key, "message": message},
                      f"{run['id']}.{key}")
            reached.append(f"webhook:{name}")
        except RuntimeFailure as exc:
            reached.append(f"webhook:{name} failed: {exc}")
    return reached
