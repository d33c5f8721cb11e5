"""The ``crosswalk`` command line.

Each part of the system contributes its commands from a module in this package; every
command is a thin shell over the library function of the same name. Errors are turned
into messages and exit codes here, at the edge, and nowhere else.

Start-up stays fast because a command's module (and so Splink, DuckDB, Altair...) is
imported only when that command runs: ``COMMANDS`` names each top-level command, the
module that registers it and the one line ``crosswalk --help`` shows for it (a test
checks the line against the command's own help, and that every registered command is
listed here).
"""

from __future__ import annotations

import importlib
import pkgutil
import signal
import sys
import threading
from typing import Any

import typer
from rich.console import Console
from rich.text import Text
from typer.core import TyperCommand, TyperGroup

from crosswalk.errors import CrosswalkError

# name -> (module in this package defining ``register(app)``, summary), in the order a
# steward meets them.
COMMANDS: dict[str, tuple[str, str]] = {
    "synth": (
        "synth",
        "Generate a synthetic state: people, 13 agencies' extracts and the ground truth.",
    ),
    "ingest": (
        "ingest",
        "Load one batch of an agency's extract files, atomically and idempotently.",
    ),
    "ingest-state": (
        "ingest",
        "Load all 13 agencies of a synthetic state with the shipped mappings.",
    ),
    "batches": (
        "ingest",
        "List your agency's batches with lineage and row counts (read = accepted + "
        "quarantined), through the gate (an agency's stewards, for operations).",
    ),
    "quarantine": (
        "ingest",
        "List quarantined rows with file, row, field, value and rule (an agency's stewards).",
    ),
    "link": (
        "identity",
        "Link every person record into enterprise persons and write the person index.",
    ),
    "review": ("identity", "Clerical review of uncertain pairs."),
    "history": (
        "identity",
        "The history of enterprise ids: merges, splits, retirements, and who was who on a date.",
    ),
    "export": ("identity", "Export the person index (audited)."),
    "export-warehouse": (
        "warehouse",
        "Write the hub's analytic tables to the Spark engine's Parquet warehouse (audited).",
    ),
    "person": (
        "access",
        "Show one person's records and services across agencies, as the agreement allows.",
    ),
    "family": (
        "access",
        "Show a person's household on a day and each member's services across agencies.",
    ),
    "analyze": (
        "analyze",
        "Cross-agency analytics: overlap, pathways, lifetime use, cohorts, trends.",
    ),
    "agreement": ("access", "The data-sharing agreement."),
    "consent": ("access", "The consent registry (42 CFR Part 2)."),
    "request": (
        "requests",
        "Data requests: ask for data, the stewards approve, a time-limited grant.",
    ),
    "audit": ("access", "The tamper-evident audit log."),
    "account": ("accounts", "Accounts: who may sign in, their agency and roles."),
    "token": ("accounts", "API tokens: shown once, kept as hashes, scoped, expiring."),
    "control": ("accounts", "The control plane's schema and keys (the host operator)."),
    "serve": ("serve", "Serve the REST API over the hub and the control plane."),
    "demo": (
        "demo",
        "Generate a synthetic state, ingest it, link it, ask the gate and analytic "
        "questions under the agreement, and report each step.",
    ),
    "version": ("info", "Print the Crosswalk version."),
    "settings": (
        "info",
        "List every setting with its environment variable, current value and help (a"
        " password, token or key in a value shown as ***).",
    ),
}


def load_commands(module: str) -> dict[str, Any]:
    """Import one command module and build its commands (click commands by name)."""
    part = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    importlib.import_module(f"{__name__}.{module}").register(part)
    return dict(typer.main.get_group(part).commands)


class _LazyGroup(TyperGroup):
    """The top-level group: lists ``COMMANDS`` and imports a command's module on use."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        # Placeholders for `crosswalk --help` and close-match suggestions of a typo.
        self.commands = {
            name: TyperCommand(name=name, short_help=summary, help=summary)
            for name, (_, summary) in COMMANDS.items()
        }
        self._loaded: dict[str, Any] = {}
        self._listing = False

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in COMMANDS:
            return None
        if self._listing:
            return self.commands[cmd_name]
        if cmd_name not in self._loaded:
            self._loaded.update(load_commands(COMMANDS[cmd_name][0]))
        return self._loaded.get(cmd_name)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


app = typer.Typer(
    name="crosswalk",
    help="Interagency data-sharing hub for state health and human services.",
    cls=_LazyGroup,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _crosswalk() -> None:
    """Interagency data-sharing hub for state health and human services."""


def full_app() -> typer.Typer:
    """Every command registered eagerly (for documentation checks and introspection)."""
    every = typer.Typer(name="crosswalk", add_completion=False, pretty_exceptions_enable=False)
    for found in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{found.name}")
        if hasattr(module, "register"):
            module.register(every)
    return every


err_console = Console(stderr=True)

EXIT_INPUT = 2
EXIT_DENIED = 3
EXIT_UNAVAILABLE = 4


def exit_code(error: CrosswalkError) -> int:
    if error.status in (401, 403):  # not signed in, or signed in and refused
        return EXIT_DENIED
    if error.status >= 500:
        return EXIT_UNAVAILABLE
    return EXIT_INPUT


EXIT_INTERRUPTED = 130  # as a shell reports a command stopped by Ctrl-C (128 + SIGINT)


def run(argv: list[str] | None = None) -> int:
    """Run the app and map Crosswalk errors to a message and an exit code."""
    interrupted = False
    previous = signal.getsignal(signal.SIGINT)

    def on_interrupt(signum: int, frame: object) -> None:
        # DuckDB stops a query on Ctrl-C and raises its own error in place of this one:
        # the flag, not that error's text, says the user stopped the command.
        nonlocal interrupted
        interrupted = True
        raise KeyboardInterrupt

    in_main = threading.current_thread() is threading.main_thread()
    if in_main:
        signal.signal(signal.SIGINT, on_interrupt)
    try:
        app(args=argv, prog_name="crosswalk")
    except KeyboardInterrupt:
        interrupted = True
    except CrosswalkError as error:
        if not interrupted:
            return _report(error)
    except SystemExit as done:  # Click ends an interrupted command so too
        if not interrupted:
            code = done.code
            return code if isinstance(code, int) else (0 if code is None else 1)
    except Exception:
        if not interrupted:
            raise
    finally:
        if in_main:
            signal.signal(signal.SIGINT, previous)
    if not interrupted:
        return 0
    err_console.print(
        Text("Interrupted: ", style="bold red")
        + Text(
            "the command was stopped (Ctrl-C) before it finished; a batch it was loading"
            " is rolled back, as after any failure, so nothing of it is stored"
        ),
        soft_wrap=True,
    )
    return EXIT_INTERRUPTED


def _report(error: CrosswalkError) -> int:
    # soft_wrap: no line breaks inside paths and ids (the terminal wraps, not Rich)
    err_console.print(Text("Error: ", style="bold red") + Text(str(error)), soft_wrap=True)
    return exit_code(error)


def main() -> None:
    """Console-script entry point."""
    sys.exit(run())
