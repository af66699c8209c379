"""citysec playbooks."""
