"""A field given as canonical JSON text goes into an entry's body as that text: the body
is the very text that serialising the field would give, so hashes and verification are
the same whichever way an event carries it."""

import json
from datetime import date

from crosswalk.audit import DataRead, canonical
from crosswalk.audit.log import _canonical


def _decision():
    return {
        "allowed": True,
        "level": "identified",
        "granted": (("fcs.clients", "first_name"), ("sud.events", "program")),
        "reasons": ({"clause": "4.1", "text": "care coordination — “quoted” \\ and \u2028"},),
        "min_cell": None,
        "on": date(2025, 6, 1),
    }


def test_a_canonical_field_gives_the_body_its_dict_would():
    objects = {"enterprise_ids": ["P1\x00decision", "é"], "datasets": ["fcs.clients"]}
    as_dict = DataRead("ana", "fcs", "caseworker", "care_coordination", objects, _decision(), 3)
    as_text = DataRead(
        "ana", "fcs", "caseworker", "care_coordination", objects, canonical(_decision()), 3
    )
    body = _canonical(as_dict.payload())
    assert _canonical(as_text.payload()) == body
    assert json.loads(body)["decision"]["reasons"][0]["clause"] == "4.1"


def test_entries_of_either_form_are_the_same_and_verify(tmp_path):
    from crosswalk.audit import AuditLog

    log = AuditLog(f"sqlite:///{tmp_path}/control.db", secrets=tmp_path / "secrets")
    for decision in (_decision(), canonical(_decision())):
        log.record(DataRead("ana", "fcs", "caseworker", "care_coordination", {}, decision, 1))
    verified = log.verify()
    assert verified.ok and verified.entries == 2
    first, second = (e["body"] for e in log.entries())
    assert first == second
