"""One simulated host: its own /var, a holder process owning its mount/UTS/PID namespaces, sshd.

The holder is ``ip netns exec NS unshare -m -u -p --fork --mount-proc`` running a small shell
as PID 1 of the host: it bind-mounts the host's folder on /var, mounts a private tmpfs on /run,
sets the host name, then reaps orphans forever. Everything else on the host (sshd, services,
``Range.exec``) enters the holder's namespaces with nsenter, so an SSH session sees that
host's own /var (logs, AV database, backups), its own processes and its own hostname.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import subprocess
import time
from dataclasses import dataclass

from findings.errors import RuntimeFailure

from .net import run
from .spec import HostSpec


@dataclass(frozen=True)
class Host:
    """A host of a range as it runs: its description (``spec``) and its network namespace."""
    name: str
    ip: str
    agency: str
    netns: str
    role: str
    services: tuple[str, ...]
    registered: bool
    spec: HostSpec


USER = "citysec"
IN_HOST = "/var/lib/citysec-range"  # the range's own files, inside each host's /var

HOLDER = r"""# PID 1 of a citysec range host: $1 = the host's /var folder, $2 = its name
set -e
mount --bind "$1" /var
mount -t tmpfs -o mode=755,size=8m tmpfs /run
mkdir -p /run/sshd /run/lock /run/clamav /run/citysec
chmod 1777 /run/lock
mount -t tmpfs -o mode=755,size=64k,nosuid,noexec devfs /dev
cd /dev
mknod -m 666 null c 1 3; mknod -m 666 zero c 1 5; mknod -m 666 full c 1 7
mknod -m 666 random c 1 8; mknod -m 666 urandom c 1 9; mknod -m 666 tty c 5 0
mkdir -m 755 pts; mkdir -m 1777 shm
mount -t devpts -o newinstance,ptmxmode=0666,mode=620,gid=5 devpts /dev/pts
ln -s pts/ptmx ptmx; ln -s /proc/self/fd fd
ln -s /proc/self/fd/0 stdin; ln -s /proc/self/fd/1 stdout; ln -s /proc/self/fd/2 stderr
cd /
if [ -e /var/lib/citysec-range/no-clamav ]; then
  for b in /usr/bin/clamscan /usr/bin/freshclam /usr/bin/sigtool /usr/bin/clamdscan /usr/sbin/clamd; do
    [ -e "$b" ] && mount --bind /var/lib/citysec-range/no-clamav "$b"
  done
fi
hostname "$2"
busybox syslogd -O /var/log/auth.log
/usr/sbin/sshd -f /var/lib/citysec-range/ssh/sshd_config
: > /run/citysec/ready
set +e
trap 'exit 0' TERM
while :; do sleep 86400 & wait; done
"""

SSHD_CONFIG = """# sshd of range host {name} (citysec range)
Port 22
ListenAddress {ip}
HostKey {d}/ssh/ssh_host_ed25519_key
AuthorizedKeysFile {d}/authorized_keys/%u
PidFile /run/sshd.pid
UsePAM no
PermitRootLogin no
PubkeyAuthentication yes
PasswordAuthentication yes
KbdInteractiveAuthentication no
MaxAuthTries 6
MaxStartups 200:30:400
LoginGraceTime 30
SyslogFacility AUTH
LogLevel INFO
PrintMotd no
Subsystem sftp /usr/lib/openssh/sftp-server
"""


def ensure_user() -> tuple[int, int]:
    """The ``citysec`` account (home /var/lib/citysec, which each host's own /var provides;
    password '*': password logins always fail, as a brute force needs; member of adm for logs)."""
    try:
        pw = pwd.getpwnam(USER)
    except KeyError:
        run(["useradd", "--system", "--home-dir", "/var/lib/citysec", "--no-create-home",
             "--shell", "/bin/sh", "--groups", "adm", USER])
        run(["usermod", "-p", "*", USER])
        pw = pwd.getpwnam(USER)
    return pw.pw_uid, pw.pw_gid


def keypair(path: str, comment: str) -> None:
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", path])


def layout(var: str, name: str, ip: str, keys_dir: str, operator_pub: str) -> None:
    """Create the host's /var tree (as the host will see it) under ``var``."""
    uid, gid = ensure_user()
    adm = grp.getgrnam("adm").gr_gid
    for d in ("log", "lib/citysec", "lib/clamav", "log/clamav", "backups", "spool", "cache", "tmp",
              "lib/citysec-range/ssh", "lib/citysec-range/authorized_keys"):
        os.makedirs(os.path.join(var, d), mode=0o755, exist_ok=True)
    os.chmod(os.path.join(var, "tmp"), 0o1777)
    os.chown(os.path.join(var, "lib/citysec"), uid, gid)
    for link, target in (("run", "/run"), ("lock", "/run/lock")):
        if not os.path.islink(os.path.join(var, link)):
            os.symlink(target, os.path.join(var, link))
    ssh = os.path.join(var, "lib/citysec-range/ssh")
    for suffix in ("", ".pub"):
        shutil.copyfile(os.path.join(keys_dir, "ssh_host_ed25519_key" + suffix),
                        os.path.join(ssh, "ssh_host_ed25519_key" + suffix))
    os.chmod(os.path.join(ssh, "ssh_host_ed25519_key"), 0o600)
    with open(os.path.join(ssh, "sshd_config"), "w") as fh:
        fh.write(SSHD_CONFIG.format(name=name, ip=ip, d=IN_HOST))
    with open(os.path.join(var, "lib/citysec-range/authorized_keys", USER), "w") as fh:
        fh.write(operator_pub)
    for log in ("auth.log", "lastlog", "wtmp", "btmp"):
        path = os.path.join(var, "log", log)
        open(path, "a").close()
        os.chown(path, 0, adm)
        os.chmod(path, 0o640)


def write_init(path: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as fh:
        fh.write(HOLDER)


def start_holder(netns: str, init: str, var: str, hostname: str, errfile: str) -> subprocess.Popen:
    with open(errfile, "w") as err:
        return subprocess.Popen(
            ["ip", "netns", "exec", netns, "unshare", "-m", "-u", "-p", "--fork", "--mount-proc",
             "--propagation", "private", "sh", init, os.path.abspath(var), hostname],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)


def holder_pid(parent: int) -> int | None:
    """The host's PID 1 (the child of the ``unshare`` process), once its setup is done."""
    try:
        with open(f"/proc/{parent}/task/{parent}/children") as fh:
            kids = fh.read().split()
    except FileNotFoundError:
        return None
    for kid in kids:
        if os.path.exists(f"/proc/{kid}/root/run/citysec/ready"):
            return int(kid)
    return None


def wait_holders(procs: dict[str, subprocess.Popen], errfiles: dict[str, str], timeout: float = 60) -> dict[str, int]:
    pids: dict[str, int] = {}
    deadline = time.monotonic() + timeout
    while len(pids) < len(procs):
        for name, proc in procs.items():
            if name in pids:
                continue
            if proc.poll() is not None:
                with open(errfiles[name]) as fh:
                    raise RuntimeFailure(f"host {name}: its namespace holder failed: {fh.read().strip()[:400]}")
            pid = holder_pid(proc.pid)
            if pid:
                pids[name] = pid
        if time.monotonic() > deadline:
            missing = sorted(set(procs) - set(pids))
            raise RuntimeFailure(f"hosts not ready after {timeout:.0f} s: {', '.join(missing[:10])}")
        if len(pids) < len(procs):
            time.sleep(0.02)
    return pids


def nsenter(pid: int, argv: list[str]) -> list[str]:
    return ["nsenter", "-t", str(pid), "-m", "-u", "-n", "-p", "--", *argv]


def start_sshd(pid: int, name: str) -> None:
    proc = subprocess.run(nsenter(pid, ["/usr/sbin/sshd", "-f", f"{IN_HOST}/ssh/sshd_config"]),
                          capture_output=True, text=True, timeout=30)
    if proc.returncode != 0:
        raise RuntimeFailure(f"host {name}: sshd did not start: {proc.stderr.strip()[:400]}")
