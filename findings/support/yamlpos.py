"""Strict YAML loading that remembers where each value was: file and line of every YAML path.

Shared by every YAML citysec reads (the city configuration, playbooks, ranges, catalogues), so it
lives in findings/, which every package may import.

``load_with_positions`` returns the data (plain dicts, lists, scalars; ``yaml.safe_load``
semantics) and a mapping from a path tuple such as ``("agencies", 2, "networks", 0, "cidr")``
to ``(file, line)``. Includes (``include: [other.yaml]`` at the top level) are merged, each
value keeping its own file.
"""

from __future__ import annotations

import os
from typing import Any

import yaml

from findings.errors import ConfigError

Positions = dict[tuple, tuple[str, int]]


# libyaml's parser when the machine has it (6x faster on the city file; same data and marks).
_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):
    """A safe loader (safe_load semantics) that rejects duplicate keys (a silent overwrite hides
    mistakes)."""


def _construct_mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise ConfigError(f"{loader.name}: line {key_node.start_mark.line + 1}: key {key!r} appears twice"
                              f" (first at line {seen[key]})")
        seen[key] = key_node.start_mark.line + 1
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _walk(node: yaml.Node, path: tuple, fname: str, out: Positions) -> None:
    out.setdefault(path, (fname, node.start_mark.line + 1))   # a mapping value: its key's line
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            key = _key(k)
            out[path + (key,)] = (fname, k.start_mark.line + 1)
            _walk(v, path + (key,), fname, out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, path + (i,), fname, out)


def _key(node: yaml.Node) -> Any:
    """A mapping key as the data holds it (``yes`` is True, ``1`` is 1 in YAML 1.1)."""
    if isinstance(node, yaml.ScalarNode) and not node.tag.endswith(":str"):
        try:
            return yaml.safe_load(node.value)
        except yaml.YAMLError:
            return node.value
    return node.value if isinstance(node, yaml.ScalarNode) else f"<{node.id} key>"


def load_one(path: str) -> tuple[Any, Positions]:
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc
    try:
        loader = _Loader(text)
        loader.name = path
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "?"
        raise ConfigError(f"{path}: {line}: invalid YAML: {exc.problem}") from exc
    positions: Positions = {}
    if node is not None:
        _walk(node, (), path, positions)
    return data, positions


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
