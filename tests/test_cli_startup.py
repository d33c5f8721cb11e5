"""Start-up: a command imports only what it needs, and `--help` lists every command."""

import subprocess
import sys

import pytest

from crosswalk.cli import COMMANDS, full_app, load_commands

HEAVY = ("splink", "duckdb", "altair", "vl_convert", "polars", "pyarrow", "scipy", "sqlglot")


def _modules_after(argv: list[str]) -> set[str]:
    """The heavy packages imported by running ``crosswalk ARGV`` in a fresh interpreter."""
    code = (
        "import sys\n"
        "from crosswalk.cli import run\n"
        f"run({argv!r})\n"
        f"print('heavy:' + ','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    last = done.stdout.splitlines()[-1]
    assert last.startswith("heavy:")
    return {m for m in last.removeprefix("heavy:").split(",") if m}


def test_importing_the_cli_imports_no_heavy_package():
    code = "import sys, crosswalk.cli; print(sorted(m for m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    assert not [m for m in HEAVY if f"'{m}'" in out]


@pytest.mark.parametrize("argv", [["--help"], ["version"], ["settings"]])
def test_help_and_version_import_no_heavy_package(argv):
    assert _modules_after(argv) == set()


@pytest.mark.parametrize("argv", [["ingest", "--help"], ["ingest-state", "--help"]])
def test_ingest_loads_no_linkage_charts_or_solver(argv):
    # Thirteen agency ingests each pay their start-up: they load what ingest needs only.
    assert _modules_after(argv) & {"splink", "altair", "vl_convert", "scipy"} == set()


@pytest.mark.parametrize(
    "argv", [["analyze", "--help"], ["person", "--help"], ["link", "--help"], ["review", "--help"]]
)
def test_gate_commands_load_no_linkage_charts_or_solver(argv):
    # The gate reads the person index through crosswalk.identity: that package loads
    # Splink, its charts and the solvers only when a link run or a suppression needs them.
    assert _modules_after(argv) & {"splink", "altair", "vl_convert", "scipy"} == set()


def test_identity_exports_link_and_its_result_on_first_use():
    code = (
        "import sys, crosswalk.identity as identity\n"
        "assert 'splink' not in sys.modules\n"
        "result = identity.LinkResult\n"  # first use through the class, then the function
        "from crosswalk.identity import link\n"
        "assert callable(link) and link.__module__ == 'crosswalk.identity.link'\n"
        "assert identity.link is link and result.__name__ == 'LinkResult'\n"
        # Splink itself loads only when a run trains or scores.
        "assert 'splink' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_every_registered_command_is_listed_with_its_own_summary():
    registered = {c.name or c.callback.__name__: c for c in full_app().registered_commands}
    registered |= {g.name: g for g in full_app().registered_groups}
    assert set(registered) == set(COMMANDS), "add new top-level commands to COMMANDS"
    for name, (module, summary) in COMMANDS.items():
        command = load_commands(module)[name]
        first = " ".join((command.help or "").split("\n\n")[0].split())
        assert first == summary, f"COMMANDS[{name!r}] summary differs from its help"


def test_help_lists_commands_in_order(capsys):
    from crosswalk.cli import run

    assert run(["--help"]) == 0
    out = capsys.readouterr().out
    listed = [
        line.split()[1] for line in out.splitlines() if line.startswith("│ ") and line[2] != " "
    ]
    names = [n for n in listed if n in COMMANDS]
    assert names == list(COMMANDS)


def test_a_mistyped_command_is_suggested(capsys):
    from crosswalk.cli import run

    assert run(["revew"]) == 2
    assert "review" in capsys.readouterr().err
