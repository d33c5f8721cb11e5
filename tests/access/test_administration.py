"""Administrative acts are authorised against the agreement's named stewards and privacy
officers, and audited by the library itself."""

from __future__ import annotations

import importlib.resources
import json
from datetime import date
from pathlib import Path

import pytest

from crosswalk.access import Gate
from crosswalk.agreement import Principal, agreement_in_force
from crosswalk.audit import AuditLog
from crosswalk.cli import run
from crosswalk.errors import AccessDenied, ConfigError, NotFound

SHIPPED = importlib.resources.files("crosswalk.agreement").joinpath("emou.yaml").read_text()
TODAY = date(2025, 6, 1)

# A clause granting every class at the identified level to every party, role and purpose.
EVERYTHING = """  - clause: "9.9"
    title: Everything to everyone
    recipients: ["*"]
    roles: [analyst, researcher, caseworker, eligibility_worker, steward, privacy_officer, linkage_steward]
    purposes: [care_coordination, eligibility_verification, program_evaluation, research, operations, linkage_review, oversight]
    classes: [direct_identifier, case_identifier, quasi_identifier, program, phi, substance_use, child_welfare, behavioural_health, federal_tax, education, raw_extract, audit_log, consent_registry]
    level: identified
"""


def evil(tmp_path: Path, *, names_nobody: bool = False) -> Path:
    text = SHIPPED.replace("version: 1", "version: 2") + EVERYTHING
    if names_nobody:  # the amendment names its own loader a steward of the operator
        text = text.replace("stewards: [cdo.steward, cdo.linkage]", "stewards: [nobody]")
    path = tmp_path / "evil.yaml"
    path.write_text(text)
    return path


def actions(control: str) -> list[tuple[str, str, str]]:
    return [(e["action"], e["user"], e["outcome"]) for e in AuditLog(control).entries()]


@pytest.mark.parametrize("names_nobody", [False, True])
def test_an_unnamed_user_cannot_load_an_agreement(
    tmp_path, control, capsys, names_nobody, signed_in
):
    """The attack: `crosswalk agreement load evil.yaml --user nobody` stored a version
    whose clause granted everything to everyone. Now the loader is the signed-in account,
    and an account the agreement in force does not name is refused."""
    path = evil(tmp_path, names_nobody=names_nobody)
    nobody = signed_in("nobody", "fcs", "caseworker", control=control)
    assert run(["agreement", "load", str(path), *nobody, "--control", control]) == 3
    assert "nobody may not load an agreement version" in capsys.readouterr().err
    assert agreement_in_force(TODAY, control).version == 1
    loads = [a for a in actions(control) if a[0] == "agreement.version"]
    assert loads == [("agreement.version", "nobody", "denied")]


def test_an_act_cannot_name_its_actor(tmp_path, control, capsys, signed_in):
    """The attack: naming the operator's steward on the command line while signed in as
    someone else (or not at all). The option is gone; the actor is the token's."""
    path = evil(tmp_path)
    nobody = signed_in("nobody", "fcs", "caseworker", control=control)
    argv = ["agreement", "load", str(path), "--user", "cdo.steward", "--control", control]
    assert run(argv) == 2
    assert run([*argv, *nobody]) == 2
    assert "No such option: --user" in capsys.readouterr().err
    assert agreement_in_force(TODAY, control).version == 1
    assert not [a for a in actions(control) if a[0] == "agreement.version"]


def test_the_operators_steward_loads_an_amendment_and_the_library_audits_it(tmp_path, control):
    path = tmp_path / "v2.yaml"
    path.write_text(
        SHIPPED.replace("version: 1", "version: 2").replace("min_cell: 11", "min_cell: 20")
    )
    Gate(control=control).agreement_load("cdo.steward", path)
    assert agreement_in_force(TODAY, control).min_cell == 20
    [entry] = AuditLog(control).entries()
    body = json.loads(entry["body"])
    assert (entry["action"], body["agency"], body["role"]) == (
        "agreement.version",
        "cdo",
        "steward",
    )
    assert body["objects"]["version"] == 2


def test_a_party_withdraws_only_by_its_own_or_the_operators_steward(control, clock_at):
    gate = Gate(control=control)
    with pytest.raises(AccessDenied):
        gate.agreement_withdraw("fcs.steward", "doc", date(2025, 7, 1))
    with pytest.raises(ConfigError, match="today"):
        gate.agreement_withdraw("doc.steward", "doc", date(2025, 5, 1))
    amended = gate.agreement_withdraw("doc.steward", "doc", date(2025, 7, 1))
    assert amended.version == 2
    clock_at(date(2025, 7, 1))
    assert agreement_in_force(date(2025, 7, 1), control).party("doc").withdrawn_on == date(
        2025, 7, 1
    )
    assert [a for a, _, _ in actions(control)] == ["agreement.version"] * 2
    assert actions(control)[-1] == ("agreement.version", "doc.steward", "ok")


def test_consents_are_recorded_by_the_disclosers_stewards_for_its_own_clients(
    hub, sud_person, plain_person, control
):
    gate = Gate(hub, control)
    args = ("sud", "fcs", "care_coordination", "treatment", date(2025, 1, 1), date(2026, 1, 1))
    with pytest.raises(AccessDenied):
        gate.consent_add("fcs.steward", sud_person, *args)  # the recipient cannot consent for it
    with pytest.raises(NotFound):
        gate.consent_add("sud.steward", "P9999999999", *args)  # no such person
    with pytest.raises(NotFound):
        gate.consent_add("sud.steward", plain_person, *args)  # not a client of the program
    consent = gate.consent_add("sud.privacy", sud_person, *args)
    with pytest.raises(AccessDenied):
        gate.consent_revoke("fcs.steward", consent.consent_id)
    gate.consent_revoke("sud.steward", consent.consent_id)
    assert actions(control) == [
        ("consent.change", "fcs.steward", "denied"),
        ("consent.change", "sud.privacy", "ok"),
        ("consent.change", "fcs.steward", "denied"),
        ("consent.change", "sud.steward", "ok"),
    ]
    answer = gate.person(Principal("ana", "fcs", "caseworker"), "care_coordination", sud_person)
    assert "sud" not in {r["agency"] for r in answer.records}  # revoked today


def test_a_review_decision_needs_the_operators_steward(hub, control):
    with pytest.raises(AccessDenied):
        Gate(hub, control).review_decide("nobody", "fcs:A", "hfs:B", "match")
    assert actions(control) == [("identity.review", "nobody", "denied")]


@pytest.mark.parametrize(
    ("profile_text", "key", "line"),
    [
        ("role: caseworker\npurpose: care_coordination\nlevel: identified\n", "level", 3),
        # who asks is the token's: a profile that names a user or an agency is refused
        ("user: cdo.privacy\npurpose: care_coordination\n", "user", 1),
        ("purpose: care_coordination\nagency: sud\n", "agency", 2),
    ],
)
def test_a_profile_with_an_unknown_key_is_refused(
    tmp_path, hub, sud_person, control, capsys, signed_in, profile_text, key, line
):
    profile = tmp_path / "me.yaml"
    profile.write_text(profile_text)
    ana = signed_in("ana", "fcs", "caseworker", control=control)
    argv = ["person", sud_person, "--profile", str(profile), *ana, "--hub", str(hub),
            "--control", control]  # fmt: skip
    assert run(argv) == 2
    err = capsys.readouterr().err
    assert "me.yaml" in err and key in err and f"row {line}" in err
    assert not [e for e in AuditLog(control).entries() if e["action"].startswith("data.")]
