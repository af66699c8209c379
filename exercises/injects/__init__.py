"""Technical injects of a drill: changes made on the range, each undone and the undoing verified.

One module per kind (its docstring is its user documentation): ``eicar``, ``service``,
``antivirus``, ``backup``, ``brute_force``, ``rogue_host``, ``deface``; ``base`` holds the contract
(``InjectKind``, the typed ``Params``) and ``scope`` the guard that refuses, before anything acts,
a target that is not a host or network of the range, or lies outside 198.18.0.0/15.

After a crash the runner may have lost the facts of an inject it was sending: ``applied``,
``cleanup`` and ``verify`` also work with ``facts == {}`` (they read the description and what the
inject keeps in the range's state folder), and ``apply`` again on an applied inject returns the
facts of the first time where they matter (deface: the original page; rogue_host: the device).

Files are written only below a host's own ``/var`` (the range refuses anything outside the
host's /var, /run, /dev and any symbolic link). Logs a drill produced (auth.log, clamav.log,
backup.log) are history: cleanup leaves them, as on a real network.
"""

from .antivirus import Antivirus, AntivirusParams
from .backup import Backup, BackupParams
from .base import InjectKind, Params
from .brute_force import BruteForce, BruteForceParams
from .deface import Deface, DefaceParams
from .eicar import Eicar, EicarParams
from .rogue_host import RogueHost, RogueHostParams
from .scope import scope_check
from .service import Service, ServiceParams

KINDS: dict[str, InjectKind] = {k.name: k for k in
                                (Eicar(), Service(), Antivirus(), Backup(), BruteForce(), RogueHost(), Deface())}

__all__ = ["KINDS", "Antivirus", "AntivirusParams", "Backup", "BackupParams", "BruteForce", "BruteForceParams",
           "Deface", "DefaceParams", "Eicar", "EicarParams", "InjectKind", "Params", "RogueHost", "RogueHostParams",
           "Service", "ServiceParams", "scope_check"]
