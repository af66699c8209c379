"""Incremental log reading with a cursor per host and file that survives rotation and restarts.

A cursor is (inode, offset, hash of the first line). Each cycle first asks the host for the
file's inode, size and first-line hash and those of its rotated siblings (``.1``, ``.0``,
``-DATE``), then :func:`plan` decides which byte ranges to read:

- same inode, size ≥ offset, same first line: the file grew; read from the offset;
- a new inode (rename rotation): finish the old inode (found among the siblings) from the
  offset, then the new file from 0;
- same inode but shorter or another first line (copytruncate): finish the sibling whose first
  line matches, then the file from 0.

Only whole lines are consumed, so a line being written is read next time: no line twice,
none skipped. If the old file cannot be found any more, the gap is reported.
"""

from __future__ import annotations

from dataclasses import dataclass

from .script import q

HEAD = "head -c 4096 {f} | head -n 1 | cksum | cut -d' ' -f1"


@dataclass(frozen=True)
class Cursor:
    path: str
    inode: int
    offset: int
    head: str


@dataclass(frozen=True)
class FileStat:
    path: str
    inode: int
    size: int
    head: str
    readable: bool = True


@dataclass(frozen=True)
class Read:
    path: str
    start: int
    length: int
    final: bool          # the old file: its last bytes count even without a newline
    inode: int
    head: str


@dataclass(frozen=True)
class Plan:
    reads: tuple[Read, ...]
    rotated: bool = False
    gap: str | None = None       # why lines may have been lost (the old file is gone)


def stat_snippet(path: str) -> str:
    f = q(path)
    return (f"for g in {f} {f}.1 {f}.0 {f}-[0-9]*; do case \"$g\" in *.gz|*.xz|*.bz2|*.zst) continue;; esac; "
            f"[ -f \"$g\" ] || continue; set -- $(stat -L -c '%i %s' \"$g\"); "
            f"h=$({HEAD.format(f=chr(34) + '$g' + chr(34))}); r=-; [ -r \"$g\" ] && r=r; "
            f"echo \"$1 $2 $h $r $g\"; done; true")


def parse_stats(path: str, text: str) -> tuple[FileStat | None, list[FileStat]]:
    current, siblings = None, []
    for line in text.splitlines():
        parts = line.split(" ", 4)
        if len(parts) != 5 or not parts[0].isdigit() or not parts[1].isdigit() or parts[3] not in ("r", "-"):
            continue
        st = FileStat(parts[4], int(parts[0]), int(parts[1]), parts[2], parts[3] == "r")
        if st.path == path:
            current = st
        else:
            siblings.append(st)
    return current, siblings


def read_snippet(r: Read, path: str | None = None) -> str:
    """Read the planned bytes from the file that has the planned inode: the file may have been
    rotated between the stat and this read (then it is found among the siblings)."""
    f = q(path or r.path)
    return (f"for g in {q(r.path)} {f} {f}.1 {f}.0 {f}-[0-9]*; do [ -f \"$g\" ] || continue; "
            f"if [ \"$(stat -L -c %i \"$g\")\" = {r.inode} ]; then "
            f"tail -c +{r.start + 1} \"$g\" | head -c {r.length}; break; fi; done; true")


def plan(cursor: Cursor | None, current: FileStat | None, siblings: list[FileStat], cap: int) -> Plan:
    if current is None or not current.readable:     # nothing read: the cursor stays where it is
        return Plan(())
    if cursor is None:
        return Plan((Read(current.path, 0, min(current.size, cap), False, current.inode, current.head),))
    same_file = (current.inode == cursor.inode and current.size >= cursor.offset
                 and (cursor.offset == 0 or current.head == cursor.head))
    if same_file:
        n = min(current.size - cursor.offset, cap)
        return Plan((Read(current.path, cursor.offset, n, False, current.inode, current.head),) if n > 0 else ())
    old = _find_old(cursor, current, siblings)
    reads: list[Read] = []
    budget = cap
    if old is not None and old.size > cursor.offset:
        n = min(old.size - cursor.offset, budget)
        reads.append(Read(old.path, cursor.offset, n, n == old.size - cursor.offset, old.inode, old.head))
        budget -= n
        if n < old.size - cursor.offset:   # the old file is not finished: stay on it
            return Plan(tuple(reads), rotated=True)
    gap = None if old is not None else (f"{cursor.path} was rotated and the rotated file (inode {cursor.inode}) "
                                        f"is gone: lines after offset {cursor.offset} may be lost")
    if budget > 0:   # also when empty: the cursor moves to the new file
        reads.append(Read(current.path, 0, min(current.size, budget), False, current.inode, current.head))
    return Plan(tuple(reads), rotated=True, gap=gap)


def _find_old(cursor: Cursor, current: FileStat, siblings: list[FileStat]) -> FileStat | None:
    for s in siblings:
        if s.inode == cursor.inode and s.inode != current.inode:
            return s
    for s in siblings:  # copytruncate: a copy with the same first line
        if s.head == cursor.head and s.size >= cursor.offset and cursor.offset > 0:
            return s
    return None


def consume(cursor: Cursor | None, plan_: Plan, chunks: list[bytes], path: str
            ) -> tuple[Cursor | None, list[tuple[str, int, bytes]]]:
    """Whole lines from the chunks read for ``plan_``, as (file, offset, line), and the new cursor."""
    lines: list[tuple[str, int, bytes]] = []
    new = cursor
    for r, data in zip(plan_.reads, chunks):
        data = data[: r.length]
        end = len(data) if (r.final and len(data) == r.length) else data.rfind(b"\n") + 1
        pos = 0
        while pos < end:
            nl = data.find(b"\n", pos, end)
            stop = end if nl < 0 else nl
            lines.append((r.path, r.start + pos, data[pos:stop]))
            pos = stop + 1
        if r.final and end == r.length:
            continue   # the old file is done; the cursor moves to the next read (the new file)
        new = Cursor(path, r.inode, r.start + end, r.head)
    if new is cursor and plan_.reads and all(r.final for r in plan_.reads):
        last = plan_.reads[-1]
        new = Cursor(path, last.inode, last.start + last.length, last.head)
    return new, lines
