"""The automated actions a playbook step may run (the registry is code, never YAML)."""

from .base import Action, ActionContext, ActionError, ParamError, Transport
from .command import COMMANDS, RUN_COMMAND
from .evidence import COLLECT
from .hostops import AV_SCAN, RESTORE_CHECK, SNAPSHOT
from .listener import STOP_LISTENER
from .network import BLOCK, ISOLATE, RELEASE
from .notify import EMAIL, WEBHOOK
from .report import REPORT

ACTIONS: dict[str, Action] = {a.name: a for a in (RUN_COMMAND, ISOLATE, RELEASE, BLOCK, COLLECT, AV_SCAN,
                                                  SNAPSHOT, RESTORE_CHECK, EMAIL, WEBHOOK, REPORT,
                                                  STOP_LISTENER)}

__all__ = ["ACTIONS", "COMMANDS", "Action", "ActionContext", "ActionError", "ParamError", "Transport"]
