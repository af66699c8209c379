"""Antivirus state: gathered from a host (ClamAV on Linux; Windows in :mod:`.windows`; an AV
console export in :mod:`.console`), then judged by pure functions into findings.

Linux: ClamAV installed (its programs), version, the signature database's age from the
database files' own headers, clamd and freshclam running (pid files and processes of this
host's network namespace), the last detection (``FOUND``) in its log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from findings.checks import Catalogue
from findings.model import Finding, clean_text

DB_DIR = "/var/lib/clamav"
CLAM_LOGS = ("/var/log/clamav/clamav.log", "/var/log/clamav/clamd.log")


@dataclass(frozen=True)
class AvState:
    """What is known of a host's antivirus. ``None`` means not known."""

    source: str                        # clamav, wsc, defender, console
    installed: bool | None = None
    product: str | None = None
    version: str | None = None
    db_version: int | None = None
    db_time: datetime | None = None    # build time of the newest signature database
    enabled: bool | None = None        # daemon / real-time protection running
    updater: bool | None = None        # freshclam / update service running
    up_to_date: bool | None = None     # as the product itself says (Windows productState)
    last_detection: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)


# -- Linux: the shell snippets of one cycle ------------------------------------------------------
PROCS = ("me=$(readlink /proc/self/ns/net); for p in $(pgrep -x 'clamd|freshclam'); do "
         "read -r n < /proc/$p/comm; ns=$(readlink /proc/$p/ns/net 2>/dev/null); "
         "if [ -z \"$ns\" ] || [ \"$ns\" = \"$me\" ]; then echo \"proc $n $p\"; fi; done; "
         "for f in /run/clamav/clamd.pid /run/clamav/freshclam.pid; do "
         "[ -s \"$f\" ] && read -r p < \"$f\" && [ -d \"/proc/$p\" ] && echo \"pidfile ${f##*/} $p\"; done; true")
PKG = ("if [ -f /var/lib/dpkg/status ]; then "
       "grep -A 12 -x -e 'Package: clamav' -e 'Package: clamav-daemon' /var/lib/dpkg/status; "
       "elif command -v rpm >/dev/null && [ -d /var/lib/rpm ]; then rpm -q clamav clamd; "
       "else echo nodb; clamscan --version; fi; true")


def linux_sections() -> list[tuple[str, str]]:
    """Cheap on the host: shell built-ins, one grep of the package database, one ``head`` per
    signature database (the cost is paid on every host of every cycle)."""
    logs = " ".join(CLAM_LOGS)
    return [
        ("av.which", "for c in clamscan clamd freshclam sigtool; do command -v $c || echo \"missing $c\"; done"),
        ("av.pkg", PKG),
        ("av.db", f"for f in {DB_DIR}/*.cvd {DB_DIR}/*.cld {DB_DIR}/*.cud; do [ -f \"$f\" ] || continue; "
                  "printf '%s\\t%s\\t' \"$f\" \"$(stat -c %Y \"$f\")\"; head -c 512 \"$f\"; echo; done; true"),
        ("av.proc", PROCS),
        ("av.found", f"for f in {logs}; do [ -r \"$f\" ] && grep -h ' FOUND' \"$f\" | tail -n 1; done; true"),
    ]


# -- parsers (pure) ----------------------------------------------------------------------------
_HEADER = re.compile(r"^ClamAV-VDB:([^:]*):(\d+):(\d+):(\d+):([^:]*):([^:]*):([^:]*):(\d+)")
_VERSION = re.compile(r"ClamAV (\d+\.\d+(?:\.\d+)?)(?:/(\d+)/(.+))?")


def parse_db_header(header: str) -> dict[str, Any] | None:
    """A ClamAV database header (the first 512 bytes of a .cvd/.cld/.cud): version and build time."""
    m = _HEADER.match(header.strip())
    if not m:
        return None
    return {"built": m.group(1).strip(), "version": int(m.group(2)), "signatures": int(m.group(3)),
            "level": int(m.group(4)), "builder": m.group(7),
            "time": datetime.fromtimestamp(int(m.group(8)), timezone.utc)}


def parse_sigtool_info(text: str) -> dict[str, Any]:
    """``sigtool --info`` output: build time, version, signatures."""
    out: dict[str, Any] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if not sep:
            continue
        key, value = key.strip().lower(), value.strip()
        if key == "build time":
            out["time"] = datetime.strptime(value, "%d %b %Y %H:%M %z").astimezone(timezone.utc)
        elif key in ("version", "signatures", "functionality level") and value.isdigit():
            out[key.replace(" ", "_")] = int(value)
        elif key == "builder":
            out["builder"] = value
    return out


def parse_version(text: str) -> dict[str, Any]:
    m = _VERSION.search(text)
    if not m:
        return {}
    out: dict[str, Any] = {"version": m.group(1)}
    if m.group(2):
        out["db_version"] = int(m.group(2))
    return out


def _running(text: str, name: str) -> bool:
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] in ("proc", "pidfile") and parts[1] in (name, f"{name}.pid"):
            return True
    return False


def parse_packages(text: str) -> tuple[bool | None, str | None]:
    """(installed, version) from the package database; installed None when the host has none."""
    if text.startswith("nodb"):
        return None, parse_version(text).get("version")
    installed, version, current = False, None, None
    for line in text.splitlines():
        if line.startswith("Package: "):
            current = line[9:].strip()
        elif current in ("clamav", "clamav-daemon") and line.startswith("Status: "):
            installed = installed or line.split()[-1] == "installed"
        elif current == "clamav" and line.startswith("Version: ") and version is None:
            version = re.split(r"[+~-]", line[9:].strip().split(":")[-1])[0]
        elif line.startswith(("clamav-", "clamd-")) and "not installed" not in line:   # rpm -q
            installed = True
            version = version or line.split("-")[1]
    return installed, version


def _installed(pkg_installed: bool | None, missing: set[str], have_db: bool, running: bool) -> bool:
    """The package database decides when the host has one; otherwise ClamAV's programs with a
    signature database or a running daemon (a program alone is not a working install)."""
    if pkg_installed is not None:
        return pkg_installed
    return ("clamscan" not in missing or "clamd" not in missing) and (have_db or running)


def parse_linux(sections: dict) -> AvState:
    """The ClamAV state of a host from its sections (see :func:`linux_sections`)."""
    which = sections["av.which"].text if "av.which" in sections else ""
    missing = {ln.split()[1] for ln in which.splitlines() if ln.startswith("missing ")}
    dbs = []
    for line in sections["av.db"].text.splitlines() if "av.db" in sections else ():
        path, _, rest = line.partition("\t")
        mtime, _, header = rest.replace("\0", "").partition("\t")
        info = parse_db_header(header)
        if info is None and mtime.isdigit():   # no readable header: the file's time, marked as such
            info = {"version": 0, "builder": "?", "time": datetime.fromtimestamp(int(mtime), timezone.utc),
                    "from": "mtime"}
        if info:
            dbs.append((path, info))
    newest = max((i["time"] for _, i in dbs), default=None)
    pkg_installed, version = parse_packages(sections["av.pkg"].text if "av.pkg" in sections else "nodb")
    found = sections["av.found"].text.strip() if "av.found" in sections else ""
    procs = sections["av.proc"].text if "av.proc" in sections else None
    enabled = _running(procs, "clamd") if procs is not None else None
    installed = _installed(pkg_installed, missing, bool(dbs), bool(enabled))
    return AvState(
        source="clamav", installed=installed, product="ClamAV" if installed else None,
        version=version, db_version=max((i["version"] for _, i in dbs), default=None),
        db_time=newest, enabled=enabled,
        updater=_running(procs, "freshclam") if procs is not None else None,
        last_detection=clean_text(found.splitlines()[-1], 512) if found else None,
        raw={"missing": sorted(missing), "databases": {p: {"version": i["version"], "time": i["time"].isoformat(),
                                                           "builder": i["builder"]} for p, i in dbs}})


# -- judging (pure) ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Health:
    healthy: bool
    reason: str          # installed and healthy | not installed | not running | outdated | unknown: ...


def health(state: AvState, *, max_age_hours: int, require_daemon: bool, require_updater: bool,
           now: datetime) -> Health:
    if state.installed is False:
        return Health(False, "not installed")
    if state.installed is None:
        return Health(False, "unknown: the antivirus state could not be read")
    if require_daemon and state.enabled is False:
        return Health(False, "not running")
    if require_updater and state.updater is False:
        return Health(False, "not running: updater stopped")
    age = signature_age_hours(state, now)
    if state.up_to_date is False or (age is not None and age > max_age_hours):
        return Health(False, "outdated" + (f": signatures {age:.0f} h old" if age is not None else ""))
    if age is None and state.up_to_date is None:
        return Health(False, "outdated: no signature database found")
    return Health(True, "installed, running and up to date")


def signature_age_hours(state: AvState, now: datetime) -> float | None:
    if state.db_time is None:
        return None
    return max(0.0, (now - state.db_time).total_seconds() / 3600)


def judge(state: AvState, cat: Catalogue, *, agency: str, host_ip: str, host_name: str | None,
          max_age_hours: int, require_daemon: bool, require_updater: bool, now: datetime) -> list[Finding]:
    """av.missing, av.daemon and av.outdated for one host."""
    age = signature_age_hours(state, now)
    details = {"source": state.source, "product": state.product, "version": state.version,
               "db_version": state.db_version, "db_time": state.db_time.isoformat() if state.db_time else None,
               "signature_age_hours": round(age, 1) if age is not None else None, "enabled": state.enabled,
               "updater": state.updater, "up_to_date": state.up_to_date, "last_detection": state.last_detection,
               "raw": state.raw}
    common = {"agency": agency, "host_ip": host_ip, "host_name": host_name, "details": details, "timestamp": now}
    out = [cat["av.missing"].finding(
        verdict="fail" if state.installed is False else "pass",
        message=f"{host_name or host_ip}: " + ("no antivirus installed" if state.installed is False
                                               else f"{state.product or 'antivirus'} installed"), **common)]
    if state.installed is False:
        return out
    down = (require_daemon and state.enabled is False) or (require_updater and state.updater is False)
    what = [n for n, v, req in (("scanner", state.enabled, require_daemon), ("updater", state.updater, require_updater))
            if req and v is False]
    out.append(cat["av.daemon"].finding(
        verdict="fail" if down else "pass", reason=", ".join(what) + " not running" if down else None,
        message=f"{host_name or host_ip}: " + (f"{' and '.join(what)} not running" if down else "protection running"),
        **common))
    outdated = state.up_to_date is False or age is None or age > max_age_hours
    msg = (f"signatures {age:.0f} h old (limit {max_age_hours} h)" if age is not None
           else "signatures out of date" if state.up_to_date is False else "no signature database found")
    if state.up_to_date is True and age is None:
        outdated, msg = False, "signatures up to date (as the product reports)"
    out.append(cat["av.outdated"].finding(verdict="fail" if outdated else "pass",
                                          message=f"{host_name or host_ip}: {msg}", **common))
    return out
