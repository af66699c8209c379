"""Backup parsing and judging from recorded restic/borg outputs and file listings."""

from datetime import datetime, timedelta, timezone
from pathlib import Path

from collectors import backup
from collectors.catalogue import catalogue

FIX = Path(__file__).parent.parent / "fixtures" / "collectors"
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc)


def _judge(state, last_test=None, max_age=30):
    return {f.check: f for f in backup.judge(state, catalogue(), agency="a1", host_ip="198.19.33.20",
                                             host_name="srv1", max_age_hours=max_age, restore_test_days=92,
                                             last_restore_test=last_test, now=NOW)}


def test_restic_snapshots_give_last_success():
    copy = backup.parse_copy("restic", "/var/backups/restic", 0, (FIX / "restic-snapshots.json").read_text())
    assert copy.count == 2 and copy.last == datetime(2026, 11, 29, 3, 0, tzinfo=timezone.utc)
    fs = _judge(backup.BackupState("qlvb", "restic-nightly", copy))
    assert fs["backup.stale"].verdict == "pass"
    assert fs["backup.restore_test"].verdict == "fail"     # none recorded
    assert _judge(backup.BackupState("qlvb", "p", copy), max_age=6)["backup.stale"].verdict == "fail"


def test_borg_list():
    copy = backup.parse_copy("borg", "/var/backups/borg", 0, (FIX / "borg-list.json").read_text())
    assert copy.count == 2 and copy.last == datetime(2026, 11, 29, 3, 0, 1, tzinfo=timezone.utc)


def test_files_with_minimum_size():
    t = int(datetime(2026, 11, 29, 1, 0, tzinfo=timezone.utc).timestamp())
    text = f"{t} 10 small.tar.gz\n{t - 7200} 5000 big.tar.gz\ngarbage line\n"
    copy = backup.parse_copy("files", "/var/backups/*.tar.gz", 0, text, min_size=1024)
    assert copy.count == 1 and copy.last == datetime(2026, 11, 28, 23, 0, tzinfo=timezone.utc)


def test_unreadable_and_missing_tool_are_errors_not_passes():
    missing = backup.parse_copy("borg", "/x", 127, "sh: borg: not found")
    assert "not installed" in missing.error
    garbage = backup.parse_copy("restic", "/x", 0, "\x1b[31mnot json at all")
    fs = _judge(backup.BackupState("s", "p", garbage))
    assert fs["backup.stale"].verdict == "error" and "unreadable" in fs["backup.stale"].reason
    wrong_pw = backup.parse_copy("restic", "/x", 1, "Fatal: wrong password or no key found")
    assert "status 1" in wrong_pw.error


def test_no_backup_at_all_fails():
    copy = backup.parse_copy("restic", "/x", 0, "[]")
    assert _judge(backup.BackupState("s", "p", copy))["backup.stale"].verdict == "fail"


def test_job_log_last_outcome_wins():
    assert backup.job_outcome("backup started\nsnapshot 1a2b3c4d saved\nbackup: Fatal: repository locked\n")[0]
    assert backup.job_outcome("backup: error: disk full\nbackup completed\n")[0] is False
    assert backup.job_outcome("nothing here\n") == (None, None)


def test_isolated_copy_and_restore_test():
    copy = backup.parse_copy("restic", "/x", 0, (FIX / "restic-snapshots.json").read_text())
    old_iso = backup.Copy("restic", "/mnt/offsite", last=NOW - timedelta(days=10), count=1)
    fs = _judge(backup.BackupState("s", "p", copy, isolated=old_iso), last_test=NOW - timedelta(days=30))
    assert fs["backup.isolated_copy"].verdict == "fail"
    assert fs["backup.restore_test"].verdict == "pass"
    fs = _judge(backup.BackupState("s", "p", copy), last_test=NOW - timedelta(days=100))
    assert fs["backup.restore_test"].verdict == "fail" and "backup.isolated_copy" not in fs


def test_files_glob_is_checked_before_it_reaches_a_shell():
    import pytest
    with pytest.raises(ValueError):
        backup.copy_snippet("files", "/var/backups/*.tar.gz; rm -rf /")
    assert "cd /var/backups" in backup.copy_snippet("files", "/var/backups/*.tar.gz")


def test_command_method_prints_json():
    listed = backup.parse_copy("command", "dump.sh", 0, '[{"time": "2026-11-29T01:00:00Z", "ok": true},'
                                                        ' {"time": "2026-11-29T05:00:00Z", "ok": false}]')
    assert listed.count == 1 and listed.last == datetime(2026, 11, 29, 1, 0, tzinfo=timezone.utc)
    single = backup.parse_copy("command", "dump.sh", 0, 'log line\n{"last_success": "2026-11-29T02:00:00+00:00"}')
    assert single.last == datetime(2026, 11, 29, 2, 0, tzinfo=timezone.utc)
    assert "sh -c" not in backup.copy_snippet("command", None, command=["/usr/local/bin/dump", "--json; rm"])
    assert backup.copy_snippet("command", None, command=["/usr/local/bin/dump", "--json; rm"]).endswith("'--json; rm'")
