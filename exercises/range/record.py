"""What the range records about itself while it runs (``state.json`` in its state folder):
the PID 1 of each host, the moment it came up, the rogue devices added since."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Rogue:
    """An unregistered device ``Range.add_rogue`` plugged in (recorded until it is removed)."""
    name: str
    ip: str
    agency: str
    netns: str


class Record:
    """The range's ``state.json``: read fresh on every call (another process may have changed it),
    replaced atomically on every write."""

    def __init__(self, path: str):
        self.path = path

    def read(self) -> dict:
        """The whole record (empty when the range is down)."""
        try:
            with open(self.path) as fh:
                return json.load(fh)
        except FileNotFoundError:
            return {}

    def write(self, state: dict) -> None:
        tmp = self.path + ".tmp"
        with open(tmp, "w") as fh:
            json.dump(state, fh, indent=1)
        os.replace(tmp, self.path)

    def remove(self) -> None:
        if os.path.exists(self.path):
            os.remove(self.path)

    def pids(self) -> dict[str, int]:
        """Host name → its PID 1 (in the machine's PID namespace)."""
        return dict(self.read().get("pids", {}))

    def up_since(self) -> float | None:
        """The Unix time of the last ``up`` (ages in the description count from it)."""
        return self.read().get("up_since")

    def rogues(self) -> list[Rogue]:
        return [Rogue(r["name"], r["ip"], r["agency"], r["netns"]) for r in self.read().get("rogues", [])]

    def add_rogue(self, rogue: Rogue, pid: int) -> None:
        st = self.read()
        st.setdefault("pids", {})[rogue.name] = pid
        st.setdefault("rogues", []).append(asdict(rogue))
        self.write(st)

    def forget_rogue(self, name: str) -> None:
        st = self.read()
        if st:
            st["rogues"] = [r for r in st.get("rogues", []) if r["name"] != name]
            st.get("pids", {}).pop(name, None)
            self.write(st)
