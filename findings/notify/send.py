"""Deliver one digest: SMTP email, a webhook (HTTP POST of JSON), syslog (RFC 5424 over UDP or
TCP with octet counting, RFC 6587). Standard library only. Each raises :class:`SendError` when
the server did not take the message; the caller keeps it for the next cycle.
"""

from __future__ import annotations

import json
import smtplib
import socket
import urllib.error
import urllib.parse
import urllib.request
from email.message import EmailMessage
from typing import Any

from findings.errors import RuntimeFailure

SYSLOG_SEVERITY = {"critical": 2, "high": 3, "medium": 4, "low": 5, "info": 6}
FACILITY = 16   # local0


class SendError(RuntimeFailure):
    """A server did not accept a notification (it stays queued)."""


def smtp_send(smtp: dict[str, Any], msg: EmailMessage) -> dict[str, Any]:
    """Hand ``msg`` to the SMTP relay (host, port, starttls). Returns the refused recipients."""
    try:
        with smtplib.SMTP(smtp["host"], int(smtp.get("port", 25)), timeout=30) as s:
            if smtp.get("starttls"):
                s.starttls()
            return s.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        raise SendError(f"SMTP {smtp['host']}:{smtp.get('port', 25)}: {exc}") from exc


def email(smtp: dict[str, Any], row: dict[str, Any], body: dict[str, str]) -> str:
    to = json.loads(row["recipients"])
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = smtp.get("sender") or "citysec@localhost", ", ".join(to), row["subject"]
    msg["Message-ID"] = f"<{row['id']}@citysec>"      # the same digest keeps its id on a retry
    msg["X-Citysec-Digest"] = row["id"]
    msg.set_content(body["text"])
    msg.add_alternative(body["html"], subtype="html")
    where = f"SMTP {smtp['host']}:{smtp.get('port', 25)}"
    refused = smtp_send(smtp, msg)
    if refused:
        return f"{where}: refused {', '.join(sorted(refused))}"
    return f"{where}: accepted"


def post_json(name: str, url: str, payload: Any, key: str) -> int:
    """POST ``payload`` as JSON to webhook ``name`` at ``url`` (http or https; TLS verified), with
    ``key`` as its Idempotency-Key so a receiver can drop a repeat. Returns the HTTP status (2xx);
    :class:`SendError` when no server took it (refused, timed out, or answered with an error status)."""
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise SendError(f"webhook {name}: {url!r} is not an http or https URL")
    req = urllib.request.Request(url, data=json.dumps(payload, ensure_ascii=False).encode(), method="POST",
                                 headers={"Content-Type": "application/json", "Idempotency-Key": key})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status
    except (OSError, urllib.error.URLError) as exc:   # HTTPError (4xx, 5xx) is a URLError
        raise SendError(f"webhook {name}: {exc}") from exc


def webhook(url: str, row: dict[str, Any], body: dict[str, Any]) -> str:
    status = post_json(row["target"], url, body["json"], row["id"])
    return f"webhook {row['target']}: HTTP {status}"


def _sd(value: Any) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


def syslog_message(row: dict[str, Any], body: dict[str, Any], hostname: str) -> bytes:
    """One RFC 5424 message: PRI, version 1, time, host, app, -, msgid, structured data, BOM text."""
    pri = FACILITY * 8 + SYSLOG_SEVERITY.get(body["severity"], 5)
    sd = (f'[citysec@32473 agency="{_sd(row["agency"])}" digest="{_sd(row["id"])}" '
          f'items="{body["items"]}" cycle="{_sd(row["cycle"])}"]')
    head = f"<{pri}>1 {body['ts']} {hostname or '-'} citysec - DIGEST {sd} "
    return head.encode("utf-8") + b"\xef\xbb\xbf" + body["msg"].encode("utf-8")[:7000]


def syslog(target: str, row: dict[str, Any], body: dict[str, Any], hostname: str) -> str:
    addr, _, proto = target.rpartition("/")
    host, _, port = addr.rpartition(":")
    data = syslog_message(row, body, hostname)
    try:
        if proto == "tcp":
            with socket.create_connection((host, int(port)), timeout=30) as s:
                s.sendall(f"{len(data)} ".encode() + data)
        else:
            with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.sendto(data, (host, int(port)))
    except OSError as exc:
        raise SendError(f"syslog {target}: {exc}") from exc
    return f"syslog {target}: sent"
