"""A grant for a test: a data request that the steward of every agency it involves
approves, as the agreement names them (``<agency>.steward``)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from crosswalk import clock
from crosswalk.access import Gate
from crosswalk.access.gate import person_elements
from crosswalk.access.requests import permits
from crosswalk.agreement import Grant, Principal, load_agreement
from crosswalk.agreement.requests import DataRequest


def granted(
    gate: Gate,
    principal: Principal,
    purpose: str,
    elements: Iterable[tuple[str, str]],
    level: str = "pseudonymised",
    days: int = 90,
) -> DataRequest:
    today = clock.today()
    request = gate.request_data(
        principal,
        purpose,
        elements,
        level,
        today,
        today + timedelta(days=days),
        "a project the stewards approved",
    )
    for agency in request.agencies:
        request = gate.approve_request(f"{agency}.steward", request.request_id, "approved")
    assert request.status == "granted"
    return request


def person_view_elements(
    principal: Principal, purpose: str, level: str, agencies: Iterable[str] | None = None
) -> list[tuple[str, str]]:
    """Every element of a person view (of these agencies) that the shipped agreement's
    clauses permit ``principal`` at ``level`` for ``purpose``, given a grant."""
    agreement = load_agreement()
    today = clock.today()
    candidates = frozenset(
        (d, e)
        for d, e in person_elements(agreement)
        if agencies is None or d.split(".")[0] in set(agencies)
    )
    probe = Grant("probe", principal, purpose, candidates, level, today, today)
    return list(permits(agreement, probe, today).granted)
