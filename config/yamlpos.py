"""Strict YAML loading that remembers where each value was: file and line of every YAML path.

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


class _Loader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate keys (a silent overwrite hides mistakes)."""


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
    out[path] = (fname, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            key = k.value
            out[path + (key,)] = (fname, k.start_mark.line + 1)
            _walk(v, path + (key,), fname, out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, path + (i,), fname, out)


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


def load_with_positions(path: str) -> tuple[dict, Positions]:
    """Load a city configuration file and its includes."""
    data, pos = load_one(path)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: line 1: the top level must be a mapping")
    includes = data.pop("include", []) or []
    if isinstance(includes, str):
        includes = [includes]
    base = os.path.dirname(os.path.abspath(path))
    for i, inc in enumerate(includes):
        inc_path = inc if os.path.isabs(inc) else os.path.join(base, inc)
        if not os.path.exists(inc_path):
            f, line = pos.get(("include", i), pos.get(("include",), (path, 1)))
            raise ConfigError(f"{f}: line {line}: include: {inc}: no such file")
        sub, sub_pos = load_with_positions(inc_path)
        for key, value in sub.items():
            if key in data and isinstance(data[key], list) and isinstance(value, list):
                offset = len(data[key])
                data[key] = data[key] + value
                for p, where in sub_pos.items():
                    if p[:1] == (key,) and len(p) > 1 and isinstance(p[1], int):
                        pos[(key, p[1] + offset) + p[2:]] = where
            elif key in data and isinstance(data[key], dict) and isinstance(value, dict):
                data[key] = {**value, **data[key]}
                for p, where in sub_pos.items():
                    if p[:1] == (key,) and p not in pos:
                        pos[p] = where
            elif key not in data:
                data[key] = value
                pos.update({p: w for p, w in sub_pos.items() if p[:1] == (key,)})
    return data, pos


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
