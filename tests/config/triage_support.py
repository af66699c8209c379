"""Receivers for the triage tests: a local SMTP server (tests/playbooks/pb_helpers.SmtpSink), a
local HTTP receiver of webhooks, a UDP and a TCP syslog listener; and a small city config."""

from __future__ import annotations

import http.server
import socket
import socketserver
import threading
from datetime import UTC, datetime

from tests.playbooks.pb_helpers import SmtpSink

CITY = """
name: "Thành phố thử nghiệm (triage)"
sensor: tg-soc
sensors:
  - {{id: tg-soc, name: "Cảm biến", agency: soc, address: 198.19.208.10, netns: cs-tg-soc}}
agencies:
  - id: soc
    name: "Trung tâm giám sát"
    kind: department
    contacts:
      - {{name: "An", role: "trưởng phòng", email: an@soc.example}}
    networks:
      - {{cidr: 198.19.208.0/24, zone: management, sensor: tg-soc, segment: local, exclude: [198.19.208.1]}}
  - id: ward
    name: "UBND phường thử nghiệm"
    name_en: "Test ward"
    kind: ward
    contacts:
      - {{name: "Bình", role: "cán bộ CNTT", email: binh@ward.example}}
      - {{name: "Chris", role: "adviser", email: chris@ward.example, lang: en}}
    networks:
      - {{cidr: 198.19.209.0/24, zone: lan, sensor: tg-soc, exclude: [198.19.209.1]}}
    hosts:
      - {{name: w-pc01, ip: 198.19.209.11}}
policies:
  top_ports: 0
  host_timeout_seconds: 120
  version_intensity: 0
  services:
    - {{forbid: [telnet, ftp, rdp, vnc], reason: "insecure services"}}
    - {{zones: [lan], forbid: [mysql, smb], reason: "no servers in office LANs"}}
store: {{path: {db}}}
notify:
  smtp: {{host: 127.0.0.1, port: {smtp_port}, sender: soc@city.example, recipients: [soc-team@city.example],
         security: plain}}
  webhooks: {{soc-hook: "http://127.0.0.1:{hook_port}/digest"}}
  digests:
    webhooks: [soc-hook]
    syslog:
      - {{host: 127.0.0.1, port: {udp_port}, transport: udp}}
      - {{host: 127.0.0.1, port: {tcp_port}, transport: tcp}}
"""


class Clock:
    def __init__(self, start=datetime(2026, 11, 30, 8, 0, tzinfo=UTC)):
        self.now = start

    def __call__(self):
        return self.now


def free_port(kind=socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_smtp(port: int = 0) -> socketserver.ThreadingTCPServer:
    socketserver.ThreadingTCPServer.allow_reuse_address = True
    server = socketserver.ThreadingTCPServer(("127.0.0.1", port), SmtpSink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class Hooks(http.server.BaseHTTPRequestHandler):
    got: list[tuple[str, dict, bytes]] = []   # noqa: RUF012 (shared on purpose)

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Hooks.got.append((self.path, dict(self.headers), body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def serve_http() -> http.server.ThreadingHTTPServer:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hooks)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class Syslog:
    """A UDP and a TCP (octet counting) syslog listener; ``messages`` holds what arrived."""

    def __init__(self):
        self.messages: list[tuple[str, bytes]] = []
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.bind(("127.0.0.1", 0))
        self.tcp.listen()
        threading.Thread(target=self._udp, daemon=True).start()
        threading.Thread(target=self._tcp, daemon=True).start()

    @property
    def ports(self) -> tuple[int, int]:
        return self.udp.getsockname()[1], self.tcp.getsockname()[1]

    def _udp(self):
        while True:
            data, _ = self.udp.recvfrom(65535)
            self.messages.append(("udp", data))

    def _tcp(self):
        while True:
            conn, _ = self.tcp.accept()
            with conn:
                buf = b""
                while chunk := conn.recv(65536):
                    buf += chunk
            while buf:
                length, _, rest = buf.partition(b" ")
                n = int(length)
                self.messages.append(("tcp", rest[:n]))
                buf = rest[n:]
