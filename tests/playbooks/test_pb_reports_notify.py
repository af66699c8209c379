"""Incident reports (every field of Decision 05/2017 art. 11.4), notifications against local SMTP
and HTTP servers started here, and strict playbook validation."""

from __future__ import annotations

import http.server
import json
import threading
from pathlib import Path

import pytest
from pb_helpers import SmtpSink, alert, serve_smtp

from findings.errors import ConfigError
from findings.model import to_document
from playbooks import load_playbook
from playbooks import operations as op
from playbooks.actions import ACTIONS, ActionContext
from playbooks.incident_report import labels

ART_11_4 = ("operator", "owner", "system", "level", "detected_at", "contact_name", "contact_position",
            "contact_phone", "contact_email", "type", "symptoms", "harm_estimate", "spread", "impact",
            "infrastructure_provider", "measures", "helpers", "first_result", "recommendations", "handled",
            "detection_method", "services", "security_measures", "public_addresses", "attachments")


def test_initial_report_has_every_field_of_art_11_4(engine, tmp_path):
    ctx = {"agency_name": "Sở Thử nghiệm", "contacts": [{"name": "Trần Thị B", "role": "Cán bộ CNTT",
                                                         "phone": "+84 912 000 000", "email": "b@pb.example"}],
           "system": {"name": "Cổng dịch vụ công", "level": 3, "owner": "UBND", "operator": "Sở TT&TT"}}
    cid = engine.open_case("contain-test", agency="pb-a", findings=[to_document(alert())], host="198.19.49.10",
                           context=ctx, level=3)
    for field, value in (("symptoms", "many failed logins"), ("harm_estimate", "none yet"),
                         ("spread", "one host"), ("impact", "low"), ("infrastructure_provider", "VNPT"),
                         ("helpers", "VNCERT/CC"), ("first_result", "source blocked"),
                         ("recommendations", "disable passwords"), ("detection_method", "log review"),
                         ("services", "ssh"), ("security_measures", "firewall"),
                         ("public_addresses", "dvc.pb.example"), ("attachments", "auth.log")):
        op.set_field(engine, cid, field, value, "an")
    out = op.generate_report(engine, cid, "initial", "an")
    for lang, path in zip(("vi", "en"), out["files"]):
        html = Path(path).read_text(encoding="utf-8")
        for key in ART_11_4:
            assert f'id="f-{key}"' in html and labels()[lang][key] in html, (lang, key)
        assert "chưa có thông tin" not in html and "not yet known" not in html, "every field has a value"
        for value in ("Trần Thị B", "Cổng dịch vụ công", "VNPT", "dvc.pb.example", "+84 912 000 000"):
            assert value in html


def test_report_escapes_finding_text(engine):
    cid = engine.open_case("contain-test", agency="pb-a", host="198.19.49.10",
                           findings=[to_document(alert().with_(host_name="<script>alert(1)</script>",
                                                               details={"line": "sshd: <b onmouseover=x>"}))])
    html = Path(op.generate_report(engine, cid, "initial", "an", ["en"])["files"][0]).read_text(encoding="utf-8")
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html      # the host's name
    assert "<b onmouseover" not in html and "&lt;b onmouseover=x&gt;" in html       # the log line quoted


def _serve(server):
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_notify_by_email_and_webhook_against_local_servers():
    smtp = serve_smtp()
    posts = []

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            posts.append((self.headers["Idempotency-Key"], json.loads(self.rfile.read(int(self.headers["Content-Length"])))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *a):
            return None
    web = _serve(http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook))
    try:
        ctx = ActionContext(case={"id": "IR-1", "playbook": "p", "severity": "high", "agency": "pb-a",
                                  "host": "198.19.49.10", "step": "notify", "title": "Thử"},
                            smtp={"host": "127.0.0.1", "port": smtp.server_address[1], "sender": "soc@pb.example",
                                  "recipients": ["ir@pb.example"], "security": "plain"},
                            webhooks={"soc": f"http://127.0.0.1:{web.server_address[1]}/hook"})
        out = ACTIONS["notify_email"].run(ctx, {"message": "isolate now"}, False)
        assert out["sent_to"] == ["ir@pb.example"]
        assert "IR-1" in SmtpSink.got[-1] and "isolate now" in SmtpSink.got[-1]
        assert ACTIONS["notify_webhook"].run(ctx, {"webhook": "soc"}, False)["status"] == 204
        assert posts == [("IR-1.notify", posts[0][1])] and posts[0][1]["case"] == "IR-1"
        assert "would_post" in ACTIONS["notify_webhook"].run(ctx, {"webhook": "soc"}, True) and len(posts) == 1
    finally:
        smtp.shutdown()
        web.shutdown()


def test_invalid_playbook_errors_name_file_line_and_path(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("""id: bad
version: 1
title: {vi: x, en: y}
incident_type: malware
severity: high
two_person_destructive: true
phases:
  - id: receive
    title: {vi: a, en: b}
    steps:
      - id: iso
        kind: action
        action: isolate_host
        title: {vi: a, en: b}
        params: {host: $case.host, colour: red}
""")
    with pytest.raises(ConfigError) as e:
        load_playbook(str(p))
    text = "\n".join(e.value.problems)
    assert f"{p}: line 15: phases[0].steps[0].params: unknown parameter 'colour'" in text
    assert "phase_model circular20 needs the phases" in text
    assert "needs an earlier approval step with approvers: 2" in text


def test_every_library_playbook_is_valid():
    from playbooks import load_library
    lib = load_library()
    assert {"malware-detected", "antivirus-missing", "forbidden-service", "backup-failed", "ssh-brute-force",
            "ransomware", "rogue-device", "website-defacement"} <= set(lib)
    steps = {s.action for _, s in lib["ransomware"].playbook.steps()}
    assert {"backup_snapshot", "restore_check", "isolate_host"} <= steps
