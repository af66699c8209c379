"""Log lines → events: auth.log, syslog, ClamAV and backup logs, in the formats hosts write them
(RFC 3164-style ``Nov 30 14:39:01 host prog[pid]: msg``, busybox's ``host facility.level prog:``,
RFC 3339 timestamps of newer rsyslog, and sshd's ``-E`` lines with no prefix).

The hot path is one regex per line and a dispatch on the program name; the result is a light
:class:`LogEvent` (slots), turned into a :class:`findings.Finding` only when stored.
"""

from __future__ import annotations

import calendar
import contextlib
import gc
import re
from datetime import UTC, datetime

MONTHS = {m: i for i, m in enumerate(calendar.month_abbr) if m}
_PREFIX = re.compile(
    r"(?:(?P<bsd>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d)|(?P<iso>\d{4}-\d\d-\d\d[T ][\d:.]+(?:Z|[+-]\d\d:?\d\d)?)) "
    r"(?:(?P<host>[^\s\[\]:]+) )?(?:(?P<fac>[a-z0-9]+\.[a-z]+) )?(?P<prog>[^\s:\[]+)(?:\[(?P<pid>[^\]\s]{1,64})\])?: "
    r"(?P<msg>.*)")
# sshd's login lines. The user name is the client's to choose (spaces, '/', '<', even " from 1.2.3.4
# port 1"): it is everything up to the LAST " from ADDR port N" (greedy ``.*``), which sshd writes
# after the name, so a name can neither be cut short nor forge the source address.
_SSH_FAILED = re.compile(r"Failed (\S+) for (?:invalid user )?(.*) from (\S+) port (\d+)")
_SSH_ACCEPTED = re.compile(r"Accepted (\S+) for (.*) from (\S+) port (\d+)")
_SSH_CLOSED = re.compile(r"(?:Connection closed|Disconnected) by (?:authenticating|invalid) user (.*) (\S+) port (\d+)"
                         r" \[preauth\]$")
_SSH_INVALID = re.compile(r"Invalid user (.*) from (\S+) port (\d+)")
USER_MAX = 128                     # characters of a user name kept (sshd itself logs at most 100 of some)
_USER_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NEW_USER = re.compile(r"new user: name=([^,\s]+)")
_SUDO = re.compile(r"^\s*(\S+) : .*?COMMAND=(.*)$")
_FOUND = re.compile(r"^(?:[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d [\d:]{8} \d{4} -> )?(.+?): (\S+) FOUND\s*$")
_BACKUP_FAIL = re.compile(r"\b(fail(ed|ure)?|error|fatal)\b", re.IGNORECASE)
_BACKUP_OK = re.compile(r"\b(ok|success(ful)?|completed|finished|saved)\b", re.IGNORECASE)


class LogEvent:
    __slots__ = (
        "action",
        "extra",
        "file",
        "host",
        "message",
        "offset",
        "outcome",
        "pid",
        "program",
        "source_ip",
        "source_port",
        "ts",
        "user",
    )

    def __init__(self, ts, host, program, pid, message, file=None, offset=None, action=None, outcome=None,
                 user=None, source_ip=None, source_port=None, extra=None):
        self.ts = ts
        self.host = host
        self.program = program
        self.pid = pid
        self.message = message
        self.file = file
        self.offset = offset
        self.action = action
        self.outcome = outcome
        self.user = user
        self.source_ip = source_ip
        self.source_port = source_port
        self.extra = extra

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__slots__ if getattr(self, k) is not None}


class TimeParser:
    """BSD timestamps carry no year: the year that puts the time at most a day in the future."""

    def __init__(self, now: datetime | None = None):
        self.now = (now or datetime.now(UTC)).timestamp()
        self.year = datetime.fromtimestamp(self.now, UTC).year
        self.days: dict[str, float] = {}   # "Mmm dd" → that day's midnight (Unix time); the parsers read it

    def bsd(self, s: str) -> float:
        day_key = s[:6]
        base = self.days.get(day_key)
        if base is None:
            base = calendar.timegm((self.year, MONTHS[s[:3]], int(s[4:6]), 0, 0, 0))
            if base > self.now + 86400:
                base = calendar.timegm((self.year - 1, MONTHS[s[:3]], int(s[4:6]), 0, 0, 0))
            self.days[day_key] = base
        return base + int(s[7:9]) * 3600 + int(s[10:12]) * 60 + int(s[13:15])

    def iso(self, s: str) -> float:
        ts = datetime.fromisoformat(s.replace("Z", "+00:00"))
        return (ts if ts.tzinfo else ts.replace(tzinfo=UTC)).timestamp()


def _fast_bsd(line: str, clock: TimeParser, file, offset) -> LogEvent | None:
    """The common ``Mmm dd hh:mm:ss host [fac.level] prog[pid]: msg`` without a regex; None when
    the line is anything else (the regex then decides)."""
    if len(line) < 20 or line[9] != ":" or line[12] != ":" or line[15] != " ":
        return None
    base = clock.days.get(line[:6])
    if base is None:
        return None
    sp = line.find(" ", 16)
    colon = line.find(": ", sp)
    if sp < 0 or colon < 0:
        return None
    host = line[16:sp]
    tag = line[sp + 1:colon]
    t = tag.rfind(" ")
    if t >= 0:
        if " " in tag[:t] or "." not in tag[:t]:
            return None
        tag = tag[t + 1:]
    if "[" in host or ":" in host or not tag or ":" in tag:
        return None
    pid = None
    if tag[-1] == "]":
        b = tag.find("[")
        if b <= 0:
            return None
        tag, pid = tag[:b], tag[b + 1:-1]
    elif "[" in tag:
        return None
    d = line[7:15]
    try:
        ts = base + int(d[0:2]) * 3600 + int(d[3:5]) * 60 + int(d[6:8])
    except ValueError:
        return None
    return LogEvent(ts, host, tag, pid, line[colon + 2:], file, offset)


def parse_line(line: str, clock: TimeParser, *, default_ts: float | None = None, default_host: str | None = None,
               file: str | None = None, offset: int | None = None) -> LogEvent:
    ev = _fast_bsd(line, clock, file, offset)
    if ev is not None:
        handler = _BY_PROGRAM.get(ev.program)
        if handler is not None:
            handler(ev, ev.message)
        else:
            classify(ev)
        return ev
    m = _PREFIX.match(line)
    if m is not None:
        bsd, iso_ts, host, _fac, prog, pid, msg = m.groups()
        try:
            if bsd is not None:
                base = clock.days.get(bsd[:6])
                ts = (clock.bsd(bsd) if base is None else
                      base + int(bsd[7:9]) * 3600 + int(bsd[10:12]) * 60 + int(bsd[13:15]))
            else:
                ts = clock.iso(iso_ts)
        except (KeyError, ValueError, OverflowError):   # "Xyz 01 ..." or a date that does not exist
            ts = default_ts
        ev = LogEvent(ts, host, prog, pid, msg, file, offset)
        handler = _BY_PROGRAM.get(prog)
        if handler is not None:
            handler(ev, msg)
            return ev
    else:  # sshd -E, clamav.log and backup logs: no syslog prefix
        ev = LogEvent(default_ts, default_host, _program_of(file), None, line, file, offset)
    classify(ev)
    return ev


def _program_of(file: str | None) -> str | None:
    if not file:
        return None
    if "clam" in file:
        return "clamav"
    if "backup" in file:
        return "backup"
    return "sshd" if "auth" in file else None


def classify(ev: LogEvent) -> None:
    """Set action, outcome, user and source from the message (ECS event.action values)."""
    prog, msg = ev.program, ev.message
    if prog == "sshd" or (prog is None and ("Failed " in msg or "Accepted " in msg)):
        _classify_sshd(ev, msg)
    elif prog == "sudo":
        _sudo(ev, msg)
    elif prog in ("useradd", "adduser"):
        m = _NEW_USER.search(msg)
        if m:
            ev.action, ev.outcome, ev.user = "user-created", "success", m.group(1)
    elif prog == "backup" or (ev.file and "backup" in ev.file):
        ev.action = "backup-job"
        ev.outcome = "failure" if _BACKUP_FAIL.search(msg) else "success" if _BACKUP_OK.search(msg) else None
    if " FOUND" in msg and ev.action is None:
        m = _FOUND.match(msg)
        if m:
            ev.action, ev.outcome, ev.extra = "malware-detected", "success", m.group(2)


def clean_user(name: str | None) -> str | None:
    """A user name as sshd logged it: control characters removed, at most :data:`USER_MAX` characters."""
    if name is None or (len(name) <= USER_MAX and name.isprintable()):   # the common case, at C speed
        return name
    return _USER_CONTROL.sub("", name)[:USER_MAX]


def _classify_sshd(ev: LogEvent, msg: str) -> None:
    f = _sshd_fields(msg)
    if f is not None:
        ev.action, ev.outcome, ev.user, ev.source_ip, ev.source_port, ev.extra = f


def _sshd_fields(msg: str) -> tuple | None:
    """(action, outcome, user, source_ip, source_port, extra) of an sshd message, None when it
    is none of the login lines."""
    c = msg[:2]
    if c == "Fa":
        m = _SSH_FAILED.match(msg)
        if m:
            extra, user, ip, port = m.groups()
            return "ssh-login", "failure", clean_user(user), ip, port, extra
    elif c == "Ac":
        m = _SSH_ACCEPTED.match(msg)
        if m:
            extra, user, ip, port = m.groups()
            return "ssh-login", "success", clean_user(user), ip, port, extra
    elif c == "In":
        m = _SSH_INVALID.match(msg)
        if m:
            user, ip, port = m.groups()
            return "ssh-invalid-user", "unknown", clean_user(user), ip, port, None
    elif msg.endswith("[preauth]"):
        m = _SSH_CLOSED.search(msg)
        if m:
            user, ip, port = m.groups()
            return "ssh-preauth-closed", "failure", clean_user(user), ip, port, None
    return None


def _sudo(ev: LogEvent, msg: str) -> None:
    m = _SUDO.match(msg)
    if m:
        ev.action, ev.outcome, ev.user, ev.extra = "sudo", "success", m.group(1), m.group(2)[:512]


_BY_PROGRAM = {"sshd": _classify_sshd, "sudo": _sudo}
_CLASSIFIED = frozenset({"useradd", "adduser", "backup"})


def parse_lines(lines, clock: TimeParser, **kw) -> list[LogEvent]:
    return [parse_line(line, clock, **kw) for line in lines]


_BULK = re.compile(
    r"^(?:([A-Z][a-z]{2} [ \d]\d \d\d:\d\d):(\d\d) ([^\s\[\]:]+) (?:[a-z0-9]+\.[a-z]+ )?([^\s:\[]+)"
    r"(?:\[([^\]\s]{1,64})\])?: ("
    # sshd's login lines, captured in the same pass (the same patterns as _SSH_*; used only when the
    # program is sshd): failed, accepted, invalid user, closed before authentication
    r"(?:Failed (\S+) for (?:invalid user )?(.*) from (\S+) port (\d+)"
    r"|Accepted (\S+) for (.*) from (\S+) port (\d+)"
    r"|Invalid user (.*) from (\S+) port (\d+)"
    r"|(?:Connection closed|Disconnected) by (?:authenticating|invalid) user (.*) (\S+) port (\d+)(?= \[preauth\]$)"
    r")?.*)|(.+))$", re.MULTILINE)


@contextlib.contextmanager
def no_gc():
    """Pause the cycle collector while a block makes many small acyclic objects (events, queues):
    its passes over a growing heap cost a third of the time otherwise."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def parse_chunk(data: bytes, start: int, clock: TimeParser, *, file: str | None = None,
                default_ts: float | None = None, default_host: str | None = None) -> list[LogEvent]:
    """Events of a block of whole lines read from ``file`` at byte offset ``start`` (empty lines
    skipped). One regex pass over the block for the common BSD syslog lines; anything else goes
    through :func:`parse_line`."""
    if not data.isascii():   # character offsets would not be byte offsets: line by line
        out, pos = [], start
        for raw in data.split(b"\n"):
            if raw:
                out.append(parse_line(raw.decode("utf-8", "replace"), clock, default_ts=default_ts,
                                      default_host=default_host, file=file, offset=pos))
            pos += len(raw) + 1
        return out
    with no_gc():
        return _parse_ascii(data.decode("ascii"), start, clock, file, default_ts, default_host)


def _parse_ascii(text: str, start: int, clock: TimeParser, file, default_ts, default_host) -> list[LogEvent]:
    """One pass of :data:`_BULK` over the block. The timestamp of a minute is computed once
    (``Mmm dd hh:mm`` → seconds) and sshd's login lines are classified by the same match; other
    lines go through the same handlers as :func:`parse_line`."""
    days, minutes, out = clock.days, {}, []
    append = out.append
    backup_file = bool(file and "backup" in file)
    for m in _BULK.finditer(text):
        (minute, ss, host, prog, pid, msg, f_how, f_user, f_ip, f_port, a_how, a_user, a_ip, a_port,
         i_user, i_ip, i_port, c_user, c_ip, c_port, other) = m.groups()
        base = minutes.get(minute) if minute is not None else None
        if base is None:
            day = days.get(minute[:6]) if minute is not None else None
            if day is None:
                append(parse_line(other or m.group(0), clock, default_ts=default_ts, default_host=default_host,
                                  file=file, offset=start + m.start()))
                continue
            base = minutes[minute] = day + int(minute[7:9]) * 3600 + int(minute[10:12]) * 60
        if prog == "sshd":
            if f_ip is not None:
                ev = LogEvent(base + int(ss), host, prog, pid, msg, file, start + m.start(), "ssh-login", "failure",
                              clean_user(f_user), f_ip, f_port, f_how)
            elif a_ip is not None:
                ev = LogEvent(base + int(ss), host, prog, pid, msg, file, start + m.start(), "ssh-login", "success",
                              clean_user(a_user), a_ip, a_port, a_how)
            elif i_ip is not None:
                ev = LogEvent(base + int(ss), host, prog, pid, msg, file, start + m.start(), "ssh-invalid-user",
                              "unknown", clean_user(i_user), i_ip, i_port)
            elif c_ip is not None:
                ev = LogEvent(base + int(ss), host, prog, pid, msg, file, start + m.start(), "ssh-preauth-closed",
                              "failure", clean_user(c_user), c_ip, c_port)
            else:
                ev = LogEvent(base + int(ss), host, prog, pid, msg, file, start + m.start())
                if msg.endswith("[preauth]"):
                    _classify_sshd(ev, msg)
            append(ev)
            continue
        ev = LogEvent(base + int(ss), host, prog, pid, msg, file, start + m.start())
        if prog == "sudo":
            _sudo(ev, msg)
        elif backup_file or prog in _CLASSIFIED or " FOUND" in msg:
            classify(ev)
        append(ev)
    return out
