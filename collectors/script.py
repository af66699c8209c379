"""One POSIX shell script per host and cycle, its output cut into named sections.

Each collector contributes sections (a name and a shell snippet). The script prints a marker
line with a random nonce before each section and the snippet's exit status after it, so the
host's output cannot forge a section boundary. A single channel runs the whole script.
"""

from __future__ import annotations

import re
import secrets
import shlex
from dataclasses import dataclass

SAFE_NAME = re.compile(r"^[A-Za-z0-9_.:/@+-]{1,200}$")


@dataclass(frozen=True)
class Section:
    name: str
    rc: int | None
    data: bytes

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", "replace")


def q(value: str) -> str:
    return shlex.quote(value)


def build(sections: list[tuple[str, str]], nonce: str | None = None) -> tuple[str, str]:
    """The script text and its nonce. Section names are ours (checked), snippets shell code."""
    nonce = nonce or "@@citysec-" + secrets.token_hex(8)
    lines = ["export LC_ALL=C PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
    for name, snippet in sections:
        if not SAFE_NAME.match(name):
            raise ValueError(f"bad section name {name!r}")
        lines.append(f"printf '\\n%s %s\\n' {nonce} {q(name)}")
        lines.append(f"( {snippet}\n) 2>&1; printf '\\n%s rc %s\\n' {nonce} $?")
    lines.append(f"printf '\\n%s end\\n' {nonce}")
    return "\n".join(lines) + "\n", nonce


def parse(output: bytes, nonce: str) -> dict[str, Section]:
    """Sections by name. A section whose status line is missing (output cut) has rc None."""
    marker = b"\n" + nonce.encode() + b" "
    parts = output.split(marker)
    out: dict[str, Section] = {}
    current: str | None = None
    buf = b""
    for part in parts[1:]:
        head, _, rest = part.partition(b"\n")
        head_s = head.decode("ascii", "replace")
        if head_s.startswith("rc ") and current is not None:
            rc = int(head_s[3:]) if head_s[3:].isdigit() else None
            out[current] = Section(current, rc, buf)
            current = None
        elif head_s == "end":
            break
        else:
            if current is not None:
                out[current] = Section(current, None, buf)
            current, buf = head_s, rest
    if current is not None:
        out[current] = Section(current, None, buf)
    return out
