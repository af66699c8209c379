"""citysec scanners."""
