"""One small range (`rt`, 198.19.0.0/20) for the whole session: two agencies, a sensor."""

from __future__ import annotations

import pytest

from tests.range_support import build_range

SPEC = {
    "sensors": [{"name": "soc", "ip": "198.19.1.10"}],
    "agencies": [
        {"id": "a1", "networks": [{"cidr": "198.19.1.0/24", "zone": "management"}, "198.19.2.0/24"],
         "hosts": [
             {"name": "a1-pc01", "ip": "198.19.2.11", "services": ["telnet", "ftp", "http-admin", "vnc", "rdp"],
              "antivirus": {"signature_age_hours": 100, "daemon": False},
              "backup": {"method": "files", "files": [{"hours_ago": 5, "size": 4096}], "failing": True}},
             {"name": "a1-srv", "ip": "198.19.2.20", "role": "server",
              "services": ["https", "mysql", "postgresql", "redis", "smb", {"name": "snmp", "community": "s3cret"}],
              "antivirus": {"signature_age_hours": 2},
              "backup": {"method": "restic", "snapshots_hours_ago": [3, 27]}},
         ]},
        {"id": "a2", "networks": ["198.19.3.0/24"],
         "hosts": [{"name": "a2-pc01", "ip": "198.19.3.11", "antivirus": "none", "registered": False,
                    "logs": {"failures": [{"source": "198.19.2.11", "user": "admin", "count": 7}]}}]},
    ],
}


@pytest.fixture(scope="session")
def rng(tmp_path_factory):
    with build_range(SPEC, "rt", tmp_path_factory.mktemp("range-rt")) as r:
        yield r


@pytest.fixture(scope="session")
def known_hosts(rng, tmp_path_factory):
    path = tmp_path_factory.mktemp("kh") / "known_hosts"
    path.write_text("".join(f"{ip} {key}\n" for ip, key in rng.host_keys().items()))
    return str(path)
