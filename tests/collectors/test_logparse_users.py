"""sshd's user names are the client's text: kept whole as sshd logged them, bounded, without control
characters, and never able to change the source address an attempt is counted against."""

from datetime import UTC, datetime

import pytest

from collectors import detections, logparse

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
XSS = "<script>alert(1)</script>"
LINES = [
    f"Nov 30 10:00:01 pc1 auth.info sshd[101]: Invalid user {XSS} from 198.18.97.66 port 40001",
    f"Nov 30 10:00:02 pc1 auth.info sshd[101]: Failed password for invalid user {XSS} from 198.18.97.66 port 40001 ssh2",
    f"Nov 30 10:00:03 pc1 auth.info sshd[101]: Connection closed by invalid user {XSS} 198.18.97.66 port 40001 [preauth]",
    "Nov 30 10:00:04 pc1 auth.info sshd[102]: Failed password for invalid user a/b c from 198.18.97.66 port 40002 ssh2",
    "Nov 30 10:00:05 pc1 auth.info sshd[103]: Accepted publickey for citysec from 198.18.96.10 port 40003 ssh2: "
    "ED25519 SHA256:abc",
]


def both(lines):
    """The line parser and the block parser (they must agree)."""
    clock = logparse.TimeParser(NOW)
    one = logparse.parse_lines(lines, clock)
    block = logparse.parse_chunk(("\n".join(lines) + "\n").encode(), 0, logparse.TimeParser(NOW))
    assert [(e.action, e.user, e.source_ip, e.source_port) for e in one] == \
        [(e.action, e.user, e.source_ip, e.source_port) for e in block]
    return one


def test_the_whole_user_name_is_kept_with_its_slash_and_spaces():
    evs = both(LINES)
    assert [e.user for e in evs] == [XSS, XSS, XSS, "a/b c", "citysec"]
    assert [e.action for e in evs] == ["ssh-invalid-user", "ssh-login", "ssh-preauth-closed", "ssh-login",
                                       "ssh-login"]
    assert {e.source_ip for e in evs[:4]} == {"198.18.97.66"}


def test_a_user_name_cannot_forge_the_source_address_or_port():
    forged = ("Nov 30 10:00:01 pc1 sshd[1]: Failed password for invalid user x from 198.18.99.1 port 1 "
              "from 198.18.97.66 port 40001 ssh2")
    closed = "Nov 30 10:00:02 pc1 sshd[1]: Connection closed by invalid user x 198.18.99.1 port 1 198.18.97.66 port 40001 [preauth]"
    ev, cl = both([forged, closed])
    assert (ev.user, ev.source_ip, ev.source_port) == ("x from 198.18.99.1 port 1", "198.18.97.66", "40001")
    assert (cl.user, cl.source_ip, cl.source_port) == ("x 198.18.99.1 port 1", "198.18.97.66", "40001")


@pytest.mark.parametrize("raw", ["\x1b[31mroot\x1b[0m", "ro\x00ot", "ro\u2028ot"])
def test_control_characters_are_removed(raw):
    line = f"Nov 30 10:00:01 pc1 sshd[1]: Invalid user {raw} from 198.18.97.66 port 40001"
    ev = logparse.parse_line(line, logparse.TimeParser(NOW))
    assert ev.user in ("[31mroot[0m", "root") and not any(ord(c) < 32 or c == "\u2028" for c in ev.user)


def test_a_long_name_is_bounded():
    line = f"Nov 30 10:00:01 pc1 sshd[1]: Invalid user {'A' * 5000} from 198.18.97.66 port 40001"
    for ev in both([line]):
        assert ev.user == "A" * logparse.USER_MAX and ev.source_ip == "198.18.97.66"


def test_names_with_spaces_still_count_towards_brute_force():
    lines = [f"Nov 30 10:00:{i:02d} pc1 sshd[1{i}]: Failed password for invalid user admin {i} from 198.18.97.66 "
             f"port {40000 + i} ssh2" for i in range(5)]
    found = detections.brute_force(both(lines), failures=5, window=300)
    assert len(found) == 1 and found[0].source_ip == "198.18.97.66"
