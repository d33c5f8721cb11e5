"""Commands about Crosswalk itself: version and settings."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from crosswalk import __version__, settings


def version() -> None:
    """Print the Crosswalk version."""
    Console().print(f"crosswalk {__version__}")


def show_settings() -> None:
    """List every setting with its environment variable, current value and help.

    Example: crosswalk settings
    """
    table = Table("setting", "environment variable", "value", "help")
    for s in settings.SETTINGS:
        table.add_row(s.name, s.env, s.value(), s.help)
    Console().print(table)


def register(app: typer.Typer) -> None:
    app.command("version")(version)
    app.command("settings")(show_settings)
