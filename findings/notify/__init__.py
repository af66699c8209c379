"""Notifications: the digest queue in the store (:mod:`.digest_queue`), the senders — email, webhook,
syslog — (:mod:`.send`) and the texts in each contact's language (:mod:`.text`).

The queue's names are loaded on first use, so importing :mod:`.send` alone stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["ALWAYS", "Channels", "Reader", "deliver", "digest", "digests", "pending"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("findings.notify.digest_queue"), name)
    raise AttributeError(f"module 'findings.notify' has no attribute {name!r}")
