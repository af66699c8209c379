"""Who may see and do what: one function for objects, one for lists, one table for actions.

Every route that loads an object calls :func:`require` with the object's agency; every list is built
from :func:`scope` (the agencies the account may see). An object of another agency answers exactly
like a missing one (404), so ids cannot be probed.
"""

from __future__ import annotations

from citysec.web.accounts import Account


class NotFound(Exception):
    """404: missing, or not the account's (the two are not told apart)."""


class Forbidden(Exception):
    """403: the account sees the object but its role may not do this."""


# action → roles that may do it (on objects of agencies they see)
ACTIONS: dict[str, frozenset[str]] = {
    "triage": frozenset({"soc", "officer"}),            # false positive, accept (request), unaccept
    "approve_acceptance": frozenset({"soc"}),           # the second person of an accepted risk
    "case_step": frozenset({"soc", "officer"}),         # complete a manual step, add a note
    "case_field": frozenset({"soc", "officer"}),
    "drill_control": frozenset({"controller", "soc"}),  # pause, resume, abort
    "drill_rate": frozenset({"evaluator"}),
    "reports": frozenset({"soc", "officer", "viewer", "controller", "evaluator"}),
}

# a playbook's approval role → the console roles that may decide it
PLAYBOOK_ROLES: dict[str, frozenset[str]] = {
    "soc": frozenset({"soc"}),
    "incident_lead": frozenset({"soc"}),
    "agency_it": frozenset({"officer", "soc"}),
}


def scope(account: Account, known: list[str]) -> list[str]:
    """The agencies whose objects the account may see (in the configuration's order)."""
    if account.city_wide:
        return list(known)
    return [a for a in known if a in account.agencies]


def may_see(account: Account, agency: str | None) -> bool:
    if account.city_wide:
        return True
    return agency is not None and agency in account.agencies


def require(account: Account, agency: str | None) -> None:
    if not may_see(account, agency):
        raise NotFound()


def may(account: Account, action: str) -> bool:
    return account.role in ACTIONS[action]


def require_action(account: Account, action: str) -> None:
    if not may(account, action):
        raise Forbidden()


def playbook_role_for(account: Account, step_role: str | None) -> str | None:
    """The playbook role the account decides an approval step as, or None if it may not."""
    if step_role and account.role in PLAYBOOK_ROLES.get(step_role, frozenset()):
        return step_role
    return None
