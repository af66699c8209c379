"""Notify by email (SMTP) and by webhook (HTTP POST of JSON). Where to send is configuration
(the city's SMTP relay, named webhooks): a playbook names a recipient list or a webhook, never a
server. Each message carries an idempotency key (case + step) so a receiver can drop a repeat."""

from __future__ import annotations

from email.message import EmailMessage

from findings.notify.send import SendError, post_json, smtp_send

from .base import Action, ActionContext, ActionError, ParamError


def _summary(ctx: ActionContext, params: dict) -> tuple[str, str]:
    c = ctx.case
    subject = f"[citysec] {c.get('severity', '').upper()} {c.get('title', '')} — {c['id']}"
    lines = [f"Case / Sự cố: {c['id']}", f"Playbook: {c.get('playbook')}", f"Agency / Đơn vị: {c.get('agency')}",
             f"Host: {c.get('host') or '-'}", f"Detected / Phát hiện: {c.get('detected_at')}",
             f"Status / Trạng thái: {c.get('status')}", ""]
    if params.get("message"):
        lines.append(str(params["message"]))
    return subject, "\n".join(lines)


def _email(ctx: ActionContext, params: dict, dry_run: bool) -> dict:
    smtp = ctx.smtp
    to = params.get("to") or smtp.get("recipients") or []
    to = [to] if isinstance(to, str) else list(to)
    if not to or not smtp.get("host"):
        raise ParamError("notify_email needs recipients and an SMTP relay in the configuration (notify.smtp)")
    subject, body = _summary(ctx, params)
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = smtp.get("sender", "citysec@localhost"), ", ".join(to), subject
    key = f"{ctx.case['id']}.{ctx.case.get('step', 'notify')}"
    msg["Message-ID"] = f"<{key}@citysec>"
    msg["X-Citysec-Case"] = ctx.case["id"]
    msg.set_content(body)
    if dry_run:
        return {"would_send_to": to, "subject": subject}
    try:
        refused = smtp_send(smtp, msg)
    except SendError as exc:
        raise ActionError(str(exc)) from exc
    return {"sent_to": [a for a in to if a not in refused], "refused": sorted(refused), "message_id": msg["Message-ID"]}


def _webhook(ctx: ActionContext, params: dict, dry_run: bool) -> dict:
    name = str(params["webhook"])
    url = ctx.webhooks.get(name)
    if not url:
        raise ParamError(f"webhook {name!r} is not configured (notify.webhooks)")
    c = ctx.case
    payload = {"case": c["id"], "playbook": c.get("playbook"), "severity": c.get("severity"),
               "agency": c.get("agency"), "host": c.get("host"), "status": c.get("status"),
               "detected_at": c.get("detected_at"), "message": params.get("message", "")}
    key = f"{c['id']}.{c.get('step', 'notify')}"
    if dry_run:
        return {"would_post": name, "payload": payload}
    try:
        status = post_json(repr(name), url, payload, key)
    except SendError as exc:
        raise ActionError(str(exc)) from exc
    return {"webhook": name, "status": status, "idempotency_key": key}


EMAIL = Action(name="notify_email", doc="Email the case summary through the city's SMTP relay.",
               required=(), optional=("to", "message"), dry_run=True, run=_email)
WEBHOOK = Action(name="notify_webhook", doc="POST the case summary as JSON to a configured webhook.",
                 required=("webhook",), optional=("message",), dry_run=True, run=_webhook)
