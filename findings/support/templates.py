"""The one way citysec makes a Jinja2 environment (reports, incident reports, notification digests).

Sandboxed (templates see data from the network: host names, banners, log lines), StrictUndefined
(a missing value is an error, never an empty cell), blocks trimmed. Autoescaped unless the caller
renders plain text (``autoescape=False``) or chooses per template name (a ``select_autoescape``).
"""

from __future__ import annotations

from collections.abc import Callable

from jinja2 import BaseLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment


def environment(loader: BaseLoader, *, autoescape: bool | Callable[[str | None], bool] = True
                ) -> SandboxedEnvironment:
    return SandboxedEnvironment(loader=loader, undefined=StrictUndefined, autoescape=autoescape,
                                trim_blocks=True, lstrip_blocks=True)
