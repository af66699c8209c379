"""citysec reports."""
