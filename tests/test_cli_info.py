from crosswalk import __version__
from crosswalk.cli import run


def test_version_prints_package_version(capsys):
    assert run(["version"]) == 0
    assert __version__ in capsys.readouterr().out


def test_settings_lists_environment_variables(capsys, monkeypatch):
    monkeypatch.setenv("CROSSWALK_HUB", "e.duckdb")
    assert run(["settings"]) == 0
    out = capsys.readouterr().out
    assert "CROSSWALK_HUB" in out
    assert "e.duckdb" in out


def test_unknown_command_exits_non_zero():
    assert run(["no-such-command"]) == 2
