"""What a host's /var holds: antivirus (ClamAV database of a chosen age), backups, log history.

All writes go to the host's /var folder (``var``) before the host starts, or through
``/proc/<pid>/root`` while it runs. Times are relative to ``now`` (the moment of ``up``).
"""

from __future__ import annotations

import grp
import io
import os
import random
import re
import shutil
import subprocess
import tarfile
import tempfile
import time
from datetime import datetime, timezone

from findings.errors import RuntimeFailure

from .spec import AntivirusSpec, BackupSpec, HostSpec

EICAR = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
CLAM_BINARIES = ("/usr/bin/clamscan", "/usr/bin/freshclam", "/usr/bin/sigtool", "/usr/bin/clamdscan", "/usr/sbin/clamd")
CLAMD_CONF = """# clamd of a citysec range host
DatabaseDirectory /var/lib/clamav
LocalSocket /run/clamav/clamd.ctl
PidFile /run/clamav/clamd.pid
LogFile /var/log/clamav/clamav.log
LogTime yes
User root
Foreground yes
"""


def syslog_time(ts: float) -> str:
    return datetime.fromtimestamp(ts).strftime("%b %e %H:%M:%S")


def log_time(ts: float) -> str:
    """``2026-11-20 01:00:00`` (UTC): how the backup script's log lines and restic's ``--time`` write a
    time. Not an ISO 8601 timestamp of a document: that is findings.model.iso, the one ``iso()``."""
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def _run(argv: list[str], **kw) -> subprocess.CompletedProcess:
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, **kw)
    if proc.returncode != 0:
        raise RuntimeFailure(f"{argv[0]}: exit {proc.returncode}: {proc.stderr.strip()[:300]}")
    return proc


# ----- antivirus
def signature_db(cache: str, built_at: float) -> str:
    """A ClamAV database (``daily.cud``) that detects EICAR, with its header's build time = built_at."""
    stamp = datetime.fromtimestamp(built_at, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    out = os.path.join(cache, f"daily-{int(built_at)}.cud")
    if os.path.exists(out):
        return out
    os.makedirs(cache, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        with open(os.path.join(tmp, "eicar.com"), "w") as fh:
            fh.write(EICAR)
        hdb = _run(["sigtool", "--md5", "eicar.com"], cwd=tmp).stdout
        with open(os.path.join(tmp, "daily.hdb"), "w") as fh:
            fh.write(hdb.replace("eicar.com", "Eicar-Test-Signature"))
        with open(os.path.join(tmp, "COPYING"), "w") as fh:
            fh.write("citysec range signatures\n")
        os.remove(os.path.join(tmp, "eicar.com"))
        _run(["faketime", "-f", f"@{stamp}", "sigtool", "--build=daily.cud", "--unsigned", "--cvd-version=7",
              "--no-cdiff"], cwd=tmp, input="citysec-range\n", env={**os.environ, "TZ": "UTC"})
        os.replace(os.path.join(tmp, "daily.cud"), out)
    os.utime(out, (built_at, built_at))
    return out


def dpkg_status(shared: str, with_clamav: bool) -> str:
    """The machine's dpkg status, without the ClamAV packages for hosts that lack antivirus."""
    path = os.path.join(shared, "dpkg-status-av" if with_clamav else "dpkg-status-noav")
    if not os.path.exists(path):
        os.makedirs(shared, exist_ok=True)
        with open("/var/lib/dpkg/status", encoding="utf-8") as fh:
            stanzas = fh.read().split("\n\n")
        if not with_clamav:
            stanzas = [s for s in stanzas if not re.match(r"Package: (clamav|libclamav)", s)]
        with open(path, "w", encoding="utf-8") as fh:
            fh.write("\n\n".join(stanzas))
    return path


def write_antivirus(var: str, av: AntivirusSpec | None, cache: str, now: float) -> None:
    os.makedirs(os.path.join(var, "lib/dpkg"), exist_ok=True)
    target = os.path.join(var, "lib/dpkg/status")
    if os.path.exists(target):
        os.remove(target)
    os.link(dpkg_status(os.path.join(cache, "shared"), av is not None and av.installed), target)
    marker = os.path.join(var, "lib/citysec-range/no-clamav")
    if av is None or not av.installed:
        open(marker, "w").close()
        return
    built = now - av.signature_age_hours * 3600
    db = os.path.join(var, "lib/clamav/daily.cud")
    shutil.copyfile(signature_db(os.path.join(cache, "clamav"), built), db)
    os.utime(db, (built, built))
    with open(os.path.join(var, "lib/citysec-range/clamd.conf"), "w") as fh:
        fh.write(CLAMD_CONF)
    with open(os.path.join(var, "log/clamav/freshclam.log"), "a") as fh:
        fh.write(f"{time.ctime(built)} -> ClamAV update process started at {time.ctime(built)}\n"
                 f"{time.ctime(built)} -> daily.cud database is up-to-date (version: 7, sigs: 1, f-level: 90,"
                 " builder: citysec-range)\n")
    # As Debian ships them: root:adm 0640, so the collection account (in group adm) reads them;
    # clamd appends to the file that exists instead of creating one only root can read.
    adm = grp.getgrnam("adm").gr_gid
    for log in ("clamav.log", "freshclam.log"):
        path = os.path.join(var, "log/clamav", log)
        open(path, "a").close()
        os.chown(path, 0, adm)
        os.chmod(path, 0o640)


# ----- backups
def write_files_backup(var: str, host: str, b: BackupSpec, now: float) -> None:
    for hours, size in b.files:
        ts = now - hours * 3600
        path = os.path.join(var, "backups", f"{host}-{datetime.fromtimestamp(ts):%Y%m%d-%H%M}.tar.gz")
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz") as tar:
            data = random.Random(f"{host}{hours}").randbytes(max(size - 200, 1))
            info = tarfile.TarInfo("data/export.bin")
            info.size, info.mtime = len(data), int(ts)
            tar.addfile(info, io.BytesIO(data))
        with open(path, "wb") as fh:
            fh.write(buf.getvalue())
        os.utime(path, (ts, ts))


def backup_log_lines(host: str, b: BackupSpec, now: float) -> list[str]:
    times = sorted([now - h * 3600 for h in b.snapshots_hours_ago] + [now - h * 3600 for h, _ in b.files])
    lines = []
    for ts in times:
        lines += [f"{log_time(ts)} backup[{host}]: starting {b.method} backup",
                  f"{log_time(ts + 40)} backup[{host}]: backup finished: OK"]
    if b.failing:
        for ts in (now - 26 * 3600, now - 2 * 3600):
            lines += [f"{log_time(ts)} backup[{host}]: starting {b.method} backup",
                      f"{log_time(ts + 5)} backup[{host}]: ERROR: Fatal: unable to open config file: "
                      "Stat: stat /mnt/nas/backups/config: no such file or directory",
                      f"{log_time(ts + 5)} backup[{host}]: backup finished: FAILED (exit 1)"]
    return lines


def restic_commands(host: str, b: BackupSpec, now: float) -> list[list[str]]:
    """Commands that run inside the host: init the repository, then one snapshot per age."""
    repo = ["restic", "-q", "-r", "/var/backups/restic", "--password-file", "/var/backups/restic.pass"]
    cmds = [repo + ["init"]]
    for hours in sorted(b.snapshots_hours_ago, reverse=True):
        cmds.append(repo + ["backup", "--host", host, "--time", log_time(now - hours * 3600), "/var/www", "/var/lib/citysec"])
    return cmds


def write_backup(var: str, h: HostSpec, now: float) -> None:
    b = h.backup
    if b is None:
        return
    if b.method == "restic":
        path = os.path.join(var, "backups/restic.pass")
        with open(path, "w") as fh:
            fh.write(f"range-{h.name}-{random.Random(h.name).randrange(10**9)}\n")
        os.chmod(path, 0o640)
    write_files_backup(var, h.name, b, now)
    with open(os.path.join(var, "log/backup.log"), "a") as fh:
        fh.write("".join(line + "\n" for line in backup_log_lines(h.name, b, now)))


# ----- auth log history
def auth_lines(h: HostSpec, sensor_ip: str, now: float) -> list[tuple[float, str]]:
    rnd = random.Random(h.name)
    out = []
    for i in range(h.logs.logins):
        ts = now - (h.logs.logins - i) * 86400 + rnd.randrange(3600)
        pid = rnd.randrange(1000, 30000)
        out.append((ts, f"sshd[{pid}]: Accepted publickey for citysec from {sensor_ip} port {rnd.randrange(32768, 60999)}"
                        " ssh2: ED25519 SHA256:citysecRangeOperatorKeyFingerprint"))
    for f in h.logs.failures:
        start = now - f.hours_ago * 3600
        for i in range(f.count):
            pid, port = rnd.randrange(1000, 30000), rnd.randrange(32768, 60999)
            ts = start + i * 2
            if f.user not in ("citysec", "root"):
                out.append((ts, f"sshd[{pid}]: Invalid user {f.user} from {f.source} port {port}"))
                out.append((ts, f"sshd[{pid}]: Failed password for invalid user {f.user} from {f.source} port {port} ssh2"))
            else:
                out.append((ts, f"sshd[{pid}]: Failed password for {f.user} from {f.source} port {port} ssh2"))
    return sorted(out)


def write_auth_log(var: str, h: HostSpec, sensor_ip: str, now: float) -> None:
    lines = [f"{syslog_time(ts)} {h.name} auth.info {msg}\n" for ts, msg in auth_lines(h, sensor_ip, now)]
    with open(os.path.join(var, "log/auth.log"), "a") as fh:
        fh.write("".join(lines))
