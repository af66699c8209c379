"""The one YAML loader: bounded (size, alias expansion, depth), strict (UTF-8, duplicate keys), and
every command that reads YAML turns its refusal into exit 2 naming the file, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from findings.errors import ConfigError
from findings.support import yamlpos
from findings.support.yamlpos import load_document, load_one, load_text, read_bytes

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def billion_laughs(levels: int = 9) -> str:
    """9 levels of 9 aliases: 9**9 (387 million) values once expanded."""
    lines = ["name: x", "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def write(tmp_path, name: str, data: bytes | str) -> str:
    p = tmp_path / name
    p.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return str(p)


def refusal(path: str) -> str:
    with pytest.raises(ConfigError) as exc:
        load_one(path)
    (problem,) = exc.value.problems
    return problem


def test_an_alias_bomb_is_refused_where_it_crosses_the_limit(tmp_path):
    path = write(tmp_path, "bomb.yaml", billion_laughs())
    problem = refusal(path)
    # a6 (line 8) holds 9**7 = 4.8 million values: the first value past a million
    assert problem.startswith(f"{path}: line 8: a6: more than {yamlpos.MAX_NODES} values once its aliases")


def test_aliases_within_the_limit_load_as_before(tmp_path):
    path = write(tmp_path, "ok.yaml", "base: &b {port: 22, user: ops}\nhosts:\n  - *b\n  - *b\n")
    data, pos = load_one(path)
    assert data["hosts"] == [{"port": 22, "user": "ops"}] * 2
    assert pos[("hosts", 1, "port")] == (path, 1)       # an alias's values: where the anchor wrote them


def test_an_alias_inside_its_own_anchor_is_refused(tmp_path):
    path = write(tmp_path, "rec.yaml", "a: 1\nloop: &x [1, *x]\n")
    assert refusal(path) == f"{path}: line 2: loop[1]: an alias refers to a value that contains it (a recursive structure)"


def test_nesting_deeper_than_the_limit_is_refused(tmp_path):
    depth = yamlpos.MAX_DEPTH + 2
    text = "".join("  " * i + f"k{i}:\n" for i in range(depth)) + "  " * depth + "v\n"
    path = write(tmp_path, "deep.yaml", text)
    assert f"nested more than {yamlpos.MAX_DEPTH} levels deep" in refusal(path)


def test_a_file_over_the_size_limit_is_refused_before_it_is_read_whole(tmp_path):
    path = write(tmp_path, "big.yaml", "a: " + "x" * 5000 + "\n")
    with pytest.raises(ConfigError) as exc:
        read_bytes(path, max_bytes=4096)
    assert exc.value.problems == [f"{path}: line 1: the file is larger than 4096 bytes (the limit for a YAML file)"]


@pytest.mark.parametrize("name, data, expected", [
    ("latin1.yaml", "name: x\ncity: Hà Noi\n".encode("latin-1"),
     "line 2, column 8: byte 0xe0 is not UTF-8 (Latin-1 or Windows-1258 text?); save it as UTF-8 text"),
    ("utf16.yaml", "name: x\n".encode("utf-16"), "line 1: the file is UTF-16 text, not UTF-8; save it as UTF-8 text"),
    ("utf16be.yaml", "name: x\n".encode("utf-16-be"), "line 1: the file holds a NUL byte"),
    ("binary.yaml", b"\x7fELF\x02\x01\x01\x00\x00\x00", "line 1: the file holds a NUL byte"),
])
def test_a_file_that_is_not_utf8_names_the_file_line_and_problem(tmp_path, name, data, expected):
    path = write(tmp_path, name, data)
    assert refusal(path).startswith(f"{path}: {expected}")


def test_a_utf8_byte_order_mark_is_dropped(tmp_path):
    path = write(tmp_path, "bom.yaml", b"\xef\xbb\xbfname: H\xc3\xa0 N\xe1\xbb\x99i\n")
    doc = load_document(path)
    assert doc.data == {"name": "Hà Nội"}
    assert doc.raw.startswith(b"\xef\xbb\xbf")            # the digest is of the bytes as stored


def test_a_character_yaml_forbids_names_its_line(tmp_path):
    path = write(tmp_path, "ctl.yaml", b"a: 1\nb: x\x07y\n")
    assert refusal(path) == (f"{path}: line 2: invalid YAML: character U+0007 is not allowed"
                             " (control characters are not allowed)")


def test_a_duplicate_key_names_its_yaml_path(tmp_path):
    path = write(tmp_path, "dup.yaml", "agencies:\n  - id: a\n    ssh: {user: x}\n    ssh: {user: y}\n")
    assert refusal(path) == f"{path}: line 4: agencies[0].ssh: key 'ssh' appears twice (first at line 3)"


def test_stored_text_goes_through_the_same_limits():
    with pytest.raises(ConfigError, match="stored.yaml: line 8: a6: more than"):
        load_text(billion_laughs(), "stored.yaml")


def citysec(*args):
    argv = [sys.executable, "-c", "from citysec.cli import main; main()", *args]
    return subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, timeout=120,
                          env={**os.environ, "CITYSEC_USER": "tester"}, check=False)


@pytest.mark.parametrize("command", [("config", "check"), ("playbook", "validate"), ("exercise", "validate")])
def test_commands_refuse_a_bomb_and_latin1_with_exit_2(tmp_path, command):
    bomb = write(tmp_path, "bomb.yaml", billion_laughs())
    latin = write(tmp_path, "latin1.yaml", b"id: x\ntitle: H\xe0 Noi\n")
    for path, expected in ((bomb, f"{bomb}: line 8: a6: more than"), (latin, f"{latin}: line 2, column 9: byte 0xe0")):
        args = ("--config", path, *command) if command[0] == "config" else (*command, path)
        r = citysec(*args)
        assert r.returncode == 2, r.stderr
        assert expected in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize("text, expected", [
    ("agencies:\n  - since: 2026-13-45\n", "line 2: agencies[0].since: '2026-13-45' is not a valid timestamp"),
    ("blackouts:\n  2026-02-30: x\n", "line 2: blackouts.2026-02-30: '2026-02-30' is not a valid timestamp"),
    ("port: !!int twenty\n", "line 1: port: 'twenty' is not a valid int"),
])
def test_a_typed_value_that_cannot_be_built_names_its_path_and_line(tmp_path, text, expected):
    path = write(tmp_path, "typed.yaml", text)
    assert refusal(path).startswith(f"{path}: {expected}")
