"""ClamAV and Windows antivirus parsing and judging, from recorded outputs."""

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from collectors import antivirus, windows
from collectors.catalogue import catalogue
from collectors.script import Section

FIX = Path(__file__).parent.parent / "fixtures" / "collectors"
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)


def test_db_header_gives_build_time_and_version():
    info = antivirus.parse_db_header((FIX / "clamav-range.cud.header").read_text())
    assert info["time"] == datetime(2026, 10, 15, 3, 0, tzinfo=timezone.utc)
    assert info["version"] == 7 and info["builder"] == "citysec-range"


def test_sigtool_info_agrees_with_header():
    info = antivirus.parse_sigtool_info((FIX / "sigtool-info.txt").read_text())
    assert info["time"] == datetime(2026, 10, 15, 3, 0, tzinfo=timezone.utc)
    assert info["version"] == 7 and info["signatures"] == 1


def _sections(**texts):
    return {name: Section(name, 0, text.encode()) for name, text in texts.items()}


HEADER = (FIX / "clamav-range.cud.header").read_text().strip()
DPKG = (FIX / "dpkg-status-clamav.txt").read_text()


def test_linux_state_healthy_and_outdated():
    secs = _sections(**{"av.which": "/usr/bin/clamscan\n/usr/sbin/clamd\n", "av.pkg": DPKG,
                        "av.db": f"/var/lib/clamav/range.cud\t1\t{HEADER}\0\0  \n",
                        "av.proc": "proc clamd 31\npidfile clamd.pid 31\n", "av.found": ""})
    state = antivirus.parse_linux(secs)
    assert state.installed and state.enabled and state.updater is False and state.version == "1.4.6"
    assert state.db_time == datetime(2026, 10, 15, 3, 0, tzinfo=timezone.utc)
    h = antivirus.health(state, max_age_hours=72, require_daemon=True, require_updater=False, now=NOW)
    assert not h.healthy and h.reason.startswith("outdated")
    fresh = antivirus.health(state, max_age_hours=72, require_daemon=True, require_updater=False,
                             now=state.db_time + timedelta(hours=5))
    assert fresh.healthy


def test_linux_programs_without_database_or_daemon_is_not_installed():
    secs = _sections(**{"av.which": "/usr/bin/clamscan\n", "av.pkg": "nodb\nClamAV 1.4.6\n", "av.db": "",
                        "av.proc": "", "av.found": ""})
    state = antivirus.parse_linux(secs)
    assert state.installed is False
    checks = {f.check: f.verdict for f in antivirus.judge(
        state, catalogue(), agency="a", host_ip="198.19.33.1", host_name="x", max_age_hours=72,
        require_daemon=True, require_updater=False, now=NOW)}
    assert checks == {"av.missing": "fail"}


def test_package_database_decides_when_present():
    removed = "Package: clamav\nStatus: deinstall ok config-files\nVersion: 1.0.7+dfsg-1\n"
    secs = _sections(**{"av.which": "/usr/bin/clamscan\n", "av.pkg": removed,
                        "av.db": f"/var/lib/clamav/x.cvd\t1\t{HEADER}\n", "av.proc": ""})
    assert antivirus.parse_linux(secs).installed is False
    assert antivirus.parse_packages("") == (False, None)           # the database has no ClamAV at all
    assert antivirus.parse_packages("clamav-1.0.1-1.el9.x86_64\npackage clamd is not installed\n") == (True, "1.0.1")


def test_daemon_stopped_is_a_fail_with_reason():
    secs = _sections(**{"av.which": "/usr/bin/clamscan\n/usr/sbin/clamd\n", "av.pkg": "nodb",
                        "av.db": f"/var/lib/clamav/range.cud\t1\t{HEADER}\n", "av.proc": "proc freshclam 9\n"})
    state = antivirus.parse_linux(secs)
    fs = {f.check: f for f in antivirus.judge(state, catalogue(), agency="a", host_ip="198.19.33.1", host_name="x",
                                              max_age_hours=10000, require_daemon=True, require_updater=False,
                                              now=NOW)}
    assert fs["av.daemon"].verdict == "fail" and "scanner not running" in fs["av.daemon"].reason
    assert fs["av.outdated"].verdict == "pass"


@pytest.mark.parametrize("value,enabled,current", [
    (397568, True, True), (393472, False, True), (397584, True, False), (266240, True, True),
    (262144, False, True), (266256, True, False), (393488, False, False)])
def test_product_state_decoding(value, enabled, current):
    d = windows.decode_product_state(value)
    assert (d["enabled"], d["up_to_date"], d["raw"]) == (enabled, current, value)


def test_wsc_prefers_enabled_product_over_stale_entry_and_keeps_raw():
    state = windows.parse_wsc((FIX / "wsc-stale-and-kaspersky-outdated.json").read_text())
    assert state.product.startswith("Kaspersky") and state.enabled and state.up_to_date is False
    assert state.raw["productState"] == 266256 and len(state.raw["products"]) == 2
    h = antivirus.health(state, max_age_hours=72, require_daemon=True, require_updater=False, now=NOW)
    assert h.reason.startswith("outdated")


def test_wsc_single_product_ok_and_disabled():
    ok = windows.parse_wsc((FIX / "wsc-defender-ok.json").read_text())
    assert antivirus.health(ok, max_age_hours=72, require_daemon=True, require_updater=False, now=NOW).healthy
    off = windows.parse_wsc((FIX / "wsc-disabled.json").read_text())
    assert antivirus.health(off, max_age_hours=72, require_daemon=True, require_updater=False,
                            now=NOW).reason == "not running"


def test_defender_status_on_servers():
    ok = windows.parse_mp_status((FIX / "mpstatus-server2019.json").read_text())
    assert ok.enabled and ok.db_time == datetime.fromtimestamp(1795850220, timezone.utc)
    assert antivirus.health(ok, max_age_hours=72, require_daemon=True, require_updater=False,
                            now=ok.db_time + timedelta(hours=3)).healthy
    bad = windows.parse_mp_status((FIX / "mpstatus-rtp-off-old.json").read_text())
    assert bad.enabled is False and bad.raw["AntivirusSignatureAge"] == 60


def test_winrm_outputs_parse_the_same_and_missing_class_is_unknown():
    state = windows.parse_windows("workstation", 0, (FIX / "winrm-wsc-stdout.txt").read_text())
    assert state.product == "Bkav Pro Internet Security" and state.enabled and state.up_to_date
    err = windows.parse_windows("workstation", 1, (FIX / "winrm-wsc-notfound-stderr.txt").read_text())
    assert err.installed is None
    assert antivirus.health(err, max_age_hours=72, require_daemon=True, require_updater=False,
                            now=NOW).reason.startswith("unknown")


def test_powershell_command_is_encoded():
    cmd = windows.powershell_command(windows.WSC_PS)
    assert cmd.startswith("powershell -NoProfile -NonInteractive -EncodedCommand ") and ";" not in cmd


def test_console_csv_import_with_column_mapping():
    from collectors.console import parse_console_csv
    cols = {"ip": "IP Address", "host": "Computer Name", "product": "Product", "signature_time": "Pattern Date",
            "realtime": "Real-time Scan"}
    states = parse_console_csv((FIX / "av-console-export.csv").read_text(), cols, "export.csv")
    verdicts = {ip: antivirus.health(s, max_age_hours=72, require_daemon=True, require_updater=False,
                                     now=NOW).reason.split(":")[0] for ip, s in states.items()}
    assert verdicts == {"198.19.33.11": "installed, running and up to date", "198.19.33.12": "outdated",
                        "198.19.33.13": "not running"}


def test_console_csv_bad_column_names_the_file():
    from collectors.console import parse_console_csv
    from findings.errors import UsageError
    with pytest.raises(UsageError, match="export.csv: the CSV has no column 'IP'"):
        parse_console_csv((FIX / "av-console-export.csv").read_text(), {"ip": "IP"}, "export.csv")


def test_winrm_hosts_go_through_winrm_with_the_same_parsing():
    """The engine's WinRM path, with pywinrm replaced by the recorded answers (no Windows here)."""
    from collectors.engine import collect_host
    from collectors.ssh import Result, Target, Timeouts
    from collectors.tasks import AntivirusTask

    class Recorded:
        def __init__(self, target, timeouts, max_output):
            self.max_output, self.role = max_output, target.role

        def run_ps(self, script):
            assert script == windows.script_for(self.role)
            name = "mpstatus-server2019.json" if self.role == "server" else "winrm-wsc-stdout.txt"
            return Result(0, (FIX / name).read_bytes(), b"")

    ws = Target(agency="a", name="ws", ip="198.19.33.40", os="windows", transport="winrm")
    srv = Target(agency="a", name="srv", ip="198.19.34.40", os="windows", transport="winrm", role="server")
    got = {t.name: collect_host(t, [AntivirusTask()], None, Timeouts(), 1 << 20, winrm=Recorded)
           for t in (ws, srv)}
    assert got["ws"].error is None and got["ws"].values["antivirus"].product == "Bkav Pro Internet Security"
    assert got["srv"].values["antivirus"].source == "defender" and got["srv"].values["antivirus"].enabled


def test_winrm_without_key_file_is_an_auth_error():
    from collectors.engine import collect_host
    from collectors.ssh import Target, Timeouts
    from collectors.tasks import AntivirusTask
    r = collect_host(Target(agency="a", name="ws", ip="198.19.33.40", os="windows", transport="winrm"),
                     [AntivirusTask()], None, Timeouts(), 1 << 20)
    assert r.error.kind == "auth" and "WinRM" in r.error.reason


def test_console_fills_in_hosts_ssh_could_not_read_and_coverage_counts_them():
    from collectors import outcomes
    from collectors.console import parse_console_csv
    cols = {"ip": "IP Address", "signature_time": "Pattern Date", "realtime": "Real-time Scan"}
    states = parse_console_csv((FIX / "av-console-export.csv").read_text(), cols)
    ssh = {"198.19.33.11": antivirus.Health(False, "unknown: unreachable (no route)"),
           "198.19.33.12": antivirus.Health(True, "installed, running and up to date")}
    merged = outcomes.merge_console(ssh, states, outcomes.AvPolicy(72, True, False), NOW)
    assert merged["198.19.33.11"].healthy and "per the AV console" in merged["198.19.33.11"].reason
    assert merged["198.19.33.12"].healthy                    # SSH's own reading is kept
    assert merged["198.19.33.13"].reason.startswith("not running")
    discovered = {"198.19.33.11": "pc1", "198.19.33.12": "pc2", "198.19.33.13": "pc3", "198.19.33.14": "pc4"}
    docs = outcomes.coverage("a1", discovered, merged, catalogue(), NOW, source="scan")
    metric = [f for f in docs if f.kind == "metric"][0]
    assert (metric.details["covered"], metric.details["discovered"], metric.details["ratio"]) == (2, 4, 0.5)
    assert metric.details["uncovered_by_reason"] == {"not running": 1, "unknown": 1}


def test_ssh_key_from_a_file_or_an_environment_variable(tmp_path, monkeypatch):
    import subprocess
    from collectors.ssh import CollectError, Target, load_key
    key = tmp_path / "k"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    from_file = load_key(Target(agency="a", name="h", ip="198.19.33.1", key_file=str(key)))
    monkeypatch.setenv("CITYSEC_TEST_KEY", key.read_text())
    from_env = load_key(Target(agency="a", name="h", ip="198.19.33.1", key_env="CITYSEC_TEST_KEY"))
    assert from_file.fingerprint == from_env.fingerprint
    with pytest.raises(CollectError, match="CITYSEC_UNSET_KEY"):
        load_key(Target(agency="a", name="h", ip="198.19.33.1", key_env="CITYSEC_UNSET_KEY"))
    with pytest.raises(CollectError, match="no SSH key configured"):
        load_key(Target(agency="a", name="h", ip="198.19.33.1"))
