"""Docs that fail the build when they lag: every command and setting is documented."""

from pathlib import Path

import typer

from crosswalk import settings
from crosswalk.cli import full_app

ROOT = Path(__file__).parents[1]
DOCS = (ROOT / "README.md").read_text() + "".join(
    p.read_text() for p in (ROOT / "docs").glob("*.md")
)


def _commands(group: typer.Typer, prefix: str = "") -> list[str]:
    names = [f"{prefix}{c.name or c.callback.__name__}" for c in group.registered_commands]
    for sub in group.registered_groups:
        names += _commands(sub.typer_instance, f"{prefix}{sub.name} ")
    return names


def test_every_command_is_documented():
    commands = _commands(full_app())
    assert len(commands) > 15
    missing = [c for c in commands if f"crosswalk {c}" not in DOCS]
    assert not missing, f"document these commands in README.md or docs/: {missing}"


def test_every_setting_is_documented():
    text = (ROOT / "README.md").read_text()
    missing = [s.env for s in settings.SETTINGS if s.env not in text and s.env not in DOCS]
    assert not missing, missing
