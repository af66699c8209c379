"""The one guard for files the range writes inside a running host (issue #19).

Everything else in a range host is the machine's own file system: the range writes only below a
host's own ``/var``, ``/run`` and ``/dev`` (its bind mount and its private tmpfs mounts), and never
through a symbolic link, which would resolve in the machine's file system, not the host's. Paths
are walked from the host's root (``/proc/<pid>/root``) one folder at a time with ``O_NOFOLLOW``,
so a link placed anywhere on the way (or swapped in while the walk runs) is refused, not followed.

Every refusal is a ``UsageError`` naming the host and the path (exit 2 through the command).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator

from findings.errors import UsageError

WRITABLE = ("var", "run", "dev")  # the host's own folders; the rest is the machine's
DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def parts(host: str, path: str) -> list[str]:
    """The components of ``path`` after checking it names something inside the host's own
    /var, /run or /dev: absolute, without '..', '.', '//' or a trailing '/'."""
    if not isinstance(path, str) or not path.startswith("/"):
        raise UsageError(f"{host}: {path!r}: give an absolute path")
    out = path.split("/")[1:]
    if any(p in ("", ".", "..") for p in out):
        raise UsageError(f"{host}: {path!r}: give a path without '..', '.', '//' or a trailing '/'")
    if len(out) < 2 or out[0] not in WRITABLE:
        raise UsageError(f"{host}: {path!r}: the range reaches only files inside a host's own "
                         f"{', '.join('/' + w for w in WRITABLE)}")
    return out


def _refuse_link(host: str, path: str, dir_fd: int, name: str, walked: list[str]) -> None:
    """Raise the clear error when ``name`` (in ``dir_fd``) is a symbolic link."""
    with contextlib.suppress(OSError):
        if stat.S_ISLNK(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode):
            raise UsageError(f"{host}: {path}: {'/' + '/'.join(walked + [name])} is a symbolic link "
                             "(it would resolve outside the host): refused")


@contextlib.contextmanager
def parent(root: str, host: str, path: str, create: bool = False) -> Iterator[tuple[int, str]]:
    """``(fd of the folder holding path's last component, that component)``, walked without
    following links; ``create`` makes missing folders (0755). FileNotFoundError when a folder is
    missing and ``create`` is false."""
    names = parts(host, path)
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for i, name in enumerate(names[:-1]):
            try:
                nfd = os.open(name, DIR_FLAGS, dir_fd=fd)
            except FileNotFoundError:
                if not create:
                    raise
                with contextlib.suppress(FileExistsError):
                    os.mkdir(name, 0o755, dir_fd=fd)
                nfd = os.open(name, DIR_FLAGS, dir_fd=fd)
            except OSError as exc:
                _refuse_link(host, path, fd, name, names[:i])
                if exc.errno == errno.ENOTDIR:
                    raise UsageError(f"{host}: {path}: {'/' + '/'.join(names[:i + 1])} is not a folder") from None
                raise
            os.close(fd)
            fd = nfd
        yield fd, names[-1]
    finally:
        os.close(fd)


def write(root: str, host: str, path: str, data: bytes, mode: int = 0o644, append: bool = False,
          owner: tuple[int, int] | None = None) -> None:
    """Write (or append) ``data`` at ``path``, making missing folders; ``mode`` (and ``owner``)
    are set also when the file existed. The file itself must not be a link."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC | (os.O_APPEND if append else os.O_TRUNC)
    with parent(root, host, path, create=True) as (dfd, name):
        try:
            fd = os.open(name, flags, mode, dir_fd=dfd)
        except IsADirectoryError:
            raise UsageError(f"{host}: {path} is a folder, not a file") from None
        except OSError:
            _refuse_link(host, path, dfd, name, parts(host, path)[:-1])
            raise
        with os.fdopen(fd, "ab" if append else "wb") as fh:
            if not append:
                os.fchmod(fh.fileno(), mode)
            if owner is not None:
                os.fchown(fh.fileno(), *owner)
            fh.write(data)


def read(root: str, host: str, path: str) -> bytes | None:
    """The content of the file at ``path`` (None when it or a folder above it is missing)."""
    try:
        with parent(root, host, path) as (dfd, name):
            try:
                fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dfd)
            except OSError as exc:
                _refuse_link(host, path, dfd, name, parts(host, path)[:-1])
                if exc.errno == errno.EISDIR:
                    raise UsageError(f"{host}: {path} is a folder, not a file") from None
                raise
            if stat.S_ISDIR(os.fstat(fd).st_mode):
                os.close(fd)
                raise UsageError(f"{host}: {path} is a folder, not a file")
            with os.fdopen(fd, "rb") as fh:
                return fh.read()
    except FileNotFoundError:
        return None


def lstat(root: str, host: str, path: str) -> os.stat_result | None:
    """``path``'s own status (a link is not followed), None when missing."""
    try:
        with parent(root, host, path) as (dfd, name):
            return os.stat(name, dir_fd=dfd, follow_symlinks=False)
    except FileNotFoundError:
        return None


def remove(root: str, host: str, path: str) -> bool:
    """Remove the file (or link) at ``path``; False when there was none."""
    try:
        with parent(root, host, path) as (dfd, name):
            os.unlink(name, dir_fd=dfd)
            return True
    except FileNotFoundError:
        return False


def remove_dir(root: str, host: str, path: str) -> bool:
    """Remove the folder at ``path`` when it is empty; False when it is missing or not empty."""
    try:
        with parent(root, host, path) as (dfd, name):
            os.rmdir(name, dir_fd=dfd)
            return True
    except OSError as exc:
        if isinstance(exc, (FileNotFoundError, NotADirectoryError)) or exc.errno in (errno.ENOTEMPTY, errno.EEXIST):
            return False
        raise


def real(root: str, host: str, path: str) -> str:
    """The machine's path of ``path`` inside the host, after the same checks (no link anywhere on
    the way, the last component included): for reading and listing what the range wrote."""
    names = parts(host, path)
    walk = root
    for i, name in enumerate(names):
        walk = os.path.join(walk, name)
        if os.path.islink(walk):
            raise UsageError(f"{host}: {path}: {'/' + '/'.join(names[:i + 1])} is a symbolic link "
                             "(it would resolve outside the host): refused")
    return walk
