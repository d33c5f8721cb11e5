"""The account, token and control commands: shells over the library, audited as the host
operator, or as the account of $CROSSWALK_TOKEN."""

from crosswalk.audit import AuditLog
from crosswalk.cli import run


def test_operator_adds_an_account_and_makes_a_token_shown_once(tmp_path, capsys, monkeypatch):
    control = f"sqlite:///{tmp_path}/control.db"
    monkeypatch.setenv("CROSSWALK_SECRETS", str(tmp_path / "secrets"))
    monkeypatch.delenv("CROSSWALK_TOKEN", raising=False)
    assert run(["control", "migrate", "--control", control]) == 0
    assert (
        run(
            [
                "account",
                "add",
                "ana",
                "--agency",
                "fcs",
                "--role",
                "caseworker",
                "--control",
                control,
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert run(["token", "create", "ana", "--days", "3", "--control", control]) == 0
    token = capsys.readouterr().out.strip()
    assert token.startswith("cwt_")
    assert run(["token", "list", "ana", "--json", "--control", control]) == 0
    assert token not in capsys.readouterr().out
    # acting as ana (no administrator role), the CLI cannot add accounts
    monkeypatch.setenv("CROSSWALK_TOKEN", token)
    assert (
        run(
            [
                "account",
                "add",
                "bob",
                "--agency",
                "fcs",
                "--role",
                "caseworker",
                "--control",
                control,
            ]
        )
        == 3
    )
    users = [(e["action"], e["user"], e["outcome"]) for e in AuditLog(control).entries()]
    assert users[0][1].startswith("operator:") and users[-1] == ("account.change", "ana", "denied")


def test_an_unmigrated_control_plane_says_what_to_run(tmp_path, capsys):
    control = f"sqlite:///{tmp_path}/empty.db"
    assert run(["account", "list", "--control", control]) == 4
    assert "crosswalk control migrate" in capsys.readouterr().err
