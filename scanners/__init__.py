"""citysec scanners: host discovery, the service scan, the exposure policy judge and run-to-run diff.

Gathering (``discovery.sweep``, ``nmaprun.run_nmap``) is apart from judging (``discovery.judge``,
``policy.judge``, ``services.judge_run``): the judges are pure functions of the gathered state.
Everything takes plain values (``targets``); the city config is turned into them in citysec/jobs/scan.py.
See docs/scanners.md.
"""

from .catalogue import ExposureCatalogue, ServiceEntry
from .policy import Decision, PortObservation, judge
from .scope import ScopeGuard, Target
from .targets import AgencyTargets, Net, RegisteredHost, Rule, ScanPolicy

__all__ = ["AgencyTargets", "Decision", "ExposureCatalogue", "Net", "PortObservation", "RegisteredHost",
           "Rule", "ScanPolicy", "ScopeGuard", "ServiceEntry", "Target", "judge"]
