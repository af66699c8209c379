"""nmap's XML as recorded on the range: complete, truncated (a killed nmap), host timeouts, no XML."""

from __future__ import annotations

import os

from scanners.nmapxml import NmapXmlReader, parse

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "fixtures", "scanners")


def read(name: str) -> bytes:
    with open(os.path.join(FIXTURES, name), "rb") as fh:
        return fh.read()


def test_complete_scan_has_every_host_and_open_port():
    r = parse(read("complete.xml"))
    assert r.finished and r.error is None
    assert r.scan_types == {"tcp": "syn", "udp": "udp"}
    assert sorted(r.hosts) == ["198.19.16.20", "198.19.16.21", "198.19.17.11", "198.19.17.12",
                               "198.19.17.66", "198.19.18.10", "198.19.19.10"]
    ports = {(o.port, o.transport): o for o in r.hosts["198.19.19.10"].ports}
    assert ports[(443, "tcp")].tunnel == "ssl"           # python-nmap drops this attribute
    assert ports[(80, "tcp")].title == "d-web"
    snmp = {h: next(o for o in r.hosts[h].ports if o.port == 161) for h in ("198.19.16.20", "198.19.16.21")}
    assert snmp["198.19.16.20"].snmp_communities == ("public",)
    assert snmp["198.19.16.21"].snmp_communities == ()
    assert r.hosts["198.19.16.20"].mac == "96:9E:45:2F:DA:BC"


def test_truncated_xml_keeps_the_finished_hosts_and_says_it_ended_early():
    r = parse(read("truncated.xml"))
    assert not r.finished
    assert "ends early" in r.error
    assert sorted(r.hosts) == ["198.19.16.20", "198.19.16.21", "198.19.17.11"]


def test_host_timeout_is_marked():
    r = parse(read("hosttimeout.xml"))
    timed_out = {ip for ip, h in r.hosts.items() if h.timed_out}
    assert timed_out and timed_out == set(r.hosts) - r.complete_hosts


def test_no_xml_at_all_is_an_error_not_an_empty_scan():
    r = parse(b"")
    assert not r.finished and r.error
    r = parse(b"Failed to open device eth9\nQUITTING!\n")
    assert not r.finished and "unreadable XML" in r.error


def test_streaming_counts_hosts_as_they_finish():
    data = read("complete.xml")
    reader = NmapXmlReader()
    counts = []
    for i in range(0, len(data), 4096):
        reader.feed(data[i:i + 4096])
        counts.append(reader.hosts_done)
    assert reader.close().finished
    assert counts[-1] == 7 and counts[0] < 7 and counts == sorted(counts)


def test_control_characters_in_banners_are_stripped():
    xml = (b'<?xml version="1.0"?><nmaprun args="nmap"><host><status state="up"/>'
           b'<address addr="198.19.17.11" addrtype="ipv4"/><ports><port protocol="tcp" portid="23">'
           b'<state state="open"/><service name="telnet" product="evil&#x9b;2Jbox" method="probed"/>'
           b'</port></ports></host><runstats><finished exit="success"/></runstats></nmaprun>')
    o = parse(xml).hosts["198.19.17.11"].ports[0]
    assert "\x9b" not in o.product and o.product.startswith("evil")


def test_exclusions_are_given_to_nmap_once_each():
    """A duplicated --exclude entry makes nmap 7.93 allocate memory until it is OOM-killed."""
    from scanners.nmaprun import NmapPlan
    plan = NmapPlan(targets=("198.19.16.0/24",), exclude=("198.19.16.10", "198.19.16.10/32", "198.19.16.1",
                                                         "198.19.16.0/30"))
    argv = plan.argv("nmap")
    assert argv[argv.index("--exclude") + 1] == "198.19.16.0/30,198.19.16.10"
