"""What a chart draws, computed from a released answer only (pure functions, no drawing).

Disclosure control hides counts of 1 to 10 and any count that would reveal one. A chart
never guesses them, and never pretends they are not there: what is hidden is drawn as
hidden (grey, labelled) with the size that the released totals imply, and shares are
taken of the released totals, not of what is left visible.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from crosswalk.analytics.filters import AGE_GROUPS

HIDDEN = "hidden"
ALL = "ALL"
PROGRAM_BANDS = ("1", "2", "3", "4", "5+")

Row = dict[str, Any]

# Categories with an order of their own; everything else sorts as text, with ALL last.
ORDERED: dict[str, tuple[str, ...]] = {
    "age_group": (*AGE_GROUPS, "unknown"),
    "programs_used": PROGRAM_BANDS,
    "direction": ("before", "after"),
}


def category_order(values: Iterable[Any], kind: str | None = None) -> list[Any]:
    """The values in their natural order: age groups youngest first, program bands
    1 to 5+, directions before then after; otherwise as text; ``ALL`` always last."""
    distinct = list(dict.fromkeys(v for v in values if v is not None))
    known = ORDERED.get(kind or "", ())
    if not known:  # recognise a kind by its values
        known = next((o for o in ORDERED.values() if set(distinct) - {ALL} <= set(o)), ())
    rank = {v: i for i, v in enumerate(known)}

    def key(v: Any) -> tuple[int, int, str]:
        return (v == ALL, rank.get(v, len(rank)), str(v))

    return sorted(distinct, key=key)


def lifetime_shares(rows: Sequence[Row], kind: str | None = None) -> list[Row]:
    """Per group, the share of its people in each band of programs used, of the group's
    released total; the hidden bands together as one ``hidden`` segment of the rest.

    A group whose total is hidden is one hidden segment: no share can be known.
    """
    out: list[Row] = []
    groups = category_order((r["group"] for r in rows), kind)
    for g in groups:
        cells = {r["programs_used"]: r["people"] for r in rows if r["group"] == g}
        bands = [b for b in category_order(cells, "programs_used") if b != ALL]
        total = cells.get(ALL)
        shown = {b: cells[b] for b in bands if cells[b] is not None}
        hidden_cells = [b for b in bands if cells[b] is None]
        if total is None and hidden_cells:
            out.append(_segment(g, HIDDEN, None, 1.0, len(bands), hidden_cells, whole=True))
            continue
        base = max(total or 0, sum(shown.values()))
        if base == 0:
            continue
        for i, (band, people) in enumerate(shown.items()):
            out.append(_segment(g, band, people, people / base, i, []))
        if hidden_cells:
            rest = max(base - sum(shown.values()), 0)
            out.append(_segment(g, HIDDEN, None, rest / base, len(bands), hidden_cells))
    start: dict[str, float] = {}
    for seg in out:  # where each segment sits in its bar, from 0 up
        seg["start"] = start.get(seg["group"], 0.0)
        seg["end"] = seg["start"] + seg["share"]
        seg["mid"] = (seg["start"] + seg["end"]) / 2
        start[seg["group"]] = seg["end"]
    return out


def _segment(
    group: str,
    band: str,
    people: int | None,
    share: float,
    order: int,
    hidden: list[str],
    *,
    whole: bool = False,
) -> Row:
    if whole:
        label = "total hidden"
    elif hidden:
        label = f"hidden: {', '.join(hidden)} programs"
    else:
        label = f"{people:,} people"
    return {
        "group": group,
        "programs_used": band,
        "people": people,
        "share": share,
        "order": order,
        "label": label,
    }


def cohort_points(rows: Sequence[Row]) -> tuple[list[Row], list[Row], list[str]]:
    """The released points of each program's curve; a marker for each hidden point (at
    the curve's last released value, so it sits where the curve stops); and the programs
    hidden throughout (no point to draw at all)."""
    shown: list[Row] = []
    hidden: list[Row] = []
    programs = list(dict.fromkeys(r["program"] for r in rows))
    never: list[str] = []
    for p in programs:
        last = 0.0
        own = sorted((r for r in rows if r["program"] == p), key=lambda r: int(r["year"]))
        if not any(r["status"] == "shown" for r in own):
            never.append(p)
        for r in own:
            if r["status"] == "shown":
                last = r["cumulative_pct"]
                shown.append(r)
            elif r["status"] == HIDDEN:
                hidden.append({**r, "cumulative_pct": last, "marker": HIDDEN_MARKER})
    return shown, hidden, never


HIDDEN_MARKER = "hidden point: a count in this or an earlier year is hidden"


def sankey(
    rows: Sequence[Row], program: str, *, height: float = 360.0, gap: float = 8.0
) -> tuple[list[Row], list[Row]]:
    """Nodes and links of the pathways Sankey: the programs entered before ``program``
    (left), the entrants (centre), the programs entered after (right).

    Sizes are in pixels of ``height``; each side's hidden programs are one grey
    ``hidden`` node holding the rest of the released number of entrants. A link is a
    ribbon sampled at points (``x``, ``y`` top, ``y2`` bottom) for an area mark.
    """
    entrants: dict[str, int | None] = {}
    sides: dict[str, list[tuple[str, int]]] = {}
    hidden_programs: dict[str, int] = {}
    for direction in ("before", "after"):
        side = [r for r in rows if r["direction"] == direction]
        entrants[direction] = next((r["people"] for r in side if r["program"] == ALL), None)
        steps = [r for r in side if r["program"] != ALL]
        shown = sorted(
            ((r["program"], r["people"]) for r in steps if r["people"]),
            key=lambda s: (s[0] == "(none)", -s[1], s[0]),
        )
        hidden_programs[direction] = sum(r["people"] is None for r in steps)
        rest = max((entrants[direction] or 0) - sum(n for _, n in shown), 0)
        if hidden_programs[direction] and rest:
            shown.append((HIDDEN, rest))
        sides[direction] = shown
    centre = max(
        entrants["before"] or 0,
        entrants["after"] or 0,
        *(sum(n for _, n in s) for s in sides.values()),
    )
    if centre == 0:
        return [], []
    most = max(len(s) for s in sides.values())
    scale = (height - gap * max(most - 1, 0)) / centre
    x_of = {"before": (0.0, 0.03), "centre": (0.485, 0.515), "after": (0.97, 1.0)}
    nodes: list[Row] = []
    links: list[Row] = []
    c_top = (height - centre * scale) / 2
    nodes.append(_node("centre", program, centre, x_of["centre"], c_top, c_top + centre * scale))
    for direction, flows in sides.items():
        y = (height - (sum(n for _, n in flows) * scale + gap * (len(flows) - 1))) / 2
        at_centre = c_top
        for name, people in flows:
            thick = people * scale
            nodes.append(_node(direction, name, people, x_of[direction], y, y + thick))
            left, right = (
                (x_of["before"][1], x_of["centre"][0])
                if direction == "before"
                else (x_of["centre"][1], x_of["after"][0])
            )
            ends = (y, at_centre) if direction == "before" else (at_centre, y)
            links += _ribbon(
                f"{direction}:{name}", name, direction, people, left, right, ends, thick
            )
            y += thick + gap
            at_centre += thick
    return nodes, links


def _node(column: str, name: str, people: int, x: tuple[float, float], y: float, y2: float) -> Row:
    return {
        "column": column,
        "program": name,
        "people": people,
        "x": x[0],
        "x2": x[1],
        "y": y,
        "y2": y2,
        "label": f"{name} ({people:,})" if name != HIDDEN else f"hidden programs ({people:,})",
    }


def _ribbon(
    link: str,
    name: str,
    direction: str,
    people: int,
    left: float,
    right: float,
    tops: tuple[float, float],
    thick: float,
    samples: int = 24,
) -> list[Row]:
    out = []
    for i in range(samples + 1):
        t = i / samples
        s = t * t * (3 - 2 * t)  # smoothstep: flat at both ends
        top = tops[0] + (tops[1] - tops[0]) * s
        out.append(
            {
                "link": link,
                "program": name,
                "direction": direction,
                "people": people,
                "x": left + (right - left) * t,
                "y": top,
                "y2": top + thick,
            }
        )
    return out


def upset(rows: Sequence[Row], top: int = 20) -> tuple[list[Row], list[Row]]:
    """UpSet-style: the ``top`` largest released combinations as bars, the rest of the
    released ones as one ``other`` bar, the hidden ones as one grey ``hidden`` bar
    (everyone minus what is released), and the membership matrix of the shown bars."""
    everyone = next((r["people"] for r in rows if r["combination"] == ALL), None)
    combos = [r for r in rows if r["combination"] != ALL]
    released = sorted(
        ((r["combination"], r["people"]) for r in combos if r["people"]),
        key=lambda c: (-c[1], c[0]),
    )
    hidden = [r for r in combos if r["people"] is None]
    bars: list[Row] = [
        {"combination": c, "people": n, "kind": "combination", "order": i, "label": f"{n:,}"}
        for i, (c, n) in enumerate(released[:top])
    ]
    if len(released) > top:
        rest = released[top:]
        n = sum(p for _, p in rest)
        bars.append(
            {
                "combination": f"{len(rest)} other combinations",
                "people": n,
                "kind": "other",
                "order": top,
                "label": f"{n:,}",
            }
        )
    if hidden:
        n = max((everyone or 0) - sum(p for _, p in released), 0)
        bars.append(
            {
                "combination": f"{len(hidden)} hidden combinations",
                "people": n,
                "kind": HIDDEN,
                "order": top + 1,
                "label": f"{n:,} hidden",
            }
        )
    programs: dict[str, int] = {}
    for c, n in released[:top]:
        for p in c.split("+"):
            programs[p] = programs.get(p, 0) + n
    ranked = sorted(programs, key=lambda p: (-programs[p], p))
    matrix = [
        {
            "combination": c,
            "program": p,
            "member": p in c.split("+"),
            "row": ranked.index(p),
            "order": i,
        }
        for i, (c, _) in enumerate(released[:top])
        for p in ranked
    ]
    return bars, matrix
