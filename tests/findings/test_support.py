"""The shared helpers of findings.support and findings.notify that every package uses: the one
duration grammar, the one Jinja2 environment, the one webhook sender."""

from __future__ import annotations

import http.server
import json
import threading
from datetime import timedelta

import pytest
from jinja2 import DictLoader, UndefinedError
from jinja2.sandbox import SecurityError

from findings.notify.send import SendError, post_json
from findings.support.durations import parse_duration
from findings.support.templates import environment


@pytest.mark.parametrize(("text", "want"), [
    ("90s", timedelta(seconds=90)), ("30m", timedelta(minutes=30)), ("1h30m", timedelta(minutes=90)),
    ("4h", timedelta(hours=4)), ("2d", timedelta(days=2)), ("2d12h", timedelta(hours=60)), ("0", timedelta(0)),
    (0, timedelta(0)), (90, timedelta(seconds=90)), (" 45m ", timedelta(minutes=45)),
])
def test_durations(text, want):
    assert parse_duration(text) == want


@pytest.mark.parametrize("text", ["", "5 minutes", "30", "1m30h", "-5m", "2w", True, -1, None])
def test_a_bad_duration_names_itself_and_the_grammar(text):
    with pytest.raises(ValueError, match=r"invalid duration .*: give e.g. 90s, 30m, 1h30m, 4h or 2d"):
        parse_duration(text)


def test_the_template_environment_escapes_refuses_missing_values_and_is_sandboxed():
    env = environment(DictLoader({"a": "<p>{{ x }}</p>", "b": "{{ y }}", "d": "{{ f.__globals__ }}"}))
    assert env.get_template("a").render(x="<script>") == "<p>&lt;script&gt;</p>"
    with pytest.raises(UndefinedError):
        env.get_template("b").render()
    with pytest.raises(SecurityError):
        env.get_template("d").render(f=test_durations)
    text = environment(DictLoader({"t": "{{ x }}"}), autoescape=False)
    assert text.get_template("t").render(x="<b>") == "<b>"


class Hook(http.server.BaseHTTPRequestHandler):
    got: list = []     # noqa: RUF012  (shared by the server's handlers on purpose)

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Hook.got.append((self.path, self.headers["Idempotency-Key"], json.loads(body)))
        self.send_response(500 if self.path == "/broken" else 204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def hook():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Hook.got = []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_a_webhook_gets_the_json_and_its_idempotency_key(hook):
    assert post_json("soc", hook + "/in", {"case": "IR-1", "message": "Máy chủ bị tấn công"}, "IR-1.notify") == 204
    assert Hook.got == [("/in", "IR-1.notify", {"case": "IR-1", "message": "Máy chủ bị tấn công"})]


def test_a_webhook_that_fails_or_is_not_http_is_a_send_error(hook):
    with pytest.raises(SendError, match="webhook soc: HTTP Error 500"):
        post_json("soc", hook + "/broken", {}, "k")
    with pytest.raises(SendError, match="webhook soc: 'file:///etc/passwd' is not an http or https URL"):
        post_json("soc", "file:///etc/passwd", {}, "k")
    with pytest.raises(SendError, match="webhook soc: .*refused"):
        post_json("soc", "http://127.0.0.1:9/", {}, "k")
