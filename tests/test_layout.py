"""The layout is the architecture: checks anyone can run.

- the import graph between our packages is the DAG of the README's "Where things are" table, read from the
  source (every import, also those inside functions) and from a fresh interpreter per package (what importing a
  package really loads);
- no module reaches into another object's private members (``obj._name`` where obj is not self/cls);
- the README's table names every top-level folder, and only those.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# package → the packages of ours it may import (dependency order: each line only names lines above it).
LAYERS: dict[str, set[str]] = {
    "findings": set(),
    "scanners": {"findings"},
    "collectors": {"findings"},
    "reports": {"findings"},
    "config": {"findings"},
    "playbooks": {"findings", "collectors", "reports"},
    "exercises": {"findings", "collectors", "playbooks", "reports"},
    "citysec": {"findings", "scanners", "collectors", "reports", "config", "playbooks", "exercises"},
}
OURS = set(LAYERS)

# Attribute names that start with "_" and are public API all the same (each with its reason).
PUBLIC_UNDERSCORE = {
    "_exit": "os._exit: the documented way to end a forked or orphaned process at once",
    "_replace": "namedtuple._replace: public API of collections.namedtuple",
    "_asdict": "namedtuple._asdict: public API of collections.namedtuple",
    "_fields": "namedtuple._fields: public API of collections.namedtuple",
    "_make": "namedtuple._make: public API of collections.namedtuple",
}
# (file, "expr._name") reaching into a private member on purpose; each with its reason. Keep it empty.
ALLOWED_REACH_INS: dict[tuple[str, str], str] = {}


def modules(package: str) -> list[Path]:
    return sorted(p for p in (ROOT / package).rglob("*.py") if "__pycache__" not in p.parts)


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def imported(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module) of every import in the file, relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            out.append((node.lineno, name))
    return out


@pytest.mark.parametrize("package", sorted(LAYERS))
def test_imports_follow_the_layers(package):
    wrong = []
    for path in modules(package):
        for line, name in imported(path):
            top = name.split(".")[0]
            if top in OURS and top != package and top not in LAYERS[package]:
                wrong.append(f"{path.relative_to(ROOT)}:{line}: imports {name}")
    assert not wrong, f"{package} may import only {sorted(LAYERS[package]) or 'nothing of ours'}:\n" + "\n".join(wrong)


def test_layers_are_in_dependency_order():
    seen: set[str] = set()
    for package, allowed in LAYERS.items():
        assert allowed <= seen, f"{package} depends on a package listed after it: {sorted(allowed - seen)}"
        seen.add(package)


PROBE = """
import importlib, json, sys
pkg = sys.argv[1]
for name in json.loads(sys.argv[2]):
    importlib.import_module(name)
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules})))
"""


@pytest.mark.parametrize("package", sorted(LAYERS))
def test_each_package_imports_alone(package):
    """A fresh interpreter imports every module of the package; nothing of a higher layer comes along."""
    names = [module_name(p) for p in modules(package)]
    res = subprocess.run([sys.executable, "-c", PROBE, package, json.dumps(names)], cwd=ROOT, check=False,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    loaded = set(json.loads(res.stdout)) & OURS
    assert loaded - {package} <= LAYERS[package], (
        f"importing {package} loaded {sorted(loaded - {package} - LAYERS[package])}")


def reach_ins(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    rel = str(path.relative_to(ROOT))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        attr = node.attr
        if not attr.startswith("_") or attr.startswith("__") or attr in PUBLIC_UNDERSCORE:
            continue
        if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
            continue
        expr = f"{ast.unparse(node.value)}.{attr}"
        if (rel, expr) not in ALLOWED_REACH_INS:
            found.append(f"{rel}:{node.lineno}: {expr}")
    return found


def test_no_module_reaches_into_private_members():
    found = [hit for package in LAYERS for path in modules(package) for hit in reach_ins(path)]
    assert not found, "private members used from outside their object:\n" + "\n".join(found)


def test_the_reach_in_check_sees_a_reach_in(tmp_path):
    """The check above can fail: a module that reads another object's _private member is caught."""
    probe = ROOT / "findings" / "_layout_probe_tmp.py"
    probe.write_text("def f(store, self):\n    return store._conn, self._ok, os._exit\n", encoding="utf-8")
    try:
        assert reach_ins(probe) == ["findings/_layout_probe_tmp.py:2: store._conn"]
    finally:
        probe.unlink()


def readme_table() -> dict[str, str]:
    """The README's "Where things are" table: folder → the packages it may import (as written)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Where things are", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        m = re.match(r"\|\s*`([\w.-]+)/`\s*\|[^|]*\|([^|]*)\|", line)
        if m:
            rows[m.group(1)] = m.group(2).strip()
    return rows


def test_readme_table_matches_the_folders():
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    folders = {line.split("/", 1)[0] for line in tracked.splitlines() if "/" in line and not line.startswith(".")}
    rows = readme_table()
    assert set(rows) == folders, (f"README lists {sorted(set(rows) - folders)} that are not folders, "
                                  f"misses {sorted(folders - set(rows))}")
    for package, allowed in LAYERS.items():
        written = set(re.findall(r"`(\w+)`", rows[package]))
        if rows[package].startswith("everything"):  # the composition root
            written = OURS - {package}
        assert written == allowed, f"README says {package} may import {sorted(written)}; the layers say {sorted(allowed)}"

