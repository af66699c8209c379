"""Notifications: the digest queue in the store (:mod:`.digest_queue`), the senders — email, webhook,
syslog — (:mod:`.send`) and the texts in each contact's language (:mod:`.text`).
"""

from findings.notify.digest_queue import ALWAYS, Channels, Reader, deliver, digest, digests, pending

__all__ = ["ALWAYS", "Channels", "Reader", "deliver", "digest", "digests", "pending"]
