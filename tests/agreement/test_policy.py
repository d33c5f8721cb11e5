from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crosswalk.agreement import Level, Principal, Request, decide, load_agreement
from crosswalk.agreement.model import Pseudonymised

AGREEMENT = load_agreement()
TODAY = date(2025, 6, 1)


def ask(agency, role, purpose, elements, level):
    return decide(
        AGREEMENT, Request(Principal("u", agency, role), purpose, tuple(elements), level), at=TODAY
    )


@pytest.mark.parametrize(
    ("agency", "role", "purpose", "element", "level", "allowed", "clause"),
    [
        (
            "fcs",
            "caseworker",
            "care_coordination",
            ("hfs.clients", "last_name"),
            "identified",
            True,
            "5.1",
        ),
        ("fcs", "caseworker", "research", ("hfs.clients", "last_name"), "identified", False, None),
        (
            "fcs",
            "analyst",
            "care_coordination",
            ("hfs.clients", "last_name"),
            "identified",
            False,
            None,
        ),
        (
            "doc",
            "caseworker",
            "care_coordination",
            ("hfs.clients", "last_name"),
            "identified",
            False,
            None,
        ),
        (
            "cdo",
            "analyst",
            "program_evaluation",
            ("sud.events", "program"),
            "aggregate",
            True,
            "4.1",
        ),
        (
            "cdo",
            "analyst",
            "program_evaluation",
            ("sud.events", "program"),
            "pseudonymised",
            False,
            None,
        ),
        ("cdo", "researcher", "research", ("hfs.events", "program"), "pseudonymised", True, "4.2"),
        ("cdo", "researcher", "research", ("ides.events", "amount"), "pseudonymised", False, None),
        ("cdo", "researcher", "research", ("ides.events", "amount"), "aggregate", True, "4.3"),
        ("sud", "steward", "operations", ("sud.clients", "ssn_last4"), "identified", True, "6.1"),
        ("sud", "steward", "operations", ("hfs.clients", "ssn_last4"), "identified", False, None),
        (
            "hfs",
            "eligibility_worker",
            "eligibility_verification",
            ("fcs.events", "program"),
            "identified",
            True,
            "5.3",
        ),
        (
            "hfs",
            "eligibility_worker",
            "eligibility_verification",
            ("mh.events", "program"),
            "identified",
            False,
            None,
        ),
        (
            "nobody",
            "caseworker",
            "care_coordination",
            ("hfs.clients", "last_name"),
            "identified",
            False,
            None,
        ),
    ],
)
def test_allow_deny_matrix(agency, role, purpose, element, level, allowed, clause):
    d = ask(agency, role, purpose, [element], level)
    assert d.allowed is allowed
    assert d.reasons, "every decision explains itself"
    if clause:
        assert any(r.clause == clause for r in d.reasons)


def test_part2_identified_needs_consent():
    d = ask("fcs", "caseworker", "care_coordination", [("sud.events", "program")], "identified")
    assert d.allowed and d.consent_required == (("sud.events", "program"),)
    assert any(r.clause == "5.2" for r in d.reasons)


def test_dropped_elements_are_listed_with_reasons():
    d = ask(
        "cdo",
        "analyst",
        "program_evaluation",
        [("hfs.events", "program"), ("hfs.clients", "ssn")],
        "aggregate",
    )
    assert d.allowed and d.dropped == (("hfs.clients", "ssn"),)
    assert "drop hfs.clients.ssn" in d.transformations
    assert d.min_cell == 11


def test_agreement_not_yet_in_force_denies():
    d = decide(
        AGREEMENT,
        Request(
            Principal("u", "fcs", "caseworker"),
            "care_coordination",
            (("hfs.clients", "dob"),),
            "identified",
        ),
        at=date(2020, 1, 1),
    )
    assert not d.allowed and "not in force" in d.reasons[0].text


def test_amendment_applies_from_its_date():
    rules = [
        r.model_copy(update={"effective_to": date(2025, 3, 31)}) if r.clause == "5.3" else r
        for r in AGREEMENT.rules
    ]
    amended = AGREEMENT.model_copy(update={"version": 2, "rules": rules})
    request = Request(
        Principal("u", "hfs", "eligibility_worker"),
        "eligibility_verification",
        (("fcs.events", "program"),),
        "identified",
    )
    assert decide(amended, request, at=date(2025, 3, 31)).allowed
    assert not decide(amended, request, at=date(2025, 4, 1)).allowed


def test_withdrawn_agency_is_excluded_from_its_date():
    parties = [
        p.model_copy(update={"withdrawn_on": date(2025, 5, 1)}) if p.code == "doc" else p
        for p in AGREEMENT.parties
    ]
    amended = AGREEMENT.model_copy(update={"parties": parties})
    request = Request(
        Principal("u", "cdo", "analyst"),
        "program_evaluation",
        (("doc.events", "program"), ("hfs.events", "program")),
        "aggregate",
    )
    before = decide(amended, request, at=date(2025, 4, 30))
    after = decide(amended, request, at=date(2025, 5, 1))
    assert ("doc.events", "program") in before.granted
    assert ("doc.events", "program") in after.dropped and any(
        "withdrew" in r.text for r in after.reasons
    )


# An independent oracle: expand every clause into the set of (recipient, role, purpose,
# class, level, own data only, needs consent) tuples it grants, then look requests up in
# that set, applying the level's rules as docs/agreement.md states them.
def _oracle_table():
    granted = set()
    parties = [p.code for p in AGREEMENT.parties]
    for r in AGREEMENT.rules:
        for recipient in parties if "*" in r.recipients else r.recipients:
            for role in r.roles:
                for purpose in r.purposes:
                    for cls in r.classes:
                        for level in Level:
                            if level <= Level[r.level]:
                                granted.add(
                                    (
                                        recipient,
                                        role,
                                        purpose,
                                        cls,
                                        level.name,
                                        r.own_data_only,
                                        r.requires_consent,
                                    )
                                )
    return granted


ORACLE = _oracle_table()
DIRECT = {"direct_identifier", "case_identifier"}


def oracle(agency, role, purpose, dataset_id, element, level):
    """(allowed, needs consent, year only) as the agreement's text says."""
    dataset = AGREEMENT.dataset(dataset_id)
    cls = dataset.elements[element]
    if level == "pseudonymised" and (
        cls in DIRECT or element in AGREEMENT.levels.pseudonymised.withheld
    ):
        return False, False, False
    matches = [
        (own, consent)
        for (a, ro, pu, c, lv, own, consent) in ORACLE
        if (a, ro, pu, c, lv) == (agency, role, purpose, cls, level)
        and (not own or dataset.party == agency)
    ]
    if not matches:
        return False, False, False
    person_level = level != "aggregate"
    needs = all(
        person_level and (consent or (dataset.part2 and not own)) for own, consent in matches
    )
    year = level == "pseudonymised" and element in AGREEMENT.levels.pseudonymised.year_only
    return True, needs, year


ELEMENTS = [(d.id, e) for d in AGREEMENT.datasets for e in d.elements]


@settings(max_examples=3000, deadline=None)
@given(
    agency=st.sampled_from([p.code for p in AGREEMENT.parties]),
    role=st.sampled_from(list(AGREEMENT.roles)),
    purpose=st.sampled_from(list(AGREEMENT.purposes)),
    element=st.sampled_from(ELEMENTS),
    level=st.sampled_from([lv.name for lv in Level]),
)
def test_every_decision_matches_the_oracle(agency, role, purpose, element, level):
    d = ask(agency, role, purpose, [element], level)
    allowed, needs_consent, year_only = oracle(agency, role, purpose, *element, level)
    assert d.allowed == allowed
    assert d.consent_required == ((element,) if needs_consent else ())
    assert d.year_only == ((element,) if year_only else ())


PERSON_LEVEL = ["identified", "pseudonymised"]


@pytest.mark.parametrize("level", PERSON_LEVEL)
@pytest.mark.parametrize("element", ["program", "county", "start_date"])
def test_part2_at_every_person_level_needs_consent(level, element):
    """The attack: pseudonymised care coordination returned SUD services without consent."""
    d = ask("hfs", "caseworker", "care_coordination", [("sud.events", element)], level)
    assert d.consent_required == (("sud.events", element),)


def test_part2_needs_consent_even_if_an_amendment_forgets_to_ask_for_it():
    rules = [
        r.model_copy(update={"requires_consent": False, "level": "pseudonymised"})
        if r.clause == "5.2"
        else r
        for r in AGREEMENT.rules
    ]
    amended = AGREEMENT.model_copy(update={"version": 2, "rules": rules})
    request = Request(
        Principal("u", "hfs", "caseworker"),
        "care_coordination",
        (("sud.events", "program"),),
        "pseudonymised",
    )
    assert decide(amended, request, at=TODAY).consent_required == (("sud.events", "program"),)


def test_an_amendment_cannot_lower_the_floor_of_either_rule():
    """Emptied lists and a dropped part2 mark: names stay out of the pseudonymised level,
    birth dates stay years, and substance-use data still needs consent."""
    levels = AGREEMENT.levels.model_copy(
        update={"pseudonymised": Pseudonymised(withheld=[], year_only=[])}
    )
    datasets = [d.model_copy(update={"part2": False}) for d in AGREEMENT.datasets]
    weak = AGREEMENT.model_copy(update={"levels": levels, "datasets": datasets})

    def on(agency, role, purpose, element, level):
        request = Request(Principal("u", agency, role), purpose, (element,), level)
        return decide(weak, request, at=TODAY)

    d = on("hfs", "caseworker", "care_coordination", ("sud.clients", "last_name"), "pseudonymised")
    assert not d.allowed
    d = on("cdo", "researcher", "research", ("hfs.clients", "dob"), "pseudonymised")
    assert d.year_only == (("hfs.clients", "dob"),)
    d = on("hfs", "caseworker", "care_coordination", ("sud.events", "program"), "identified")
    assert d.consent_required == (("sud.events", "program"),)


def test_the_program_reads_its_own_part2_records_without_consent():
    d = ask("sud", "steward", "operations", [("sud.clients", "last_name")], "identified")
    assert d.allowed and not d.consent_required


@pytest.mark.parametrize(
    "element",
    ["first_name", "last_name", "ssn", "ssn_last4", "address_line", "phone", "source_record_id"],
)
@pytest.mark.parametrize("dataset", ["hfs.clients", "sud.clients"])
def test_pseudonymised_never_carries_a_direct_identifier(dataset, element):
    """The attack: --level pseudonymised showed names, addresses and phones (clause 5.1
    grants them at the identified level, and so, before, at every level below it)."""
    d = ask("hfs", "caseworker", "care_coordination", [(dataset, element)], "pseudonymised")
    assert not d.allowed and d.dropped == ((dataset, element),)
    assert "direct identifier" in d.reasons[0].text


def test_pseudonymised_birth_dates_are_years():
    d = ask("cdo", "researcher", "research", [("hfs.clients", "dob")], "pseudonymised")
    assert d.allowed and d.year_only == (("hfs.clients", "dob"),)
    assert "show hfs.clients.dob as its year only" in d.transformations
    assert not ask("cdo", "researcher", "research", [("hfs.clients", "dob")], "aggregate").year_only
