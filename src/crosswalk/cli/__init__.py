"""The ``crosswalk`` command line.

Each part of the system contributes its commands from a module in this package; every
command is a thin shell over the library function of the same name. Errors are turned
into messages and exit codes here, at the edge, and nowhere else.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import typer
from rich.console import Console
from rich.text import Text

from crosswalk.errors import CrosswalkError

app = typer.Typer(
    name="crosswalk",
    help="Interagency data-sharing hub for state health and human services.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# One module per part of the system in this package; each defines ``register(app)``.
for _module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    importlib.import_module(f"{__name__}.{_module.name}").register(app)

err_console = Console(stderr=True)

EXIT_INPUT = 2
EXIT_DENIED = 3
EXIT_UNAVAILABLE = 4


def exit_code(error: CrosswalkError) -> int:
    if error.status == 403:
        return EXIT_DENIED
    if error.status >= 500:
        return EXIT_UNAVAILABLE
    return EXIT_INPUT


def run(argv: list[str] | None = None) -> int:
    """Run the app and map Crosswalk errors to a message and an exit code."""
    try:
        app(args=argv, prog_name="crosswalk")
    except CrosswalkError as error:
        err_console.print(Text("Error: ", style="bold red") + Text(str(error)))
        return exit_code(error)
    except SystemExit as done:
        code = done.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    return 0


def main() -> None:
    """Console-script entry point."""
    sys.exit(run())
