"""The CLI signs in as the service does: a token, never a name on the command line.

Each attack here worked while reads named their own principal (``--user --agency
--role``): anyone who could run the CLI could claim any agency's caseworker or a privacy
officer.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
import typer
from tests.signin import OPERATOR

from crosswalk.accounts import Accounts
from crosswalk.accounts.tables import api_token
from crosswalk.audit import AuditLog
from crosswalk.cli import full_app, run
from crosswalk.cli.principal import Administrator, Asker, SignedIn


def _entries(control: str) -> list[dict]:
    return [json.loads(e["body"]) | {"action": e["action"]} for e in AuditLog(control).entries()]


def _reads(control: str) -> list[dict]:
    return [e for e in _entries(control) if e["action"] == "data.read"]


def _err(capsys: pytest.CaptureFixture[str]) -> str:
    return " ".join(capsys.readouterr().err.split())


def _token_of(path: list[str]) -> str:
    return Path(path[1]).read_text().strip()


@pytest.fixture
def officer(signed_in, control: str) -> list[str]:
    return signed_in("cdo.privacy", "cdo", "privacy_officer", control=control)


def _commands(group, path: str = ""):
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            yield from _commands(command, f"{path}{name} ")
        else:
            yield f"{path}{name}", command


# The account's own agency when an administrator makes it, a filter of the list: not who asks.
NOT_A_PRINCIPAL = {"account add", "account list"}


def test_no_command_takes_a_user_or_an_agency() -> None:
    group = typer.main.get_group(full_app())
    found = {
        name: options
        for name, command in _commands(group)
        if name not in NOT_A_PRINCIPAL
        and (options := [o for p in command.params for o in p.opts if o in ("--user", "--agency")])
    }
    assert found == {}


def test_every_read_and_act_signs_in_in_one_way() -> None:
    """Every command that reads or acts for someone has the sign-in options, from the
    one helper (a command with its own copy of them would have drifted)."""
    group = typer.main.get_group(full_app())
    signing = {
        name
        for name, command in _commands(group)
        if any("--token-file" in p.opts for p in command.params)
    }
    assert {
        "person", "quarantine", "review list", "review show", "review decide",
        "export person-index", "analyze overlap", "analyze heavy-users", "consent add",
        "consent revoke", "consent list", "audit who-accessed", "audit purposes",
        "audit denials", "agreement load", "agreement withdraw", "account add", "token create",
    } <= signing  # fmt: skip
    assert Asker and SignedIn and Administrator  # the helper's types, one module


def test_naming_another_user_on_the_command_line_is_refused(
    control: str, capsys, signed_in
) -> None:
    ana = signed_in("ana", "fcs", "caseworker", control=control)
    argv = ["consent", "list", *ana, "--control", control]
    for claim in (["--user", "cdo.privacy"], ["--agency", "cdo"]):
        assert run([*argv, *claim]) == 2
        assert f"No such option: {claim[0]}" in _err(capsys)
    assert _reads(control) == []


def test_a_role_the_account_was_not_granted_is_refused_and_audited(
    control: str, capsys, signed_in
) -> None:
    ana = signed_in("ana", "fcs", "caseworker", control=control)
    assert run(["consent", "list", *ana, "--role", "privacy_officer", "--control", control]) == 3
    assert "ana does not hold the role 'privacy_officer'" in _err(capsys)
    [denied] = [e for e in _entries(control) if e["action"] == "data.denied"]
    assert (denied["user"], denied["agency"], denied["purpose"]) == ("ana", "fcs", "oversight")
    assert denied["objects"]["operation"] == "crosswalk consent list"
    assert _reads(control) == []


def test_a_purpose_no_clause_covers_for_the_account_is_refused(
    control: str, capsys, signed_in
) -> None:
    ana = signed_in("ana", "fcs", "caseworker", control=control)
    argv = ["audit", "purposes", *ana, "--control", control]
    assert run(argv) == 3
    assert "no clause of the agreement lets ana (caseworker, fcs) use data for 'oversight'" in (
        _err(capsys)
    )


def test_the_account_reads_as_itself(control: str, capsys, officer) -> None:
    assert run(["audit", "purposes", *officer, "--control", control, "--json"]) == 0
    capsys.readouterr()
    [read] = _reads(control)
    assert (read["user"], read["agency"], read["role"]) == (
        "cdo.privacy",
        "cdo",
        "privacy_officer",
    )


def _revoke(control: str, token: str) -> None:
    engine = sa.create_engine(control)
    Accounts(engine, AuditLog(engine)).revoke_token(OPERATOR, token.split("_")[1])


def _expire(control: str, token: str) -> None:
    engine = sa.create_engine(control)
    with engine.begin() as conn:
        conn.execute(
            api_token.update()
            .where(api_token.c.token_id == token.split("_")[1])
            .values(expires_at="2020-01-01T00:00:00+00:00")
        )


@pytest.mark.parametrize(("spoil", "why"), [(_revoke, "revoked token"), (_expire, "expired token")])
def test_a_revoked_or_expired_token_reads_nothing_and_the_attempt_is_audited(
    control: str, capsys, officer, spoil, why
) -> None:
    argv = ["audit", "purposes", *officer, "--control", control, "--json"]
    assert run(argv) == 0
    capsys.readouterr()
    spoil(control, _token_of(officer))
    assert run(argv) == 3
    assert "the token or the username and password are not valid" in _err(capsys)
    assert len(_reads(control)) == 1  # the read before, and none after
    failed = [e for e in _entries(control) if e["action"] == "session.failed"]
    assert [(f["user"], f["objects"]["why"]) for f in failed] == [("cdo.privacy", why)]
    assert failed[0]["objects"]["source"].startswith("cli:")


def test_a_forged_token_in_the_environment_is_refused_and_audited(
    control: str, capsys, officer, monkeypatch
) -> None:
    token = _token_of(officer)
    monkeypatch.setenv("CROSSWALK_TOKEN", token[:-1] + ("A" if token[-1] != "A" else "B"))
    assert run(["audit", "purposes", "--control", control]) == 3
    assert "not valid" in _err(capsys)
    failed = [e for e in _entries(control) if e["action"] == "session.failed"]
    assert [f["objects"]["why"] for f in failed] == ["wrong secret"]
    assert token.split("_", 2)[2] not in json.dumps(failed)  # never the secret (it may hold _)
    assert _reads(control) == []


def test_without_a_token_nothing_is_read(control: str, capsys) -> None:
    assert run(["audit", "purposes", "--control", control]) == 3
    assert "not signed in: set CROSSWALK_TOKEN" in _err(capsys)


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_a_token_file_others_can_read_is_refused(
    control: str, capsys, officer, mode: int, monkeypatch
) -> None:
    path = Path(officer[1])
    path.chmod(mode)
    assert run(["audit", "purposes", *officer, "--control", control]) == 2
    assert f"can be read by others (mode {mode:o})" in _err(capsys)
    monkeypatch.setenv("CROSSWALK_TOKEN_FILE", str(path))  # the default file: the same rule
    assert run(["audit", "purposes", "--control", control]) == 2
    assert "chmod 600" in _err(capsys)
    assert _reads(control) == []


def test_the_token_comes_from_the_environment_or_the_default_file(
    control: str, capsys, officer, monkeypatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CROSSWALK_TOKEN_FILE", officer[1])
    assert run(["audit", "purposes", "--control", control]) == 0
    monkeypatch.setenv("CROSSWALK_TOKEN_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("CROSSWALK_TOKEN", _token_of(officer))
    assert run(["audit", "purposes", "--control", control]) == 0
    capsys.readouterr()
    assert [r["user"] for r in _reads(control)] == ["cdo.privacy"] * 2


def test_a_token_file_given_wins_over_the_environment(
    control: str, capsys, officer, signed_in, monkeypatch
) -> None:
    ana = signed_in("ana", "fcs", "caseworker", control=control)
    monkeypatch.setenv("CROSSWALK_TOKEN", _token_of(officer))
    assert run(["audit", "purposes", *ana, "--control", control]) == 3
    assert "lets ana" in _err(capsys)


def test_a_profile_gives_role_and_purpose_defaults(
    control: str, capsys, officer, tmp_path: Path, monkeypatch
) -> None:
    profile = tmp_path / "profile.yaml"
    profile.write_text("role: privacy_officer\npurpose: oversight\n")
    monkeypatch.setenv("CROSSWALK_PROFILE", str(profile))
    assert run(["audit", "denials", *officer, "--control", control]) == 0
    profile.write_text("role: caseworker\n")
    assert run(["audit", "denials", *officer, "--control", control]) == 3
    assert "cdo.privacy does not hold the role 'caseworker'" in _err(capsys)


def test_an_act_needs_a_token_with_the_data_scope(control: str, capsys, signed_in) -> None:
    audit_only = signed_in("sud.privacy", "sud", "privacy_officer", control=control,
                           scopes=["audit"])  # fmt: skip
    assert run(["consent", "revoke", "c0ffee", *audit_only, "--control", control]) == 3
    assert "scope 'data'" in _err(capsys)
    [denied] = [e for e in _entries(control) if e["action"] == "data.denied"]
    assert denied["user"] == "sud.privacy"


def test_an_administrative_act_is_the_accounts_own(control: str, capsys, signed_in) -> None:
    """The actor is the signed-in account: fcs's steward may not withdraw another party,
    and the refusal names fcs's steward, whoever runs the shell."""
    steward = signed_in("fcs.steward", "fcs", "steward", control=control)
    argv = ["agreement", "withdraw", "doc", "--on", "2099-01-01", *steward, "--control", control]
    assert run(argv) == 3
    capsys.readouterr()
    acts = [
        (e["user"], e["outcome"]) for e in _entries(control) if e["action"] == "agreement.version"
    ]
    assert acts == [("fcs.steward", "denied")]


def test_the_host_operators_commands_are_audited_as_the_operator(tmp_path: Path, capsys) -> None:
    control = f"sqlite:///{tmp_path}/fresh.db"
    assert run(["control", "migrate", "--control", control]) == 0
    assert run(["account", "add", "cdo.admin", "--agency", "cdo", "--role", "administrator",
                "--control", control]) == 0  # fmt: skip
    capsys.readouterr()
    entries = [(e["action"], e["user"], e.get("objects", {}).get("command"))
               for e in _entries(control)]  # fmt: skip
    login = entries[0][1]
    assert login.startswith("operator:")
    assert entries == [
        ("operator.command", login, "control migrate"),
        ("account.change", login, None),
    ]


def test_the_operator_makes_the_keys_ahead_owner_only_and_audited(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    keys = tmp_path / "keys"
    monkeypatch.setenv("CROSSWALK_SECRETS", str(keys))
    control = f"sqlite:///{tmp_path}/control.db"
    assert run(["control", "keys", "--control", control]) == 0
    assert capsys.readouterr().out.count("created") == 3
    names = {"audit-signing.key", "pseudonym.key", "cell-key.key"}
    assert {p.name for p in keys.iterdir()} == names
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in keys.iterdir())
    secrets = [p.read_text().strip() for p in keys.iterdir()]
    assert run(["control", "keys", "--control", control]) == 0
    out = capsys.readouterr().out
    assert "created" not in out and out.count("kept") == 3
    made = [e for e in _entries(control) if e["action"] == "operator.command"]
    assert [sorted(m["objects"]["created"]) for m in made] == [sorted(names), []]
    assert all(m["user"].startswith("operator:") for m in made)
    assert made[0]["objects"]["audit_key"] == made[1]["objects"]["audit_key"]
    bodies = json.dumps(made)
    assert not any(line in bodies for s in secrets for line in s.splitlines() if len(line) > 20)
