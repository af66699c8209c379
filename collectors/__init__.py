"""citysec collectors."""
