from datetime import date

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from crosswalk.agreement import Grant, Level, Principal, Request, decide, load_agreement
from crosswalk.agreement.model import Pseudonymised

AGREEMENT = load_agreement()
TODAY = date(2025, 6, 1)


def grant_of(agency, role, purpose, elements, level, gid="R1", start=TODAY, end=TODAY, user="u"):
    """A grant (an approved data request) of user ``u``."""
    return Grant(
        gid, Principal(user, agency, role), purpose, frozenset(elements), level, start, end
    )


NAMES = {
    "steward": "stewards",
    "linkage_steward": "stewards",
    "privacy_officer": "privacy_officers",
}


def named_user(agency, role):
    """A user the agreement names for ``role`` of ``agency`` where it names them, else u."""
    names = getattr(AGREEMENT.party(agency), NAMES[role]) if role in NAMES else []
    return names[0] if names else "u"


def ask(agency, role, purpose, elements, level, grants=(), user=None):
    user = named_user(agency, role) if user is None else user
    return decide(
        AGREEMENT,
        Request(Principal(user, agency, role), purpose, tuple(elements), level),
        at=TODAY,
        grants=grants,
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
        # used only by request: without a grant, denied, citing the clause
        ("cdo", "researcher", "research", ("hfs.events", "program"), "pseudonymised", False, "4.2"),
        ("cdo", "researcher", "research", ("ides.events", "amount"), "pseudonymised", False, None),
        ("cdo", "researcher", "research", ("ides.events", "amount"), "aggregate", False, "4.3"),
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
# class, level, own data only, needs consent, by request) tuples it grants, then look
# requests up in that set, applying the level's rules as docs/agreement.md states them.
# A tuple used only by request counts only when the request's grant covers the element.
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
                                        r.by_request or purpose in AGREEMENT.by_request,
                                    )
                                )
    return granted


ORACLE = _oracle_table()
DIRECT = {"direct_identifier", "case_identifier"}


def oracle(agency, role, purpose, dataset_id, element, level, granted_by_request=False, user="u"):
    """(allowed, needs consent, year only) as the agreement's text says for ``user``; with
    ``granted_by_request``, a grant covers the element."""
    if role in NAMES and user not in getattr(AGREEMENT.party(agency), NAMES[role]):
        return False, False, False  # the agreement names each party's stewards and officers
    dataset = AGREEMENT.dataset(dataset_id)
    cls = dataset.elements[element]
    if level == "pseudonymised" and (
        cls in DIRECT or element in AGREEMENT.levels.pseudonymised.withheld
    ):
        return False, False, False
    matches = [
        (own, consent, by_request)
        for (a, ro, pu, c, lv, own, consent, by_request) in ORACLE
        if (a, ro, pu, c, lv) == (agency, role, purpose, cls, level)
        and (not own or dataset.party == agency)
    ]
    standing = [m for m in matches if not m[2]]
    usable = standing or (matches if granted_by_request else [])
    if not usable:
        return False, False, False
    person_level = level != "aggregate"
    needs = all(
        person_level and (consent or (dataset.part2 and not own)) for own, consent, _ in usable
    )
    year = level == "pseudonymised" and element in AGREEMENT.levels.pseudonymised.year_only
    return True, needs, year


ELEMENTS = [(d.id, e) for d in AGREEMENT.datasets for e in d.elements]
LEVELS = [lv.name for lv in Level]
PARTIES = [p.code for p in AGREEMENT.parties]


@settings(max_examples=3000, deadline=None)
@given(
    agency=st.sampled_from(PARTIES),
    role=st.sampled_from(list(AGREEMENT.roles)),
    purpose=st.sampled_from(list(AGREEMENT.purposes)),
    element=st.sampled_from(ELEMENTS),
    level=st.sampled_from(LEVELS),
    named=st.booleans(),
)
@example("cdo", "privacy_officer", "oversight", ("cdo.oversight", "audit_log"), "aggregate", False)
@example("cdo", "privacy_officer", "oversight", ("cdo.oversight", "audit_log"), "aggregate", True)
def test_every_decision_matches_the_oracle(agency, role, purpose, element, level, named):
    """``named``: the user is one the agreement names for the role (steward, officer)."""
    user = named_user(agency, role) if named else "u"
    d = ask(agency, role, purpose, [element], level, user=user)
    allowed, needs_consent, year_only = oracle(agency, role, purpose, *element, level, user=user)
    assert d.allowed == allowed
    assert d.consent_required == ((element,) if needs_consent else ())
    assert d.year_only == ((element,) if year_only else ())


@settings(max_examples=800, deadline=None)
@given(
    agency=st.sampled_from(PARTIES),
    role=st.sampled_from(list(AGREEMENT.roles)),
    purpose=st.sampled_from(list(AGREEMENT.purposes)),
    element=st.sampled_from(ELEMENTS),
    level=st.sampled_from(LEVELS),
    grant_level=st.sampled_from(LEVELS),
    covers=st.booleans(),
    days=st.integers(-3, 3),
)
def test_every_decision_with_a_grant_matches_the_oracle(
    agency, role, purpose, element, level, grant_level, covers, days
):
    """A grant of this principal and purpose, covering the element or not, at some level,
    in force today or not (``days`` from today: its period is that day alone)."""
    day = date.fromordinal(TODAY.toordinal() + days)
    user = named_user(agency, role)
    other = ("hfs.events", "amount") if element != ("hfs.events", "amount") else ELEMENTS[0]
    grant = grant_of(
        agency,
        role,
        purpose,
        [element if covers else other],
        grant_level,
        start=day,
        end=day,
        user=user,
    )
    d = ask(agency, role, purpose, [element], level, [grant], user=user)
    serves = covers and days == 0 and Level[grant_level] >= Level[level]
    allowed, needs_consent, year_only = oracle(
        agency, role, purpose, *element, level, serves, user=user
    )
    assert d.allowed == allowed
    assert d.consent_required == ((element,) if needs_consent else ())
    assert d.year_only == ((element,) if year_only else ())
    assert (d.grant is not None) == (
        allowed and not oracle(agency, role, purpose, *element, level, user=user)[0]
    )


def _standing_only(agreement):
    """The agreement as if nothing were used only by request: every clause standing."""
    rules = [r.model_copy(update={"by_request": False}) for r in agreement.rules]
    return agreement.model_copy(update={"rules": rules, "by_request": []})


STANDING = _standing_only(AGREEMENT)


@st.composite
def grants(draw, principal):
    """Any grants at all: of this principal or another, any purpose, elements, level and
    period (the attacker's wish list)."""
    out = []
    for i in range(draw(st.integers(0, 3))):
        who = draw(
            st.sampled_from([principal, Principal("other", principal.agency, principal.role)])
        )
        start = date.fromordinal(TODAY.toordinal() + draw(st.integers(-400, 10)))
        end = date.fromordinal(start.toordinal() + draw(st.integers(0, 800)))
        out.append(
            Grant(
                f"R{i}",
                who,
                draw(st.sampled_from(list(AGREEMENT.purposes))),
                frozenset(draw(st.lists(st.sampled_from(ELEMENTS), max_size=12))),
                draw(st.sampled_from(LEVELS)),
                start,
                end,
            )
        )
    return out


@settings(max_examples=400, deadline=None)
@given(
    agency=st.sampled_from(PARTIES),
    role=st.sampled_from(list(AGREEMENT.roles)),
    purpose=st.sampled_from(list(AGREEMENT.purposes)),
    elements=st.lists(st.sampled_from(ELEMENTS), min_size=1, max_size=8, unique=True),
    level=st.sampled_from(LEVELS),
    data=st.data(),
)
def test_a_grant_only_narrows_what_the_clauses_permit(agency, role, purpose, elements, level, data):
    """Adding grants never turns a clause's deny into a permit: whatever grants a principal
    holds, nothing is granted that the clauses would not grant if no clause needed one;
    and grants take away nothing the standing clauses give."""
    principal = Principal("u", agency, role)
    request = Request(principal, purpose, tuple(elements), level)
    held = data.draw(grants(principal))
    with_grants = decide(AGREEMENT, request, at=TODAY, grants=held)
    clauses_alone = decide(STANDING, request, at=TODAY)
    without = decide(AGREEMENT, request, at=TODAY)
    assert set(with_grants.granted) <= set(clauses_alone.granted)
    assert set(without.granted) <= set(with_grants.granted)
    assert with_grants.allowed <= clauses_alone.allowed
    # what a grant added is in that one grant, which serves this request today
    added = set(with_grants.granted) - set(without.granted)
    if added:
        [used] = [g for g in held if g.grant_id == with_grants.grant]
        assert used.principal == principal and used.purpose == purpose
        assert used.starts_on <= TODAY <= used.ends_on and Level[used.level] >= Level[level]
        assert added <= used.elements


def test_an_aggregate_grant_allows_no_person_level_read():
    """The attack: a grant approved for aggregates used for a pseudonymised read."""
    elements = [("hfs.events", "program"), ("hfs.clients", "dob")]
    grants = [grant_of("cdo", "researcher", "research", elements, "aggregate")]
    assert ask("cdo", "researcher", "research", elements, "aggregate", grants).allowed
    d = ask("cdo", "researcher", "research", elements, "pseudonymised", grants)
    assert not d.allowed and d.grant is None
    assert all("used only by request" in r.text for r in d.reasons)


def test_an_element_outside_the_grant_is_dropped():
    program, amount = ("hfs.events", "program"), ("hfs.events", "amount")
    grants = [grant_of("cdo", "researcher", "research", [program], "pseudonymised")]
    d = ask("cdo", "researcher", "research", [program, amount], "pseudonymised", grants)
    assert d.granted == (program,) and d.dropped == (amount,) and d.grant == "R1"
    assert any(r.clause == "4.2" and "under grant R1" in r.text for r in d.reasons)


def test_a_grant_of_another_person_or_out_of_its_period_counts_for_nothing():
    program = ("hfs.events", "program")
    for grant in (
        grant_of("cdo", "researcher", "research", [program], "pseudonymised", user="eve"),
        grant_of("cdo", "analyst", "research", [program], "pseudonymised"),
        grant_of("cdo", "researcher", "program_evaluation", [program], "pseudonymised"),
        grant_of(
            "cdo", "researcher", "research", [program], "pseudonymised", end=date(2025, 5, 31)
        ),
        grant_of(
            "cdo",
            "researcher",
            "research",
            [program],
            "pseudonymised",
            start=date(2025, 6, 2),
            end=date(2025, 7, 1),
        ),
    ):
        assert not ask("cdo", "researcher", "research", [program], "pseudonymised", [grant]).allowed


def test_one_answer_uses_one_grant():
    """Two projects' grants are not combined: an answer is under one of them."""
    a, b = ("hfs.events", "program"), ("mh.events", "program")
    grants = [
        grant_of("cdo", "researcher", "research", [a], "pseudonymised", gid="R1"),
        grant_of("cdo", "researcher", "research", [b], "pseudonymised", gid="R2"),
    ]
    d = ask("cdo", "researcher", "research", [a, b], "pseudonymised", grants)
    assert d.granted == (a,) and d.dropped == (b,) and d.grant == "R1"


def test_standing_use_needs_no_grant():
    d = ask("cdo", "analyst", "program_evaluation", [("hfs.events", "program")], "aggregate")
    assert d.allowed and d.grant is None


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
    dob = ("hfs.clients", "dob")
    granted = grant_of("cdo", "researcher", "research", [dob], "pseudonymised")
    request = Request(Principal("u", "cdo", "researcher"), "research", (dob,), "pseudonymised")
    d = decide(weak, request, at=TODAY, grants=[granted])
    assert d.year_only == (dob,)
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
    dob = ("hfs.clients", "dob")
    grants = [grant_of("cdo", "researcher", "research", [dob], "pseudonymised")]
    d = ask("cdo", "researcher", "research", [dob], "pseudonymised", grants)
    assert d.allowed and d.year_only == (dob,)
    assert "show hfs.clients.dob as its year only" in d.transformations
    assert not ask("cdo", "researcher", "research", [dob], "aggregate", grants).year_only
