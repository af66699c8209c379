"""citysec exercises/range."""
