"""``python -m crosswalk``: the same as the ``crosswalk`` command."""

from crosswalk.cli import main

main()
