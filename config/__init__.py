"""citysec config."""
