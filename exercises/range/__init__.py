"""The range: a simulated city network of Linux namespaces (see docs/range.md)."""

from .range import Host, Range
from .spec import RangeSpec, load_spec

__all__ = ["Host", "Range", "RangeSpec", "load_spec"]
