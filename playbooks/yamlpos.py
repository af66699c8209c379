"""Strict YAML with line positions for playbooks (the idea of config/yamlpos, which playbooks may
not import: the import graph lets playbooks use findings only, never config).

``load_one(path)`` returns the data (``yaml.safe_load`` semantics, duplicate keys rejected) and a
mapping from a YAML path tuple such as ``("phases", 1, "steps", 0, "action")`` to (file, line).
"""

from __future__ import annotations

from typing import Any

import yaml

from findings.errors import ConfigError

Positions = dict[tuple, tuple[str, int]]


class _Loader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate keys."""


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
            out[path + (k.value,)] = (fname, k.start_mark.line + 1)
            _walk(v, path + (k.value,), fname, out)
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
    f, line = where(positions, loc, path)
    return f"{f}: line {line}: {dotted(loc)}: {msg}"
