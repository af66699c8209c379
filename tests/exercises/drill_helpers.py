"""Helpers of the drill tests: a city configuration that adds a local SMTP relay and webhook to the
Hải Phòng example, the command run in a working folder, a local webhook receiver, and waiting on a
run's state in its store."""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
import time

from exercises import db
from findings.store import Store

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
EXAMPLE = os.path.join(REPO, "config", "examples", "haiphong.yaml")
CITYSEC = os.path.join(os.path.dirname(sys.executable), "citysec")


def write_config(cwd, smtp_port: int | None = None, webhook: str | None = None) -> str:
    lines = [f"include: {EXAMPLE}", "notify:"]
    if smtp_port:
        lines += ["  smtp: {host: 127.0.0.1, port: %d, sender: drill@soc.example, security: plain}" % smtp_port]
    if webhook:
        lines += ["  webhooks: {controllers: \"%s\"}" % webhook]
    if not smtp_port and not webhook:
        lines[-1] = "notify: {}"
    path = os.path.join(str(cwd), "city.yaml")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    return path


def citysec(cwd, config: str, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "CITYSEC_CONFIG"}
    return subprocess.run([CITYSEC, "--config", config, *args], capture_output=True, text=True, cwd=str(cwd),
                          env=env, timeout=timeout, check=False)


def spawn(cwd, config: str, *args: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "CITYSEC_CONFIG"}
    return subprocess.Popen([CITYSEC, "--config", config, *args], cwd=str(cwd), env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def store_of(cwd) -> Store:
    return Store(os.path.join(str(cwd), "var", "citysec.db"))


def wait_for(cond, timeout: float = 120, every: float = 0.1):
    """Poll ``cond()`` until it returns something true; that value (AssertionError on timeout)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = cond()
        if got:
            return got
        time.sleep(every)
    raise AssertionError(f"not reached within {timeout} s: {cond}")


def run_id_when_started(cwd) -> str:
    def started():
        try:
            store = store_of(cwd)
            db.ensure_tables(store)
            rows = store.query("SELECT id FROM exercise_runs ORDER BY started_at DESC LIMIT 1")
            return rows[0]["id"] if rows else None
        except Exception:
            return None
    return wait_for(started, 60)


def inject_state(store: Store, run_id: str, number: int) -> str | None:
    rows = store.query("SELECT state FROM exercise_injects WHERE run_id=? AND number=?", (run_id, number))
    return rows[0]["state"] if rows else None


def timeline(store: Store, run_id: str) -> list[dict]:
    return [d["citysec"]["exercise"] | {"ts": d["@timestamp"], "message": d["message"]}
            for d in db.events_of(store, run_id)]


class Hooks(http.server.BaseHTTPRequestHandler):
    got: list[dict] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        Hooks.got.append({"key": self.headers.get("Idempotency-Key"), **json.loads(body)})
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def serve_hooks() -> http.server.ThreadingHTTPServer:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hooks)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def mail(raw: str) -> dict:
    """A message the SMTP sink kept: To, Subject (decoded), Message-ID and the text."""
    import email
    from email import policy
    msg = email.message_from_string(raw, policy=policy.default)
    return {"to": str(msg["To"]), "subject": str(msg["Subject"]), "id": str(msg["Message-ID"]),
            "text": msg.get_body(("plain",)).get_content()}
