"""citysec exercises."""
