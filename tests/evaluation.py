"""Scoring a hub's person index in tests, the way a linkage steward does: through the gate."""

from __future__ import annotations

LINKAGE_STEWARD = ("cdo.linkage", "cdo", "linkage_steward")


def evaluate_index(truth, hub, control=None, secrets=None):
    """Score a hub's person index against ground truth as the hub operator's linkage
    steward, through the gate (the only way to read the index and its records)."""
    from crosswalk.access import Gate
    from crosswalk.agreement import Principal

    gate = Gate(hub, control, secrets)
    return gate.evaluate_linkage(Principal(*LINKAGE_STEWARD), "linkage_review", truth)
