"""Linkage quality and clerical review, for the hub operator's linkage stewards.

Quality is ``Gate.link_quality`` (the trained m and u probabilities, the match weights
with the threshold and review floor, the run's counts); the queue is
``Gate.review_list`` (both records of each pair, never a Part 2 record); a decision is
``Gate.review_decide`` (authorised against the agreement's named stewards, audited, with
the steward's note). Decisions take one click or one key: m (match), n (not a match),
j (the next pair). Accuracy against a truth set, where the host operator names one, is
``Gate.evaluate_linkage``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from crosswalk import settings
from crosswalk.access import Gate
from crosswalk.errors import ConfigError
from crosswalk.identity.charts import (
    accuracy_chart,
    m_u_chart,
    pair_steps,
    waterfall,
    weight_distribution,
)
from crosswalk.identity.index import RECORD_ELEMENTS
from crosswalk.identity.review import Side, effects
from crosswalk.service import auth
from crosswalk.web.charts import svg
from crosswalk.web.pages import WebRoute, agreement_now, render
from crosswalk.web.session import (
    Session,
    check_csrf,
    checked_notice,
    current,
    first,
    notice_mac,
    read_form,
)

router = APIRouter(route_class=WebRoute)
SignedIn = Annotated[Session, Depends(current)]
Form = Annotated[dict[str, list[str]], Depends(read_form)]
PURPOSE = "linkage_review"
QUEUE = 50


def _principal(request: Request, s: Session) -> Any:
    return auth.principal(request, s.caller, agreement_now(request), PURPOSE, None)


@router.get("/ui/linkage", response_class=HTMLResponse)
def linkage(
    request: Request,
    s: SignedIn,
    pair: Annotated[int, Query(ge=0, le=QUEUE)] = 0,
    decided: Annotated[str, Query(max_length=200)] = "",
    mac: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    gate: Gate = request.app.state.gate
    principal = _principal(request, s)
    quality = gate.link_quality(principal, PURPOSE)
    pairs = gate.review_list(principal, PURPOSE, limit=QUEUE)
    context: dict[str, Any] = {
        "quality": quality,
        "pairs": pairs,
        "index": pair,
        "decided": checked_notice(s, decided, mac),
    }
    if quality is not None:
        context["weights_chart"] = svg(
            weight_distribution(quality["weights"], quality["threshold"], quality["review_floor"]),
            "Match weights of the candidate pairs",
        )
        context["m_u_chart"] = svg(
            m_u_chart(quality["parameters"]), "Trained m and u probabilities"
        )
    if pairs:
        index = min(pair, len(pairs) - 1)
        p = pairs[index]
        a, b = p["record_l"], p["record_r"]
        steps = pair_steps(p["match_weight"], p["fields"], a, b)
        title = f"{p['record_key_l']} ~ {p['record_key_r']}"
        sides = [
            Side(k, p["persons"][k]["enterprise_id"], p["persons"][k]["records"])
            for k in (p["record_key_l"], p["record_key_r"])
        ]
        context.update(
            index=index,
            current=p,
            fields=[e for e in RECORD_ELEMENTS if e in a or e in b],
            steps=steps,
            waterfall=svg(waterfall(steps, title), f"Evidence for {title}"),
            if_decided=effects(*sides),
            next_index=(index + 1) % len(pairs),
        )
    context["truth"] = truth_set()
    return render(request, "linkage.html", s, **context)


def truth_set() -> Path | None:
    """The truth set the host operator named (``CROSSWALK_LINKAGE_TRUTH``), if any: a path
    on the server, never one a request gives (that would read any file)."""
    named = settings.LINKAGE_TRUTH.value().strip()
    return Path(named) if named else None


@router.get("/ui/linkage/accuracy", response_class=HTMLResponse)
def accuracy(request: Request, s: SignedIn) -> Response:
    """The person index scored against the truth set (``Gate.evaluate_linkage``: linkage
    stewards only, over the records they may review, audited)."""
    principal = _principal(request, s)
    truth = truth_set()
    context: dict[str, Any] = {"truth": truth, "evaluation": None}
    if truth is not None:
        gate: Gate = request.app.state.gate
        e = gate.evaluate_linkage(principal, PURPOSE, truth)
        measures = [
            {"measure": name, "value": value}
            for name, value in (
                ("pairwise precision", e.pairwise_precision),
                ("pairwise recall", e.pairwise_recall),
                ("pairwise F1", e.pairwise_f1),
                ("B-cubed precision", e.bcubed_precision),
                ("B-cubed recall", e.bcubed_recall),
                ("B-cubed F1", e.bcubed_f1),
                ("blocking recall", e.blocking_recall),
            )
            if value is not None
        ]
        misses = [
            {"kind": k, "pairs": n, "error": "missed (false negative)"}
            for k, n in e.false_negatives_by_error.items()
        ] + [
            {"kind": k, "pairs": n, "error": "wrongly joined (false positive)"}
            for k, n in e.false_positives_by_lookalike.items()
        ]
        context.update(
            evaluation=e,
            measures=measures,
            misses=misses,
            chart=svg(accuracy_chart(measures, misses), "Accuracy against the truth set"),
        )
    return render(request, "accuracy.html", s, **context)


@router.post("/ui/linkage/decide")
def decide(request: Request, s: SignedIn, form: Form) -> Response:
    """Record the steward's decision on a pair (``Gate.review_decide``), then the next."""
    check_csrf(request, form, s.csrf)
    decision = first(form, "decision")
    if decision not in ("match", "no-match"):
        raise ConfigError("a decision is 'match' or 'no-match'")
    a, b = first(form, "record_a")[:64], first(form, "record_b")[:64]
    note = first(form, "note").strip()[:500] or None
    gate: Gate = request.app.state.gate
    gate.review_decide(s.username, a, b, decision, note)
    said = f"{a} and {b}: {'the same person' if decision == 'match' else 'not the same person'}"
    target = f"/ui/linkage?{urlencode({'decided': said, 'mac': notice_mac(s, said)})}"
    if request.headers.get("hx-request") == "true":
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)
