"""The sectioned script and the log cursor, run by a real /bin/sh on real files (no SSH)."""

import os
import subprocess

from collectors import cursor, script


def sh(text: str) -> bytes:
    return subprocess.run(["sh", "-c", text], capture_output=True, timeout=30).stdout


def test_sections_keep_exact_bytes_and_status():
    text, nonce = script.build([("a", "printf 'x\\n\\n'"), ("b", "printf 'no newline'; exit 7"), ("c", "true")])
    secs = script.parse(sh(text), nonce)
    assert secs["a"].data == b"x\n\n" and secs["a"].rc == 0
    assert secs["b"].data == b"no newline" and secs["b"].rc == 7
    assert secs["c"].data == b"" and secs["c"].rc == 0


def test_host_output_cannot_forge_a_section():
    text, nonce = script.build([("a", "printf '\\n@@citysec-0000 rc 0\\n@@citysec-0000 b\\nfake\\n'")])
    secs = script.parse(sh(text), nonce)
    assert list(secs) == ["a"] and b"fake" in secs["a"].data


def test_cut_output_leaves_section_without_status():
    text, nonce = script.build([("a", "echo one"), ("b", "echo two")])
    out = sh(text)
    secs = script.parse(out[: out.index(b"two") + 3], nonce)
    assert secs["a"].rc == 0 and secs["b"].rc is None


class LocalLog:
    """Drive the cursor exactly as the logs task does, with /bin/sh on local files."""

    def __init__(self, path):
        self.path, self.cur, self.seen = str(path), None, []

    def collect(self, cap=1 << 20, between=None):
        text, nonce = script.build([("st", cursor.stat_snippet(self.path))])
        current, siblings = cursor.parse_stats(self.path, script.parse(sh(text), nonce)["st"].text)
        p = cursor.plan(self.cur, current, siblings, cap)
        chunks = []
        if between:
            between()
        if p.reads:
            text, nonce = script.build([(f"r{i}", cursor.read_snippet(r, self.path)) for i, r in enumerate(p.reads)])
            secs = script.parse(sh(text), nonce)
            chunks = [secs[f"r{i}"].data for i in range(len(p.reads))]
        self.cur, lines = cursor.consume(self.cur, p, chunks, self.path)
        self.seen += [line.decode() for _, _, line in lines]
        return p


def write(path, lines, mode="a"):
    with open(path, mode) as fh:
        fh.writelines(f"{line}\n" for line in lines)


def test_growth_and_partial_line(tmp_path):
    log = tmp_path / "auth.log"
    write(log, ["l1", "l2"])
    with open(log, "a") as fh:
        fh.write("l3-part")
    c = LocalLog(log)
    c.collect()
    assert c.seen == ["l1", "l2"]
    with open(log, "a") as fh:
        fh.write("ial\n")
    write(log, ["l4"])
    c.collect()
    c.collect()
    assert c.seen == ["l1", "l2", "l3-partial", "l4"]


def test_rename_rotation_mid_collection_loses_and_repeats_nothing(tmp_path):
    log = tmp_path / "auth.log"
    write(log, [f"a{i}" for i in range(5)])
    c = LocalLog(log)
    c.collect()
    write(log, ["a5", "a6"])                      # written after the last read...
    os.rename(log, str(log) + ".1")               # ...then rotated
    write(log, ["b0", "b1"], mode="w")
    p = c.collect()
    assert p.rotated and p.gap is None
    write(log, ["b2"])
    c.collect()
    assert c.seen == [f"a{i}" for i in range(7)] + ["b0", "b1", "b2"]


def test_copytruncate_rotation(tmp_path):
    log = tmp_path / "syslog"
    write(log, ["x0", "x1"])
    c = LocalLog(log)
    c.collect()
    write(log, ["x2"])
    subprocess.run(["cp", str(log), str(log) + ".1"], check=True)
    with open(log, "w") as fh:
        fh.truncate(0)
    write(log, ["y0", "y1", "y2", "y3", "y4"])   # longer than before: only the first line tells
    c.collect()
    assert c.seen == ["x0", "x1", "x2", "y0", "y1", "y2", "y3", "y4"]


def test_rotation_into_empty_file_then_restart(tmp_path):
    log = tmp_path / "auth.log"
    write(log, ["a0"])
    c = LocalLog(log)
    c.collect()
    write(log, ["a1"])
    os.rename(log, str(log) + ".1")
    open(log, "w").close()
    c.collect()
    saved = c.cur                                   # a restart: only the cursor survives
    c2 = LocalLog(log)
    c2.cur = saved
    write(log, ["b0"])
    c2.collect()
    assert c.seen + c2.seen == ["a0", "a1", "b0"]


def test_rotated_file_gone_reports_a_gap(tmp_path):
    log = tmp_path / "auth.log"
    write(log, ["a0"])
    c = LocalLog(log)
    c.collect()
    os.remove(log)
    write(log, ["b0"], mode="w")
    p = c.collect()
    assert p.gap and "may be lost" in p.gap and c.seen == ["a0", "b0"]


def test_cap_reads_in_pieces(tmp_path):
    log = tmp_path / "auth.log"
    write(log, [f"line-{i:04d}" for i in range(100)])
    c = LocalLog(log)
    for _ in range(20):
        c.collect(cap=64)
    assert c.seen == [f"line-{i:04d}" for i in range(100)]


def test_rotation_between_stat_and_read(tmp_path):
    log = tmp_path / "auth.log"
    write(log, ["a0", "a1"])
    c = LocalLog(log)
    c.collect()
    write(log, ["a2"])

    def rotate():
        write(log, ["a3"])
        os.rename(log, str(log) + ".1")
        write(log, ["b0"], mode="w")

    c.collect(between=rotate)        # planned on the old file, which moved before the read
    write(log, ["b1"])
    c.collect()
    c.collect()
    assert c.seen == ["a0", "a1", "a2", "a3", "b0", "b1"]
