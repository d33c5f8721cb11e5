"""The gate answers every aggregate against the hub's release history, kept in the
control plane: the birthday pair of questions, asked through the gate (even by two
analysts), gets one answer."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import population
import pytest
import sqlalchemy as sa
from attacks import START, birthday, overlap

from crosswalk.agreement import Principal
from crosswalk.analytics import ask

PURPOSE = "program_evaluation"


@pytest.fixture
def control(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("CROSSWALK_SECRETS", str(tmp_path / "secrets"))
    return f"sqlite:///{tmp_path}/control.db"


def test_a_person_in_treatment_is_not_seen_on_their_birthday(tmp_path: Path, control: str) -> None:
    # A hub of its own: the gate opens it with its own connection settings.
    hub = tmp_path / "hub.duckdb"
    people = population.build(hub, 3000, seed=4)
    [target] = [
        p
        for p in people
        if birthday(p) is not None and p.served("SUD_TREATMENT", birthday(p)[1])  # type: ignore[index]
    ][:1]
    group, first = birthday(target)  # type: ignore[misc]
    tables = [
        ask(
            overlap(("SUD_TREATMENT", "MEDICAID"), start=START, end=end, age_groups=(group,)),
            Principal(user, "hfs", "analyst"),
            PURPOSE,
            hub=hub,
            control=control,
        ).table.to_pylist()
        for user, end in (("ada", first - timedelta(days=1)), ("bob", first))
    ]
    assert tables[0] == tables[1]
    with sa.create_engine(control).connect() as con:
        remembered = con.execute(sa.text("SELECT count(*) FROM disclosure_release")).scalar()
    assert remembered and remembered >= 2
