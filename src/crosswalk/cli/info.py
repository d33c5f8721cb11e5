"""Commands about Crosswalk itself: version and settings."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from crosswalk import __version__, redact, settings


def version() -> None:
    """Print the Crosswalk version."""
    Console().print(f"crosswalk {__version__}")


def show_settings() -> None:
    """List every setting with its environment variable, current value and help (a
    password, token or key in a value shown as ***).

    Example: crosswalk settings
    """
    table = Table("setting", "environment variable", "value", "help")
    for s in settings.SETTINGS:
        # A value may carry a credential (a database URL's password, a Spark secret key):
        # the list is what an operator pastes into a ticket, so it shows none.
        table.add_row(s.name, s.env, redact.credentials(s.value()), s.help)
    Console().print(table)


def register(app: typer.Typer) -> None:
    app.command("version")(version)
    app.command("settings")(show_settings)
