"""python -m citysec.cli: the citysec command."""

from citysec.cli import main

main()
