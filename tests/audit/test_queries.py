"""The privacy officer's questions answer only from a log that verifies."""

import json

import pytest
import sqlalchemy as sa
from tests.audit.conftest import read

from crosswalk.audit.log import audit_entry, entry_hash
from crosswalk.audit.queries import denials, purposes, who_accessed
from crosswalk.errors import IntegrityError


def run(log, sql):
    with log.engine.begin() as conn:
        conn.execute(sa.text(sql))


def test_questions_on_an_intact_log(log):
    log.record(read(7, purpose="program_evaluation"))
    assert purposes(log) == {"care_coordination": 6, "program_evaluation": 1}
    assert [r["user"] for r in who_accessed(log, "P3")] == ["user3"]
    assert denials(log) == {}


@pytest.mark.parametrize("question", [purposes, denials, lambda log: who_accessed(log, "P1")])
def test_edited_purposes_are_not_reported(log, question):
    run(log, "UPDATE audit_entry SET purpose = 'program_evaluation' WHERE seq <= 3")
    with pytest.raises(IntegrityError, match="entry 1"):
        question(log)


def test_rehashed_history_without_the_key_is_not_reported(log):
    """Every hash recomputed after an edit: only the head's signature can tell."""
    rows = log.entries()
    prev = rows[0]["prev_hash"]
    with log.engine.begin() as conn:
        conn.execute(audit_entry.delete())
        for row in rows:
            body = json.loads(row["body"]) | {"purpose": "program_evaluation"}
            row |= {"purpose": "program_evaluation", "prev_hash": prev}
            row["body"] = json.dumps(body, sort_keys=True, separators=(",", ":"))
            row["hash"] = entry_hash(row)
            prev = row["hash"]
            conn.execute(audit_entry.insert().values(**row))
    with pytest.raises(IntegrityError, match="head, entry 6"):
        purposes(log)
    assert log.verify().first_bad == 1, "the full verify names the first forged entry"
