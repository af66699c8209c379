"""Unit assertions of the bugs the range run of the library found (fake hosts, no SSH): the
antivirus playbook scanned hosts that have no scanner; the forbidden service was stopped by a unit
name guessed from nmap's service name; restic ran as the collection account (it cannot write the
repository); the restore check restored without comparing anything."""

from __future__ import annotations

import pytest

from findings import Finding
from playbooks import operations as op
from playbooks.actions import ACTIONS, ActionContext, ActionError, ParamError
from playbooks.actions.hostops import existing_paths, parse_sha256sum, snapshot_files
from playbooks.actions.listener import listener_pids, unit_of
from playbooks.triggers import evaluate

SS = 'LISTEN 0 10 0.0.0.0:23 0.0.0.0:* users:(("inetutils-inetd",pid=29,fd=4),("inetd",pid=31,fd=4))\n'


class Host:
    """Answers per command name from a script: {argv[0] after sudo: [(rc, out), ...]} (last repeats)."""

    def __init__(self, script):
        self.script, self.calls = {k: list(v) for k, v in script.items()}, []

    def exec(self, host, argv, *, timeout=60):
        self.calls.append(list(argv))
        name = argv[2] if argv[:2] == ["sudo", "-n"] else argv[0]
        answers = self.script.get(name, [(0, "")])
        rc, out = answers.pop(0) if len(answers) > 1 else answers[0]
        return rc, out, ""


def _state(check, **kw):
    return Finding(check=check, agency="pb-a", verdict="fail", severity="high", host_ip="198.19.49.10",
                   message=check, **kw)


def _states(view):
    return {s["id"]: s for s in view["steps"]}


def test_antivirus_missing_scans_only_hosts_that_have_a_scanner(engine, store, transport):
    store.record([_state("av.missing"), _state("av.outdated", host_name="x").with_(host_ip="198.19.49.11")])
    assert evaluate(engine)["opened"] == 2
    ids = {r["host"]: r["id"] for r in store.query("SELECT id, host FROM cases WHERE playbook='antivirus-missing'")}
    view = op.complete_step(engine, ids["198.19.49.10"], "confirm", "it")
    assert _states(view)["scan"]["state"] == "skipped"
    assert not any(argv[0] == "clamscan" for _, argv in transport.calls)
    op.complete_step(engine, ids["198.19.49.11"], "confirm", "it")
    assert any(argv[0] == "ls" for _, argv in transport.calls), "the outdated host is scanned"


def test_forbidden_service_is_stopped_by_its_port_after_two_approvals(engine, store):
    engine.w.transport = host = Host({"ss": [(0, "Netid State Local\n"), (0, SS), (0, "")]})
    store.record([_state("exposure.telnet", port=23, transport="tcp", service_name="telnet")])
    assert evaluate(engine)["opened"] == 1
    (row,) = store.query("SELECT id FROM cases WHERE playbook='forbidden-service'")
    op.complete_step(engine, row["id"], "confirm", "soc")
    op.decide(engine, row["id"], "approve-stop", "incident_lead", "l1", "approve")
    view = op.decide(engine, row["id"], "approve-stop", "incident_lead", "l2", "approve")
    st = _states(view)["stop-service"]
    assert st["state"] == "done" and st["result"]["port"] == 23
    assert st["result"]["stopped_pids"] == [29, 31]
    ss = [argv for argv in host.calls if "ss" in argv]
    assert ss[0] == ["ss", "-tulpn"] and ss[1][-1] == "sport = :23" and not any("systemctl" in argv for argv in host.calls)


def test_stop_listener_signals_the_listeners_never_pid_1_and_checks_again():
    assert listener_pids(SS) == [29, 31]
    t = Host({"ss": [(0, SS), (0, "")]})
    ctx = ActionContext(case={"id": "IR-1"}, transport=t, privileged=("sudo", "-n"))
    out = ACTIONS["stop_listener"].run(ctx, {"host": "h", "port": 23, "transport": "tcp"}, False)
    assert out["stopped_pids"] == [29, 31] and ["sudo", "-n", "kill", "-TERM", "--", "29", "31"] in t.calls
    held = Host({"ss": [(0, SS.replace("pid=29", "pid=1"))]})
    with pytest.raises(ActionError, match="PID 1"):
        ACTIONS["stop_listener"].run(ActionContext(case={"id": "IR-1"}, transport=held), {"host": "h", "port": 23},
                                     False)
    stubborn = Host({"ss": [(0, SS)]})
    with pytest.raises(ActionError, match="still listens after SIGTERM and SIGKILL"):
        ACTIONS["stop_listener"].run(ActionContext(case={"id": "IR-1"}, transport=stubborn),
                                     {"host": "h", "port": 23, "grace_seconds": 0.2, "settle_seconds": 0}, False)
    assert ["kill", "-KILL", "--", "29", "31"] in stubborn.calls
    back = Host({"ss": [(0, SS), (0, ""), (0, SS.replace("pid=29", "pid=40").replace("pid=31", "pid=41"))],
                 "cat": [(0, "0::/system.slice/inetutils-inetd.service\n")]})
    with pytest.raises(ActionError, match=r"listens again .*pid 40 \(inetutils-inetd.service\)"):
        ACTIONS["stop_listener"].run(ActionContext(case={"id": "IR-1"}, transport=back),
                                     {"host": "h", "port": 23, "settle_seconds": 0}, False)
    with pytest.raises(ParamError, match="grace_seconds"):
        ACTIONS["stop_listener"].run(ActionContext(case={"id": "IR-1"}, transport=back),
                                     {"host": "h", "port": 23, "grace_seconds": "soon"}, False)


def test_the_unit_of_a_process_is_read_from_its_cgroup():
    assert unit_of("0::/system.slice/telnet.service\n") == "telnet.service"
    assert unit_of("12:pids:/x\n1:name=systemd:/system.slice/vsftpd.service\n0::/\n") == "vsftpd.service"
    assert unit_of("0::/user.slice/user-0.slice/session-3.scope\n") == "session-3.scope"
    assert unit_of("0::/\n") is None and unit_of("") is None


def test_av_scan_reports_absent_paths_and_fails_when_none_exists():
    assert existing_paths(["/home", "/var/lib/x"], "/home\n") == ["/home"]
    t = Host({"ls": [(2, "/home\n")], "clamscan": [(1, "/home/a.exe: Eicar FOUND\n")]})
    out = ACTIONS["av_scan"].run(ActionContext(case={"id": "IR-1"}, transport=t),
                                 {"host": "h", "path": ["/home", "/var/lib/x"]}, False)
    assert out["scanned"] == ["/home"] and out["absent"] == ["/var/lib/x"] and out["clean"] is False
    assert t.calls[-1][-2:] == ["--", "/home"] and out["infected"] == ["/home/a.exe: Eicar FOUND"]
    with pytest.raises(ActionError, match="nothing to scan"):
        ACTIONS["av_scan"].run(ActionContext(case={"id": "IR-1"}, transport=Host({"ls": [(2, "")]})),
                               {"host": "h", "path": "/var/lib/x"}, False)


def test_restic_runs_as_root_and_the_restore_check_compares_restored_and_live_files():
    snaps = '[{"id": "abc", "tags": ["citysec-case-IR-1-after"]}]'
    ls = '{"struct_type": "snapshot"}\n{"type": "dir", "path": "/d"}\n{"type": "file", "path": "/d/a"}\n' \
         '{"type": "file", "path": "/d/b"}\n'
    target = "/var/tmp/rc/citysec-case-IR-1-after"
    sums = [(0, f"{'1' * 64}  {target}/d/a\n{'2' * 64}  {target}/d/b\n"), (0, f"{'1' * 64}  /d/a\n{'3' * 64}  /d/b\n")]
    t = Host({"restic": [(0, snaps), (0, ""), (0, ""), (0, ls)], "sha256sum": sums})
    ctx = ActionContext(case={"id": "IR-1"}, transport=t, privileged=("sudo", "-n"),
                        backup={"repository": "/var/backups/restic", "password_file": "/var/backups/restic.pass"})
    out = ACTIONS["restore_check"].run(ctx, {"host": "h", "target": "/var/tmp/rc", "label": "after"}, False)
    assert all(argv[:3] == ["sudo", "-n", "restic"] for argv in t.calls if "restic" in argv)
    assert out["target"] == target and out["files_restored"] == 2 and out["differs"] == ["/d/b"]
    assert snapshot_files(ls) == ["/d/a", "/d/b"]
    assert parse_sha256sum(f"{'a' * 64}  /x y\nsha256sum: /z: No such file\n") == {"/x y": "a" * 64}


def test_a_stale_backup_opens_the_backup_playbook(engine, store):
    store.record([_state("backup.stale", subject="sys-1")])
    assert evaluate(engine)["opened"] == 1
    assert [r["playbook"] for r in store.query("SELECT playbook FROM cases")] == ["backup-failed"]


def test_backup_steps_use_the_repository_of_the_hosts_system(tmp_path):
    """The command's wiring gives each host the restic repository of its system's backup policy;
    a host without one gets a clear error naming the host, never another host's repository."""
    from pathlib import Path

    from citysec.jobs.cases import host_backups
    from config.loader import load_config
    from playbooks.actions.base import ParamError
    tmpl = Path(__file__).parent.parent / "fixtures" / "playbooks" / "library-city.yaml.tmpl"
    cfg = tmp_path / "city.yaml"
    cfg.write_text(tmpl.read_text(encoding="utf-8").replace("{STATE}", str(tmp_path)).replace("{VAR}", str(tmp_path)),
                   encoding="utf-8")
    backups = host_backups(load_config(str(cfg)).city)
    want = {"repository": "/var/backups/restic", "password_file": "/var/backups/restic.pass"}
    assert backups["a-srv02"] == backups["198.19.194.11"] == want and "a-web" not in backups
    t = Host({"restic": [(0, '[{"id": "s1", "tags": ["citysec-case-IR-2-before"]}]')]})
    ctx = ActionContext(case={"id": "IR-2"}, transport=t, privileged=("sudo", "-n"), backups=backups)
    ACTIONS["backup_snapshot"].run(ctx, {"host": "198.19.194.11", "paths": ["/srv"], "label": "before"}, False)
    assert t.calls and all(argv[:6] == ["sudo", "-n", "restic", "--no-cache", "-r", "/var/backups/restic"]
                           for argv in t.calls)
    with pytest.raises(ParamError, match="a-web: no restic repository"):
        ACTIONS["backup_snapshot"].run(ctx, {"host": "a-web", "paths": ["/srv"], "label": "before"}, False)
