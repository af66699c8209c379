"""A local SMTP relay on 127.0.0.1 that speaks TLS with a self-signed certificate (made by the
openssl command): STARTTLS offered in EHLO, or TLS from the first byte (``implicit``). It keeps
each message with whether it arrived encrypted. Standard library only (aiosmtpd is not installed)."""

from __future__ import annotations

import socket
import socketserver
import ssl
import subprocess
import threading
from pathlib import Path


def self_signed(folder: Path, name: str = "relay") -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (its own CA) and its key."""
    cert, key = folder / f"{name}.crt", folder / f"{name}.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-keyout", str(key), "-out", str(cert), "-subj", "/CN=citysec test relay",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-addext", "basicConstraints=critical,CA:TRUE"],
                   check=True, capture_output=True, timeout=60)
    return cert, key


class _Handler(socketserver.BaseRequestHandler):
    server: TlsRelay

    def handle(self) -> None:
        sock: socket.socket = self.request
        tls = False
        try:
            if self.server.implicit:
                sock, tls = self.server.context.wrap_socket(sock, server_side=True), True
            f = sock.makefile("rwb")
            self._talk(sock, f, tls)
        except (ssl.SSLError, OSError) as exc:
            self.server.refused.append(type(exc).__name__)

    def _talk(self, sock: socket.socket, f, tls: bool) -> None:
        def w(text: str) -> None:
            f.write(text.encode() + b"\r\n")
            f.flush()
        w("220 citysec-test-tls")
        data: list[str] | None = None
        while raw := f.readline():
            line = raw.decode().rstrip("\r\n")
            if data is not None:
                if line == ".":
                    self.server.got.append(("\n".join(data), tls))
                    data = None
                    w("250 ok")
                else:
                    data.append(line)
                continue
            cmd = line[:8].upper()
            if cmd.startswith("EHLO"):
                w("250-citysec-test-tls")
                if self.server.offer_starttls and not tls:
                    w("250-STARTTLS")
                w("250 8BITMIME")
            elif cmd.startswith("STARTTLS"):
                w("220 go ahead")
                sock = self.server.context.wrap_socket(sock, server_side=True)
                f, tls = sock.makefile("rwb"), True
            elif cmd.startswith("DATA"):
                data = []
                w("354 go")
            elif cmd.startswith("QUIT"):
                w("221 bye")
                return
            else:
                w("250 ok")


class TlsRelay(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, cert: Path, key: Path, *, implicit: bool = False, offer_starttls: bool = True):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)
        self.implicit, self.offer_starttls = implicit, offer_starttls
        self.got: list[tuple[str, bool]] = []     # (message, arrived over TLS)
        self.refused: list[str] = []              # handshakes that failed
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def port(self) -> int:
        return self.server_address[1]
