"""nmap's XML, read incrementally so that truncated output still yields the hosts that finished.

Why not python-nmap's ``PortScanner.analyse_nmap_xml_scan``: it raises on truncated XML (a killed
or timed-out nmap), drops the ``tunnel="ssl"`` attribute (http vs https) and the ``timedout``
attribute of a host that hit ``--host-timeout``. Each of those must become ``incomplete``,
never "no open port". The stdlib's pull parser handles all three.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from findings.model import clean_text

from .policy import PortObservation


@dataclass
class HostResult:
    ip: str
    state: str                                 # up, down
    mac: str | None = None
    vendor: str | None = None
    hostname: str | None = None
    timed_out: bool = False
    ports: list[PortObservation] = field(default_factory=list)      # open ports only
    unsure: list[tuple[int, str]] = field(default_factory=list)     # open|filtered (UDP)


@dataclass
class NmapResult:
    hosts: dict[str, HostResult] = field(default_factory=dict)
    finished: bool = False                     # </nmaprun> with <finished exit="success">
    error: str | None = None                   # nmap's own error message, or why the XML stopped
    args: str | None = None
    scan_types: dict[str, str] = field(default_factory=dict)   # protocol → syn, connect, udp

    @property
    def complete_hosts(self) -> set[str]:
        return {ip for ip, h in self.hosts.items() if not h.timed_out}


class NmapXmlReader:
    """Feed chunks of nmap's XML as they arrive; ``hosts_done`` counts finished hosts."""

    def __init__(self) -> None:
        self._parser = ET.XMLPullParser(events=("start", "end"))
        self.result = NmapResult()
        self.hosts_done = 0
        self._broken: str | None = None

    def feed(self, chunk: bytes | str) -> None:
        if self._broken:
            return
        try:
            self._parser.feed(chunk)
            self._drain()
        except ET.ParseError as exc:
            self._broken = f"unreadable XML from nmap: {exc}"

    def _drain(self) -> None:
        for event, el in self._parser.read_events():
            if event == "start" and el.tag == "nmaprun":
                self.result.args = el.get("args")
            elif event == "end" and el.tag == "scaninfo":
                self.result.scan_types[el.get("protocol", "")] = el.get("type", "")
            elif event == "end" and el.tag == "host":
                host = _host(el)
                if host is not None:
                    self.result.hosts[host.ip] = host
                self.hosts_done += 1
                el.clear()
            elif event == "end" and el.tag == "finished":
                self.result.finished = el.get("exit", "success") == "success"
                if el.get("errormsg"):
                    self.result.error = clean_text(el.get("errormsg"))

    def close(self) -> NmapResult:
        if not self._broken:
            try:
                self._parser.close()
                self._drain()
            except ET.ParseError as exc:
                self._broken = f"nmap's XML ends early ({exc})"
        if self._broken:
            self.result.finished = False
            self.result.error = self.result.error or self._broken
        return self.result


def parse(xml: bytes | str) -> NmapResult:
    """Read a whole (possibly truncated) nmap XML document."""
    reader = NmapXmlReader()
    reader.feed(xml)
    return reader.close()


def _host(el: ET.Element) -> HostResult | None:
    ip = mac = vendor = None
    for a in el.findall("address"):
        if a.get("addrtype") in ("ipv4", "ipv6"):
            ip = a.get("addr")
        elif a.get("addrtype") == "mac":
            mac, vendor = a.get("addr"), clean_text(a.get("vendor"))
    if ip is None:
        return None
    status = el.find("status")
    hn = el.find("hostnames/hostname")
    host = HostResult(ip=ip, state=status.get("state", "unknown") if status is not None else "unknown",
                      mac=mac, vendor=vendor, hostname=clean_text(hn.get("name")) if hn is not None else None,
                      timed_out=el.get("timedout") == "true")
    for p in el.findall("ports/port"):
        state = p.find("state")
        st = state.get("state") if state is not None else "unknown"
        port, proto = int(p.get("portid", "0")), p.get("protocol", "tcp")
        if st == "open":
            host.ports.append(_observation(ip, port, proto, p, host))
        elif st == "open|filtered":
            host.unsure.append((port, proto))
    return host


def _observation(ip: str, port: int, proto: str, p: ET.Element, host: HostResult) -> PortObservation:
    svc = p.find("service")
    get = (lambda k: clean_text(svc.get(k), 256) if svc is not None and svc.get(k) else None)
    scripts = {s.get("id"): clean_text(s.get("output"), 2048) for s in p.findall("script")}
    title = scripts.get("http-title")
    communities = ("public",) if scripts.get("snmp-sysdescr") and "ERROR" not in scripts["snmp-sysdescr"] else ()
    return PortObservation(
        host=ip, port=port, transport=proto, service=get("name"), method=get("method"),
        product=get("product"), version=" ".join(x for x in (get("version"), get("extrainfo")) if x) or None,
        tunnel=get("tunnel"), title=title.strip() if title else None, snmp_communities=communities,
        hostname=host.hostname, mac=host.mac, scripts=scripts)
