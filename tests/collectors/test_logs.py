"""Log lines → events, and the detections over them."""

from datetime import UTC, datetime

from collectors import detections, logparse

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
AUTH = """Nov 30 10:00:01 pc1 auth.info sshd[101]: Invalid user admin from 198.19.34.66 port 40001
Nov 30 10:00:01 pc1 auth.info sshd[101]: Failed password for invalid user admin from 198.19.34.66 port 40001 ssh2
Nov 30 10:00:03 pc1 auth.info sshd[101]: Failed password for invalid user admin from 198.19.34.66 port 40001 ssh2
Nov 30 10:00:04 pc1 auth.info sshd[101]: Connection closed by invalid user admin 198.19.34.66 port 40001 [preauth]
Nov 30 10:00:05 pc1 auth.info sshd[102]: Connection closed by authenticating user root 198.19.34.66 port 40002 [preauth]
Nov 30 10:00:06 pc1 auth.info sshd[103]: Failed password for root from 198.19.34.66 port 40003 ssh2
Nov 30 10:00:07 pc1 auth.info sshd[103]: Failed password for root from 198.19.34.66 port 40003 ssh2
Nov 30 10:00:09 pc1 auth.info sshd[104]: Accepted password for root from 198.19.34.66 port 40004 ssh2
Nov 30 10:05:00 pc1 authpriv.notice sudo:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/id
2026-11-30T10:06:00.123456+07:00 pc1 useradd[300]: new user: name=backdoor, UID=1002, GID=1002, home=/home/backdoor
""".splitlines()


def parse(lines, **kw):
    return logparse.parse_lines(lines, logparse.TimeParser(NOW), **kw)


def test_auth_lines_become_events():
    evs = parse(AUTH, file="/var/log/auth.log")
    first = evs[1]
    assert (first.program, first.action, first.outcome, first.user, first.source_ip, first.host) == (
        "sshd", "ssh-login", "failure", "admin", "198.19.34.66", "pc1")
    assert first.ts == datetime(2026, 11, 30, 10, 0, 1, tzinfo=UTC).timestamp()
    assert evs[8].action == "sudo" and evs[8].user == "alice" and evs[8].extra == "/usr/bin/id"
    assert evs[9].action == "user-created" and evs[9].user == "backdoor"
    assert evs[9].ts == datetime(2026, 11, 30, 3, 6, 0, 123456, tzinfo=UTC).timestamp()


def test_year_rollover_puts_december_in_last_year():
    clock = logparse.TimeParser(datetime(2027, 1, 1, 0, 5, tzinfo=UTC))
    ev = logparse.parse_line("Dec 31 23:59:00 h sshd[1]: x", clock)
    assert datetime.fromtimestamp(ev.ts, UTC).year == 2026


def test_each_attempt_counts_once_and_brute_force_fires():
    evs = parse(AUTH)
    found = detections.detect(evs, failures=5, window=300)
    kinds = sorted(d.check for d in found)
    assert kinds == ["log.login_after_failures", "log.new_account", "log.ssh_bruteforce", "log.sudo"]
    bf = next(d for d in found if d.check == "log.ssh_bruteforce")
    # 2 Failed (conn 40001, its close not counted) + 1 preauth close (40002) + 2 Failed (40003)
    assert bf.details["attempts"] == 5 and bf.source_ip == "198.19.34.66"
    assert detections.brute_force(evs, failures=6, window=300) == []


def test_slow_attempts_outside_window_do_not_fire():
    lines = [f"Nov 30 {h:02d}:00:00 pc1 auth.info sshd[1]: Failed password for root from 198.19.34.9 port {h} ssh2"
             for h in range(10)]
    assert detections.brute_force(parse(lines), failures=5, window=300) == []


def test_clamav_and_backup_logs():
    clam = parse(["Mon Nov 30 09:00:00 2026 -> /home/u/eicar.com: Eicar-Test-Signature FOUND"],
                 file="/var/log/clamav/clamav.log")
    assert clam[0].action == "malware-detected" and clam[0].extra == "Eicar-Test-Signature"
    bk = parse(["2026-11-30 09:00:00 backup[srv1]: starting restic backup",
                "2026-11-30 09:00:05 backup[srv1]: ERROR: Fatal: unable to open config file",
                "2026-11-30 09:00:05 backup[srv1]: backup finished: FAILED (exit 1)",
                "2026-11-30 10:00:40 backup[srv1]: backup finished: OK"], file="/var/log/backup.log")
    assert [e.outcome for e in bk] == [None, "failure", "failure", "success"]
    assert bk[1].program == "backup" and bk[1].pid == "srv1"
    found = detections.single_line(clam + bk)
    assert [d.check for d in found] == ["log.av_detection", "log.backup_failed"]


def test_garbage_and_control_characters_do_not_break_parsing():
    evs = parse(["\x00\x1b[31m\xff garbage", "", "Nov 99 99:99:99"], default_ts=1.0, default_host="h")
    assert len(evs) == 3 and all(e.action is None for e in evs)


def test_impossible_dates_fall_back_to_collection_time():
    evs = parse(["Xyz 01 10:00:00 h sshd[1]: Failed password for root from 198.19.34.9 port 1 ssh2",
                 "2026-13-45T10:00:00 h sshd[1]: x"], default_ts=5.0)
    assert [e.ts for e in evs] == [5.0, 5.0] and evs[0].action == "ssh-login"


def test_block_parsing_equals_line_parsing_with_byte_offsets():
    lines = AUTH + ["", "Nov 30 10:07:00 pc1 backup[9]: ERROR: Fatal: repository locked",
                    "Mon Nov 30 09:00:00 2026 -> /tmp/x: Eicar-Test-Signature FOUND", "sshd -E line without prefix",
                    # sshd's login lines are classified inside the block regex: its edge cases
                    "Nov 30 10:08:00 pc1 sshd[2]: Connection closed by invalid user bob 198.19.34.9 port 22 [preauth]",
                    ("Nov 30 10:08:01 pc1 sshd[2]: error: x: Connection closed by authenticating user r "
                     "198.19.34.9 port 22 [preauth]"),
                    "Nov 30 10:08:02 pc1 sshd[2]: Connection closed by authenticating user r 198.19.34.9 port 22 x",
                    "Nov 30 10:08:03 pc1 sshd[2]: Failed password for invalid user  from 198.19.34.9 port 2 ssh2",
                    "Nov 30 10:08:04 pc1 notsshd[2]: Failed password for root from 198.19.34.9 port 2 ssh2",
                    "Nov 30 10:08:05 pc1 auth.warn sshd[2]: Accepted publickey for root from 198.19.34.9 port 2 ssh2",
                    "Nov 30 10:08:06 pc1 sshd: Invalid user x from 198.19.34.9 port 22"]
    data = "\n".join(lines).encode() + b"\n"
    clock = logparse.TimeParser(NOW)
    block = logparse.parse_chunk(data, 1000, clock, file="/var/log/auth.log", default_ts=1.0, default_host="h")
    one, pos = [], 1000
    for line in lines:
        if line:
            one.append(logparse.parse_line(line, clock, default_ts=1.0, default_host="h", file="/var/log/auth.log",
                                           offset=pos))
        pos += len(line.encode()) + 1
    assert [e.as_dict() for e in block] == [e.as_dict() for e in one]
    utf8 = "Nov 30 10:00:00 pc1 sudo:    bùi : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/ls\nNov 30 10:00:01 pc1 x: y\n"
    evs = logparse.parse_chunk(utf8.encode(), 0, clock, file="f")
    assert evs[1].offset == len(utf8.encode().split(b"\n")[0]) + 1 and evs[0].user == "bùi"


def test_detector_fed_in_blocks_equals_one_pass():
    evs = parse([line.replace(" 10:", f" {h}:") for h in (10, 11, 12) for line in AUTH])   # time-ordered
    whole = detections.ssh_detections(detections.ssh_events(evs), failures=3, window=300)
    det = detections.SshDetector(failures=3, window=300)
    parts = [det.feed(detections.ssh_events(evs[i:i + 4])) for i in range(0, len(evs), 4)]
    assert [d.message for p in parts for d in p] == [d.message for d in whole]


def test_sustained_attack_counts_every_attempt_in_the_window():
    """A long attack from one source (hundreds of attempts in the window) gives an alert per
    ``failures`` attempts, and the login after it counts only the attempts within the window."""
    def at(s: int) -> str:
        return f"Nov 30 10:{s // 60:02d}:{s % 60:02d}"
    lines = [f"{at(s)} pc1 sshd[1]: Failed password for root from 198.19.34.9 port {1000 + s} ssh2" for s in range(400)]
    lines.append(f"{at(400)} pc1 sshd[2]: Accepted password for root from 198.19.34.9 port 2000 ssh2")
    found = detections.detect(parse(lines), failures=5, window=300)
    brute = [d for d in found if d.check == "log.ssh_bruteforce"]
    after = [d for d in found if d.check == "log.login_after_failures"]
    assert len(brute) == 80 and all(d.details["attempts"] == 5 for d in brute)
    assert len(after) == 1 and after[0].details["failures"] == 300


def test_a_reused_source_port_is_a_new_connection_after_the_window():
    """A close before authentication counts as an attempt unless its connection had a Failed
    line within the window: a port seen failing an hour earlier is another connection."""
    def at(m: int, s: int) -> str:
        return f"Nov 30 {10 + m // 60:02d}:{m % 60:02d}:{s:02d} pc1 sshd[1]:"
    lines = [f"{at(0, 0)} Failed password for root from 198.19.34.9 port 4000 ssh2",
             f"{at(0, 1)} Connection closed by authenticating user root 198.19.34.9 port 4000 [preauth]"]
    lines += [f"{at(60, s)} Connection closed by authenticating user root 198.19.34.9 port {4000 + s} [preauth]"
              for s in range(5)]    # rejected keys, the first on the port that failed an hour ago
    brute = detections.brute_force(parse(lines), failures=5, window=300)
    assert len(brute) == 1 and brute[0].details["attempts"] == 5
    brute = detections.brute_force(parse(lines[:2] + lines[3:]), failures=5, window=300)
    assert brute == []
