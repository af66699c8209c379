"""The one YAML loader of citysec: bounded, strict, and remembering where each value was.

Every YAML file citysec reads (the city configuration and its includes, playbooks, scenarios,
range specs, the exposure and check catalogues, profiles, template labels) goes through here,
so every limit and every error text is the same everywhere:

- the file is read as bytes up to a size limit, then decoded as strict UTF-8 (a UTF-8 byte-order
  mark is dropped); UTF-16/32, binary and Latin-1 files are a clear error naming the file and line;
- the document is composed into nodes, then measured before anything expands it: more than
  ``MAX_NODES`` values after alias expansion (a "billion laughs"), nesting deeper than
  ``MAX_DEPTH``, or an alias inside its own anchor is an error;
- a key given twice in one mapping is an error (a silent overwrite hides mistakes);
- the data has ``yaml.safe_load`` semantics (plain dicts, lists, scalars) and comes with a mapping
  from a path tuple such as ``("agencies", 2, "networks", 0, "cidr")`` to ``(file, line)``.

Includes (``include: [other.yaml]`` at the top level of the city configuration) are merged, each
value keeping its own file. Unknown keys are rejected by each reader's schema (pydantic
``extra="forbid"``); :mod:`.yamlerrors` turns those errors into the same one-line form.
"""

from __future__ import annotations

import codecs
import hashlib
import os
from dataclasses import dataclass
from typing import Any

import yaml

from findings.errors import ConfigError

Positions = dict[tuple, tuple[str, int]]

MAX_BYTES = 16 * 1024 * 1024      # one file; the city file of Hải Phòng is ~60 KB
MAX_NODES = 1_000_000             # values after alias expansion, per document
MAX_DEPTH = 64                    # nesting of mappings and lists

# libyaml's parser when the machine has it (6x faster on the city file; same data and marks).
_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):
    """A safe loader (safe_load semantics); :func:`parse` checks the composed nodes before it
    constructs anything."""


@dataclass(frozen=True)
class Document:
    """One YAML file as read: its data, the position of every value, and its exact bytes."""
    path: str
    data: Any
    positions: Positions
    raw: bytes

    @property
    def text(self) -> str:
        return decode(self.raw, self.path)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.raw).hexdigest()


def read_bytes(path: str, max_bytes: int = MAX_BYTES) -> bytes:
    """A file's bytes, refusing one larger than ``max_bytes`` (before reading it whole)."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read(max_bytes + 1)
    except IsADirectoryError:
        raise ConfigError(f"{path}: line 1: is a folder, not a YAML file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc
    if len(raw) > max_bytes:
        raise ConfigError(f"{path}: line 1: the file is larger than {max_bytes} bytes (the limit for a YAML file)")
    return raw


_BOMS = ((codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"),
         (codecs.BOM_UTF16_LE, "UTF-16"), (codecs.BOM_UTF16_BE, "UTF-16"))


def decode(raw: bytes, path: str) -> str:
    """Strict UTF-8 (a UTF-8 byte-order mark is dropped); anything else is a ConfigError."""
    hint = "; save it as UTF-8 text"
    for bom, name in _BOMS:
        if raw.startswith(bom):
            raise ConfigError(f"{path}: line 1: the file is {name} text, not UTF-8{hint}")
    raw = raw.removeprefix(codecs.BOM_UTF8)
    nul = raw.find(b"\0")
    if nul >= 0:
        line = raw[:nul].count(b"\n") + 1
        raise ConfigError(f"{path}: line {line}: the file holds a NUL byte: binary data or UTF-16 text,"
                          f" not YAML{hint}")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ConfigError(f"{path}: line {line}, column {column}: byte 0x{raw[exc.start]:02x} is not UTF-8"
                          f" (Latin-1 or Windows-1258 text?){hint}") from None


def parse(text: str, path: str, *, max_nodes: int = MAX_NODES) -> tuple[Any, Positions]:
    """YAML text → (data, positions), bounded and strict. Raises ConfigError."""
    loader = _Loader(text)
    loader.name = path
    try:
        try:
            node = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "line 1"
            raise ConfigError(f"{path}: {line}: invalid YAML: {exc.problem or exc.context}") from None
        except yaml.reader.ReaderError as exc:   # a character YAML does not allow
            line = text[:exc.position].count("\n") + 1
            code = exc.character if isinstance(exc.character, int) else ord(exc.character)
            raise ConfigError(f"{path}: line {line}: invalid YAML: character U+{code:04X} is not allowed"
                              f" ({exc.reason})") from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: line 1: invalid YAML: {exc}".replace("\n", " ")) from None
        if node is None:
            return None, {}
        _Measure(path, max_nodes).size(node, None, 0)
        positions: Positions = {}
        _walk(node, (), path, positions)
        try:
            data = loader.construct_document(node)
        except yaml.MarkedYAMLError as exc:     # e.g. an unknown tag or an unhashable key
            mark = exc.problem_mark
            line = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "line 1"
            raise ConfigError(f"{path}: {line}: invalid YAML: {exc.problem}") from None
    finally:
        loader.dispose()
    return data, positions


class _Measure:
    """Counts the values a node tree holds once every alias is expanded, without expanding any
    (shared nodes are measured once); refuses a bomb, deep nesting and an alias to itself. The
    YAML path is kept as a chain (parent, key node or index) and spelt out only for an error."""

    def __init__(self, path: str, max_nodes: int):
        self.path, self.max_nodes = path, max_nodes
        self.memo: dict[int, int] = {}
        self.open: set[int] = set()

    def fail(self, node: yaml.Node, chain: tuple | None, msg: str) -> None:
        loc: list = []
        while chain is not None:
            chain, step = chain
            loc.append(step if isinstance(step, int) else _key(step))
        raise ConfigError(f"{self.path}: line {node.start_mark.line + 1}: {dotted(tuple(reversed(loc)))}: {msg}")

    def size(self, node: yaml.Node, chain: tuple | None, depth: int) -> int:
        key = id(node)
        if key in self.memo:
            return self.memo[key]
        if key in self.open:
            self.fail(node, chain, "an alias refers to a value that contains it (a recursive structure)")
        if depth > MAX_DEPTH:
            self.fail(node, chain, f"nested more than {MAX_DEPTH} levels deep")
        total = 1
        if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
            self.open.add(key)
            pairs = (enumerate(node.value) if isinstance(node, yaml.SequenceNode)
                     else ((k, v) for k, v in node.value))
            for step, child in pairs:
                if isinstance(step, yaml.Node):
                    total += self.size(step, chain, depth + 1)      # a key: counted, rarely large
                total += self.size(child, (chain, step), depth + 1)
                if total > self.max_nodes:
                    self.fail(node, chain, f"more than {self.max_nodes} values once its aliases are expanded"
                                           " (an alias bomb?); write the values out or use fewer aliases")
            self.open.discard(key)
        self.memo[key] = total
        return total


def _walk(node: yaml.Node, path: tuple, fname: str, out: Positions) -> None:
    out.setdefault(path, (fname, node.start_mark.line + 1))   # a mapping value: its key's line
    if isinstance(node, yaml.ScalarNode):
        _check_scalar(node, path, fname)
    elif isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode):
                _check_scalar(k, path + (k.value,), fname)
            key = _key(k)
            line = k.start_mark.line + 1
            if key in seen and key != "<<":
                raise ConfigError(f"{fname}: line {line}: {dotted(path + (key,))}: key {key!r} appears twice"
                                  f" (first at line {seen[key]})")
            seen.setdefault(key, line)
            out[path + (key,)] = (fname, line)
            _walk(v, path + (key,), fname, out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, path + (i,), fname, out)


def _check_scalar(node: yaml.ScalarNode, path: tuple, fname: str) -> None:
    """A typed scalar that cannot be built (``2026-13-45``, ``!!int x``) is an error with its line,
    not a ValueError from deep inside the constructor."""
    if node.tag == "tag:yaml.org,2002:str":
        return
    construct = yaml.SafeLoader.yaml_constructors.get(node.tag)
    if construct is None:
        return                  # an unknown tag: the constructor names it with its line
    try:
        construct(_Scalars, node)
    except (ValueError, TypeError, AttributeError, OverflowError, yaml.YAMLError) as exc:
        kind = node.tag.rsplit(":", 1)[-1]
        raise ConfigError(f"{fname}: line {node.start_mark.line + 1}: {dotted(path)}: {node.value!r} is not a valid"
                          f" {kind} ({exc}); quote it to keep it as text") from None


_Scalars = yaml.SafeLoader("")     # constructs scalar keys whose tag the composer resolved


def _key(node: yaml.Node) -> Any:
    """A mapping key as the data holds it (``yes`` is True, ``1`` is 1 in YAML 1.1)."""
    if isinstance(node, yaml.ScalarNode):
        construct = yaml.SafeLoader.yaml_constructors.get(node.tag)
        try:
            return construct(_Scalars, node) if construct else node.value
        except (yaml.YAMLError, ValueError, TypeError):
            return node.value
    return f"<{node.id} key>"


def load_document(path: str, *, max_bytes: int = MAX_BYTES) -> Document:
    """One YAML file (no includes) with its data, positions and bytes. Raises ConfigError."""
    raw = read_bytes(path, max_bytes)
    data, positions = parse(decode(raw, path), path)
    return Document(path, data, positions, raw)


def load_one(path: str) -> tuple[Any, Positions]:
    doc = load_document(path)
    return doc.data, doc.positions


def load_text(text: str, name: str) -> Any:
    """YAML text that is not a file of its own (a stored scenario): the data, same limits."""
    return parse(text, name)[0]


def load_with_positions(path: str, _stack: tuple[str, ...] = ()) -> tuple[dict, Positions]:
    """Load a city configuration file and its includes.

    ``include: [a.yaml, b.yaml]`` (or one name) at the top level of any file merges those files,
    relative to the including file: mappings merge key by key, lists are concatenated (the
    including file's items first), and a scalar set in two files is an error. Every value keeps
    the file and line it came from.
    """
    real = os.path.realpath(path)
    if real in _stack:
        raise ConfigError(f"{path}: line 1: include cycle: {' -> '.join(_stack + (real,))}")
    data, pos = load_one(path)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: line 1: the top level must be a mapping")
    includes = data.pop("include", []) or []
    if isinstance(includes, str):
        includes = [includes]
    if not isinstance(includes, list):
        f, line = pos.get(("include",), (path, 1))
        raise ConfigError(f"{f}: line {line}: include: give a file name or a list of file names")
    base = os.path.dirname(os.path.abspath(path))
    for i, inc in enumerate(includes):
        f, line = pos.get(("include", i), pos.get(("include",), (path, 1)))
        if not isinstance(inc, str):
            raise ConfigError(f"{f}: line {line}: include[{i}]: give a file name")
        inc_path = inc if os.path.isabs(inc) else os.path.join(base, inc)
        if not os.path.exists(inc_path):
            raise ConfigError(f"{f}: line {line}: include[{i}]: {inc}: no such file")
        sub, sub_pos = load_with_positions(inc_path, _stack + (real,))
        conflicts: list[str] = []
        _merge(data, sub, (), pos, sub_pos, conflicts)
        if conflicts:
            raise ConfigError(conflicts)
    return data, pos


def _merge(dst: dict, src: dict, path: tuple, pos: Positions, src_pos: Positions,
           conflicts: list[str]) -> None:
    """Merge ``src`` (an included file's mapping at ``path``) into ``dst``, positions too."""
    for key, value in src.items():
        here = path + (key,)
        if key not in dst:
            dst[key] = value
            _copy_positions(pos, src_pos, here, here)
        elif isinstance(dst[key], dict) and isinstance(value, dict):
            _merge(dst[key], value, here, pos, src_pos, conflicts)
        elif isinstance(dst[key], list) and isinstance(value, list):
            offset = len(dst[key])
            dst[key] = dst[key] + value
            for i in range(len(value)):
                _copy_positions(pos, src_pos, here + (i,), here + (i + offset,))
        elif dst[key] != value:
            f1, l1 = pos.get(here, ("?", 0))
            f2, l2 = src_pos.get(here, ("?", 0))
            conflicts.append(f"{f2}: line {l2}: {dotted(here)}: also set in {f1} line {l1};"
                             " set it in one file only")


def _copy_positions(pos: Positions, src_pos: Positions, old: tuple, new: tuple) -> None:
    n = len(old)
    for p, w in src_pos.items():
        if p[:n] == old:
            pos[new + p[n:]] = w


def where(positions: Positions, loc: tuple, default_file: str) -> tuple[str, int]:
    """The file and line of the deepest known prefix of a YAML path."""
    loc = tuple(loc)
    while loc:
        if loc in positions:
            return positions[loc]
        loc = loc[:-1]
    return positions.get((), (default_file, 1))


def dotted(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def problem(positions: Positions, path: str, loc: tuple, msg: str) -> str:
    """One error line: ``file: line N: yaml.path: message``."""
    f, line = where(positions, loc, path)
    return f"{f}: line {line}: {dotted(loc)}: {msg}"
