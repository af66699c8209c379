"""citysec collectors: what the hosts say about their antivirus, backups and logs.

- :mod:`.ssh`, :mod:`.hostkeys`, :mod:`.engine` — the transport (strict host keys, keys only,
  timeouts, capped output) and the fan-out (one connection per host per cycle);
- :mod:`.script` — one sectioned shell script per host and cycle;
- :mod:`.antivirus`, :mod:`.windows`, :mod:`.console` — antivirus state and its judges;
- :mod:`.backup` — backup state per information system and its judges;
- :mod:`.cursor`, :mod:`.logparse`, :mod:`.detections`, :mod:`.logevents` — incremental log
  reading, parsing to events, detections to alerts;
- :mod:`.syslog` — the syslog receiver;
- :mod:`.outcomes` — host results to findings, coverage per agency;
- :mod:`.tasks`, :mod:`.state`, :mod:`.catalogue` — the cycle's tasks, the collectors' own tables,
  the check catalogue (``checks.yaml``).
"""

__all__ = ["antivirus", "backup", "catalogue", "console", "cursor", "detections", "engine", "hostkeys",
           "logevents", "logparse", "outcomes", "script", "ssh", "state", "syslog", "tasks", "windows"]
