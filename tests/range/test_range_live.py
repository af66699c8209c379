"""The range as a collector and a scanner see it from the city sensor."""

from __future__ import annotations

import json
import re
import subprocess
import time

import pytest

pytestmark = pytest.mark.range


def ssh(rng, known_hosts, ip, command):
    argv = ["ssh", "-i", rng.operator_key, "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
            "-o", f"UserKnownHostsFile={known_hosts}", f"citysec@{ip}", command]
    return rng.sensor_exec(argv, timeout=30)


def test_ssh_reads_the_hosts_own_antivirus_database_age(rng, known_hosts):
    out = ssh(rng, known_hosts, "198.19.2.11", "hostname; sigtool --info=/var/lib/clamav/daily.cud")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0] == "a1-pc01"
    built = re.search(r"Build time: (.+)", out.stdout).group(1)
    age_h = (time.time() - time.mktime(time.strptime(built, "%d %b %Y %H:%M %z"))) / 3600
    assert 98 < age_h < 102
    fresh = ssh(rng, known_hosts, "198.19.2.20", "sigtool --info=/var/lib/clamav/daily.cud; pgrep -x clamd")
    assert fresh.returncode == 0 and "Build time" in fresh.stdout


def test_signature_database_detects_eicar(rng, known_hosts):
    rng.drop_file("a1-srv", "/var/tmp/eicar.com", "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*")
    out = ssh(rng, known_hosts, "198.19.2.20", "clamscan --no-summary /var/tmp/eicar.com")
    assert "FOUND" in out.stdout, out.stdout + out.stderr


def test_antivirus_absent_and_daemon_states(rng):
    absent = rng.exec("a2-pc01", ["sh", "-c", "command -v clamscan; dpkg-query -W clamav; ls /var/lib/clamav"])
    assert absent.stdout.strip() == "" and "no packages found" in absent.stderr
    assert rng.service_running("a1-srv", "clamd") and not rng.service_running("a1-pc01", "clamd")
    rng.set_antivirus("a1-pc01", "running")
    assert rng.service_running("a1-pc01", "clamd")
    rng.set_antivirus("a1-pc01", "stopped")
    assert not rng.service_running("a1-pc01", "clamd")


def test_ssh_reads_restic_snapshots_and_backup_files(rng, known_hosts):
    out = ssh(rng, known_hosts, "198.19.2.20",
              "restic --no-lock -r /var/backups/restic --password-file /var/backups/restic.pass snapshots --json")
    assert out.returncode == 0, out.stderr
    snaps = json.loads(out.stdout)
    assert len(snaps) == 2 and {s["hostname"] for s in snaps} == {"a1-srv"}
    files = ssh(rng, known_hosts, "198.19.2.11", "stat -c '%Y %s %n' /var/backups/*.tar.gz; cat /var/log/backup.log")
    stamp, size, _ = files.stdout.splitlines()[0].split(" ", 2)
    assert 4.9 < (time.time() - int(stamp)) / 3600 < 5.1 and 3500 < int(size) < 4600
    assert "FAILED" in files.stdout


def test_nmap_from_the_sensor_names_each_service(rng):
    ports = "21,22,23,443,445,3306,3389,5432,5900,6379,8080"
    out = rng.sensor_exec(["nmap", "-n", "-Pn", "-sS", "-sV", "--version-light", "-p", ports, "-oX", "-",
                           "198.19.2.11", "198.19.2.20"], timeout=600, check=True).stdout
    found = set(re.findall(r'portid="(\d+)"><state state="open"[^>]*/><service name="([^"]+)"', out))
    expected = {("22", "ssh"), ("21", "ftp"), ("23", "telnet"), ("8080", "http"), ("5900", "vnc"),
                ("3389", "ms-wbt-server"), ("443", "http"), ("3306", "mysql"), ("5432", "postgresql"),
                ("6379", "redis"), ("445", "microsoft-ds")}
    assert expected <= found, expected - found
    snmp = rng.sensor_exec(["nmap", "-n", "-Pn", "-sU", "-sV", "-p", "161", "198.19.2.20"], timeout=300).stdout
    assert re.search(r"161/udp\s+open\s+snmp", snmp)


def test_one_agency_cannot_see_anothers_var(rng):
    rng.drop_file("a1-srv", "/var/lib/citysec/secret.txt", "a1 only")
    other = rng.exec("a2-pc01", ["sh", "-c", "ls /var/lib/citysec; cat /var/lib/citysec/secret.txt"])
    assert "a1 only" not in other.stdout and other.returncode != 0
    assert rng.exec("a1-srv", ["cat", "/var/lib/citysec/secret.txt"]).stdout == "a1 only"


def test_brute_force_leaves_real_sshd_failures_in_the_targets_auth_log(rng):
    assert rng.brute_force("a1-pc01", "198.19.3.11", "admin", 6) == 6   # returns once they are logged
    log = rng.exec("a2-pc01", ["cat", "/var/log/auth.log"]).stdout
    live = re.findall(r"a2-pc01 auth\.\w+ sshd\[\d+\]: Failed password for invalid user admin from 198\.19\.2\.11", log)
    assert len(live) >= 6 + 7  # the history (7) and the live attempts (6)


def test_service_stop_and_start(rng):
    rng.service("a1-srv", "redis", "stop")
    probe = ["ncat", "-z", "-w", "2", "198.19.2.20", "6379"]
    assert rng.sensor_exec(probe).returncode != 0
    rng.service("a1-srv", "redis", "start")
    assert rng.sensor_exec(probe).returncode == 0


def test_status_lists_hosts_and_rogue(rng):
    st = rng.status()
    assert st["up"] and st["leftovers"] == []
    by = {h["name"]: h for h in st["hosts"]}
    assert by["a2-pc01"]["registered"] is False and by["a1-srv"]["running"]
    assert "redis" in by["a1-srv"]["services"]


def test_add_rogue_plugs_an_unregistered_device_the_sensor_reaches(rng):
    name = rng.add_rogue("a2", "198.19.3.99")
    assert rng.host(name).registered is False
    assert rng.sensor_exec(["ncat", "-z", "-w", "2", "198.19.3.99", "22"]).returncode == 0
    assert rng.exec(name, ["hostname"]).stdout.strip() == name


def test_range_addresses_cannot_leave_through_the_machines_own_namespace(rng):
    """While a range is up, a probe started outside its namespaces by mistake fails at once
    instead of leaving by the machine's default route."""
    import errno
    import socket
    target = rng.hosts[0].ip
    out = subprocess.run(["ip", "route", "get", target], capture_output=True, text=True)
    assert out.returncode != 0 or "blackhole" in out.stdout
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        with pytest.raises(OSError) as err:
            s.sendto(b"x", (target, 9))
        assert err.value.errno in (errno.ENETUNREACH, errno.EINVAL, errno.EHOSTUNREACH)
    finally:
        s.close()
    # and from the sensor the same address is reachable (the guard is not in the range)
    assert rng.sensor_exec(["ip", "route", "get", target]).returncode == 0
