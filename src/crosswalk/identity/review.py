"""What a clerical-review decision would do to the person index, said before it is made.

A decision is honoured by the next linkage run: ``match`` joins the two records' persons,
``no-match`` keeps the two records in different persons (splitting theirs if they are in
one today). The run reclusters everything, so this says what the decision forces, not
every consequence.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Side:
    """One record of a pair, with the person it is in today and that person's size."""

    record_key: str
    enterprise_id: str | None
    records: int  # records in that person (0 when the record is not linked yet)


def _person(side: Side) -> str:
    if side.enterprise_id is None:
        return f"{side.record_key} (not linked yet)"
    plural = "record" if side.records == 1 else "records"
    return f"{side.enterprise_id} ({side.records} {plural})"


def decision_effect(a: Side, b: Side, decision: str) -> str:
    """One sentence: what ``decision`` (``match`` or ``no-match``) on the pair forces."""
    together = a.enterprise_id is not None and a.enterprise_id == b.enterprise_id
    if decision == "match":
        if together:
            return f"keeps both in {_person(a)}: no change"
        total = (a.records or 1) + (b.records or 1)
        return (
            f"merges {_person(a)} and {_person(b)} into one person of {total} records "
            "at the next link run"
        )
    if together:
        return (
            f"splits {_person(a)} at the next link run: {a.record_key} and {b.record_key} "
            "end up in different persons"
        )
    return f"keeps {_person(a)} and {_person(b)} apart: no change"


def effects(a: Side, b: Side) -> dict[str, str]:
    """Both decisions' effects, by decision."""
    return {d: decision_effect(a, b, d) for d in ("match", "no-match")}
