"""The range: a simulated city network of Linux namespaces (see docs/range.md).

The public API: ``Range`` (lifecycle, lookups, paths and guarded files inside a host, recorded
state, the inject primitives), ``Host`` (a running host), ``Rogue`` (a recorded rogue device),
the description (``load_spec``, ``RangeSpec``, ``HostSpec``, ``ServiceSpec``, ``AntivirusSpec``,
``BackupSpec``, ``SERVICES``, ``RANGE_BLOCK``) and ``EICAR`` (the test file's content).
Everything else in the package's modules is internal to the range.
"""

from .hosts import Host
from .range import Range
from .record import Rogue
from .spec import (
    RANGE_BLOCK,
    SERVICES,
    AntivirusSpec,
    BackupSpec,
    HostSpec,
    RangeSpec,
    ServiceSpec,
    load_spec,
)
from .state import EICAR

__all__ = ["EICAR", "RANGE_BLOCK", "SERVICES", "AntivirusSpec", "BackupSpec", "Host", "HostSpec", "Range",
           "RangeSpec", "Rogue", "ServiceSpec", "load_spec"]
