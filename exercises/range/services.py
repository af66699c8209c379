"""The listeners of a range host, each started inside the host (its namespaces, its /var).

Real daemons where Debian has a light one: sshd, inetutils-inetd + telnetd (telnet), vsftpd
(ftp), lighttpd (http, the http-admin login page, and https behind a socat TLS front),
redis-server (redis), net-snmp snmpd (snmp, with the host's community). For protocols whose
server is heavy (SMB, RDP, VNC, MySQL, PostgreSQL, Elasticsearch, the Docker API) an ncat
listener answers with the protocol's real greeting bytes, so ``nmap -sV`` names the service
as on a real network. ``pkill`` runs inside the host's own PID namespace: it sees only that
host's processes.
"""

from __future__ import annotations

import os
import struct

from .spec import HostSpec, ServiceSpec

D = "/var/lib/citysec-range"  # as seen inside the host

ADMIN_PAGE = """<!doctype html>
<html><head><title>Router Admin - Login</title></head>
<body><h1>Device administration</h1>
<form method="post" action="/login">
<label>Username <input name="username"></label>
<label>Password <input name="password" type="password"></label>
<button type="submit">Login</button></form></body></html>
"""
WEB_PAGE = "<!doctype html><html><head><title>{name}</title></head><body><h1>{name}</h1></body></html>\n"


def mysql_greeting() -> bytes:
    body = (b"\x0a" + b"5.7.42-log\0" + struct.pack("<I", 8) + b"abcdefgh\0" + struct.pack("<H", 0xF7FF)
            + b"\x21" + struct.pack("<H", 2) + struct.pack("<H", 0x81FF) + b"\x15" + b"\0" * 10
            + b"ijklmnopqrst\0" + b"mysql_native_password\0")
    return struct.pack("<I", len(body))[:3] + b"\0" + body


_SMB = (b"\xffSMBr\0\0\0\0\x88\x01@\0\0\0\0\0\0\0\0\0\0\0\0\0\0@\x06\0\0\x01\0\x11\x07\0\x03\n\0\x01\0\x04\x11\0"
        b"\0\0\0\x01\0\0\0\0\0\xfd\xe3\x03\0" + b"\0" * 16)
ES_BODY = ('{\n  "name" : "node-1",\n  "cluster_name" : "elasticsearch",\n  "version" : {\n'
           '    "number" : "7.17.9",\n    "build_flavor" : "default",\n    "lucene_version" : "8.11.1"\n  },\n'
           '  "tagline" : "You Know, for Search"\n}\n')


def _http_json(body: str) -> bytes:
    return (f"HTTP/1.0 200 OK\r\ncontent-type: application/json; charset=UTF-8\r\n"
            f"content-length: {len(body)}\r\n\r\n{body}").encode()


GREETINGS: dict[str, tuple[bytes, bool]] = {
    # service -> (bytes, answer only after the client spoke)
    "vnc": (b"RFB 003.008\n", False),
    "mysql": (mysql_greeting(), False),
    "rdp": (b"\x03\0\0\x13\x0e\xd0\0\0\x124\0\x02\x1f\x08\0\x02\0\0\0", True),
    "smb": (b"\0\0\0" + bytes([len(_SMB)]) + _SMB, True),
    "postgresql": (b"EFATAL:  invalid length of startup packet\n\0", True),
    "elasticsearch": (_http_json(ES_BODY), True),
    "docker-api": (b"HTTP/1.0 200 OK\r\nApi-Version: 1.41\r\nDocker-Experimental: false\r\nOstype: linux\r\n"
                   b"Server: Docker/20.10.24 (linux)\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\n"
                   b"Content-Length: 0\r\n\r\n", True),
}


def write_files(var: str, h: HostSpec, tls_pem: str) -> None:
    """The configuration each listener of ``h`` reads, under the host's /var."""
    base = os.path.join(var, "lib/citysec-range")
    os.makedirs(os.path.join(base, "greet"), exist_ok=True)
    for name, (data, _) in GREETINGS.items():
        with open(os.path.join(base, "greet", name), "wb") as fh:
            fh.write(data)
    for sub, page in (("www/html", WEB_PAGE.format(name=h.name)), ("www/admin", ADMIN_PAGE)):
        os.makedirs(os.path.join(var, sub), exist_ok=True)
        with open(os.path.join(var, sub, "index.html"), "w") as fh:
            fh.write(page)
    os.makedirs(os.path.join(var, "lib/redis"), exist_ok=True)
    os.makedirs(os.path.join(var, "ftp"), exist_ok=True)
    with open(os.path.join(base, "tls.pem"), "w") as out, open(tls_pem) as src:
        out.write(src.read())
    os.chmod(os.path.join(base, "tls.pem"), 0o600)
    files = {
        # a port number in place of the service name serves telnet on another port (2323)
        "inetd.conf": "".join(f"{'telnet' if s.port == 23 else s.port} stream tcp nowait root /usr/sbin/telnetd telnetd\n"
                              for s in h.services if s.name == "telnet") or "telnet stream tcp nowait root /usr/sbin/telnetd telnetd\n",
        "vsftpd.conf": (f"listen=YES\nlisten_address={h.ip}\nlisten_ipv6=NO\nanonymous_enable=YES\n"
                        f"anon_root=/var/ftp\nlocal_enable=NO\nbackground=YES\nsecure_chroot_dir=/run/vsftpd-empty\n"
                        "xferlog_enable=YES\nvsftpd_log_file=/var/log/vsftpd.log\nseccomp_sandbox=NO\n"),
    }
    for svc in h.services:
        if svc.name in LIGHTTPD:
            root, bind, port = LIGHTTPD[svc.name](h.ip, svc.port)
            files[f"lighttpd-{svc.name}.conf"] = LIGHTTPD_CONF.format(root=root, bind=bind, port=port, name=svc.name)
        if svc.name == "snmp":
            files["snmpd.conf"] = (f"agentAddress udp:{h.ip}:{svc.port}\nrocommunity {svc.community} default\n"
                                   f"sysName {h.name}\nsysLocation Hai Phong\nsysContact it@{h.agency}\n")
    for fname, text in files.items():
        with open(os.path.join(base, fname), "w") as fh:
            fh.write(text)


LIGHTTPD_CONF = """server.document-root = "{root}"
server.bind = "{bind}"
server.port = {port}
server.pid-file = "/run/lighttpd-{name}.pid"
server.errorlog = "/var/log/lighttpd-{name}.log"
index-file.names = ("index.html")
mimetype.assign = (".html" => "text/html")
"""
LIGHTTPD = {  # service -> (document root, bind address, port)
    "http": lambda ip, port: ("/var/www/html", ip, port),
    "http-admin": lambda ip, port: ("/var/www/admin", ip, port),
    "https": lambda ip, port: ("/var/www/html", "127.0.0.1", 8443),
}


def _ncat(ip: str, svc: ServiceSpec) -> list[str]:
    data, after_client = GREETINGS[svc.name]
    send = f"cat {D}/greet/{svc.name}"
    script = f"head -c 1 >/dev/null; {send}; sleep 1" if after_client else f"{send}; sleep 5"
    return ["ncat", "-l", "-k", ip, str(svc.port), "--sh-exec", script]


def start_argv(ip: str, svc: ServiceSpec) -> list[list[str]]:
    """The commands that start ``svc`` (each detaches with setsid -f when it would not)."""
    bg = ["setsid", "-f"]
    n = svc.name
    if n == "telnet":
        # inetd hands telnetd the socket itself (ncat -e gave it pipes: "getpeername: Socket
        # operation on non-socket" and the connection closed, seen by nmap as tcpwrapped)
        return [["/usr/sbin/inetutils-inetd", "--environment", f"{D}/inetd.conf"]]
    if n == "ftp":
        return [["mkdir", "-p", "/run/vsftpd-empty"], ["/usr/sbin/vsftpd", f"{D}/vsftpd.conf"]]
    if n in ("http", "http-admin"):
        return [["lighttpd", "-f", f"{D}/lighttpd-{n}.conf"]]
    if n == "https":
        return [["lighttpd", "-f", f"{D}/lighttpd-https.conf"],
                bg + ["socat", f"OPENSSL-LISTEN:{svc.port},bind={ip},fork,reuseaddr,cert={D}/tls.pem,verify=0",
                      "TCP:127.0.0.1:8443"]]
    if n == "redis":
        return [["redis-server", "--bind", ip, "--port", str(svc.port), "--daemonize", "yes", "--protected-mode", "no",
                 "--save", "", "--dir", "/var/lib/redis", "--logfile", "/var/log/redis.log",
                 "--pidfile", "/run/redis.pid"]]
    if n == "snmp":
        return [["/usr/sbin/snmpd", "-C", "-c", f"{D}/snmpd.conf", "-Lf", "/var/log/snmpd.log", "-p", "/run/snmpd.pid"]]
    return [bg + _ncat(ip, svc)]


def stop_argv(ip: str, svc: ServiceSpec) -> list[list[str]]:
    n = svc.name
    patterns = {
        "telnet": "inetutils-inetd|telnetd", "ftp": "vsftpd", "http": "lighttpd-http.conf",
        "http-admin": "lighttpd-http-admin.conf", "https": f"lighttpd-https.conf|OPENSSL-LISTEN:{svc.port}",
        "redis": "redis-server", "snmp": "snmpd", "ssh": "sshd:? .*sshd_config",
    }
    return [["pkill", "-f", patterns.get(n, f"ncat -l -k {ip} {svc.port} ")]]


def running_argv(ip: str, svc: ServiceSpec) -> list[str]:
    return ["pgrep", "-f", stop_argv(ip, svc)[0][2]]
