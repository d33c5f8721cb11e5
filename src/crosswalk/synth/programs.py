"""Who uses which program, and when: service events driven by plausible rules.

Participation depends on income, age, household type and on other programs, so overlaps
and pathways look like a real state's: Medicaid and SNAP overlap heavily (one shared need
draw), foster children are on Medicaid, older adults use aging services, some youth move
from child welfare to juvenile justice and on to adult corrections, and a job loss (an
unemployment claim) is often followed by SNAP and then TANF.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from crosswalk.synth.population import WINDOW_START, _days


@dataclass(frozen=True)
class Program:
    code: str
    agency: str
    min_age: int
    max_age: int
    episodes: tuple[int, int]
    mean_days: int  # mean length of an episode; 0 for a point event
    mean_amount: float | None
    service_types: tuple[str, ...]


PROGRAMS: tuple[Program, ...] = (
    Program("MEDICAID", "hfs", 0, 110, (1, 3), 700, 3200.0, ("FULL", "PARTIAL", "WAIVER")),
    Program("SNAP", "fcs", 0, 110, (1, 3), 400, 250.0, ("REGULAR", "EXPEDITED")),
    Program("TANF", "fcs", 0, 110, (1, 2), 240, 420.0, ("CASH", "WORK_SUPPORT")),
    Program(
        "SUD_TREATMENT", "sud", 14, 80, (1, 3), 90, 1800.0, ("OUTPATIENT", "RESIDENTIAL", "MAT")
    ),
    Program(
        "MENTAL_HEALTH", "mh", 5, 95, (1, 4), 120, 900.0, ("OUTPATIENT", "CRISIS", "INPATIENT")
    ),
    Program("DD_SERVICES", "dd", 3, 90, (1, 2), 1500, 5200.0, ("HOME_BASED", "RESIDENTIAL")),
    Program(
        "CHILD_PROTECTIVE", "dcfs", 0, 17, (1, 2), 45, None, ("INVESTIGATION", "INTACT_FAMILY")
    ),
    Program(
        "FOSTER_CARE", "dcfs", 0, 20, (1, 2), 500, 750.0, ("RELATIVE", "NON_RELATIVE", "GROUP")
    ),
    Program("AGING_IN_HOME", "aging", 60, 110, (1, 2), 900, 600.0, ("HOMEMAKER", "MEALS")),
    Program("ADULT_PROTECTIVE", "aging", 60, 110, (1, 1), 60, None, ("INVESTIGATION",)),
    Program("WIC", "idph", 0, 4, (1, 1), 360, 60.0, ("INFANT", "CHILD")),
    Program("INCARCERATION", "doc", 18, 80, (1, 2), 700, None, ("PRISON",)),
    Program("PAROLE", "doc", 18, 80, (1, 1), 500, None, ("SUPERVISION",)),
    Program("JUVENILE_DETENTION", "djj", 12, 20, (1, 2), 120, None, ("DETENTION", "COMMITMENT")),
    Program("JUVENILE_PROBATION", "djj", 12, 20, (1, 1), 300, None, ("PROBATION",)),
    Program("UI_CLAIM", "ides", 18, 70, (1, 2), 120, 380.0, ("REGULAR", "EXTENDED")),
    Program("VETERAN_BENEFITS", "dva", 18, 110, (1, 1), 1800, 1100.0, ("DISABILITY", "PENSION")),
    Program("HOMELESS_SERVICES", "housing", 0, 100, (1, 3), 60, None, ("SHELTER", "OUTREACH")),
    Program(
        "HOUSING_ASSISTANCE",
        "housing",
        18,
        110,
        (1, 1),
        1400,
        700.0,
        ("VOUCHER", "RAPID_REHOUSING"),
    ),
)
PROGRAM_BY_CODE = {p.code: p for p in PROGRAMS}


def _participation(
    people: pl.DataFrame, ref_day: int, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Boolean mask per program: who ever used it in 2010-2025."""
    n = len(people)
    age = (ref_day - people["dob_day"].to_numpy()) / 365.25
    income = people["income"].to_numpy()
    sex = people["sex"].to_numpy()
    htype = people["htype"].to_numpy()
    role = people["role"].to_numpy()
    low, near = income == 0, income == 1
    need = rng.random(n)  # one draw for means-tested programs: overlaps are heavy
    risk = rng.random(n)  # one draw for behavioural-health and justice programs
    u = {code: rng.random(n) for code in PROGRAM_BY_CODE}
    m: dict[str, np.ndarray] = {}
    m["DD_SERVICES"] = u["DD_SERVICES"] < 0.012
    m["UI_CLAIM"] = (age >= 20) & (age < 75) & (u["UI_CLAIM"] < np.where(low | near, 0.18, 0.07))
    m["MEDICAID"] = need < np.where(low, 0.85, np.where(near, 0.35, 0.04)) + 0.1 * m["UI_CLAIM"]
    m["SNAP"] = need < np.where(low, 0.72, np.where(near, 0.22, 0.01)) + 0.12 * m["UI_CLAIM"]
    m["TANF"] = m["SNAP"] & np.isin(htype, ["single_parent", "couple_kids"]) & (u["TANF"] < 0.3)
    m["WIC"] = low & (age < 16) & (u["WIC"] < 0.5)
    m["CHILD_PROTECTIVE"] = (age < 34) & (role == "child") & (risk < np.where(low, 0.10, 0.02))
    m["FOSTER_CARE"] = m["CHILD_PROTECTIVE"] & (u["FOSTER_CARE"] < 0.35)
    m["MEDICAID"] |= m["FOSTER_CARE"] | (m["DD_SERVICES"] & (u["MEDICAID"] < 0.9))
    m["SUD_TREATMENT"] = (age >= 16) & (risk < np.where(low, 0.07, 0.02))
    m["MENTAL_HEALTH"] = (age >= 6) & (
        (u["MENTAL_HEALTH"] < 0.04) | (m["SUD_TREATMENT"] & (u["MENTAL_HEALTH"] < 0.4))
    )
    young = (age >= 12) & (age < 36)
    m["JUVENILE_DETENTION"] = young & (
        u["JUVENILE_DETENTION"] < np.where(m["CHILD_PROTECTIVE"], 0.15, 0.015)
    ) & (sex == "M") | young & (u["JUVENILE_DETENTION"] < 0.004)
    m["JUVENILE_PROBATION"] = m["JUVENILE_DETENTION"] & (u["JUVENILE_PROBATION"] < 0.6)
    p_doc = (
        np.where(sex == "M", 0.025, 0.005)
        + 0.30 * m["JUVENILE_DETENTION"]
        + 0.08 * m["SUD_TREATMENT"]
    )
    m["INCARCERATION"] = (age >= 19) & (u["INCARCERATION"] < p_doc)
    m["PAROLE"] = m["INCARCERATION"] & (u["PAROLE"] < 0.7)
    m["AGING_IN_HOME"] = (age >= 62) & (u["AGING_IN_HOME"] < np.where(low | near, 0.3, 0.1))
    m["ADULT_PROTECTIVE"] = (age >= 62) & (u["ADULT_PROTECTIVE"] < 0.02)
    m["VETERAN_BENEFITS"] = people["veteran"].to_numpy() & (u["VETERAN_BENEFITS"] < 0.6)
    p_home = 0.002 + 0.04 * low + 0.08 * m["SUD_TREATMENT"] + 0.08 * m["INCARCERATION"]
    m["HOMELESS_SERVICES"] = u["HOMELESS_SERVICES"] < p_home
    m["HOUSING_ASSISTANCE"] = (age >= 18) & low & (need < 0.15) | m["HOMELESS_SERVICES"] & (
        u["HOUSING_ASSISTANCE"] < 0.3
    )
    return m


def service_events(
    people: pl.DataFrame, reference_date: str, rng: np.random.Generator
) -> pl.DataFrame:
    """One row per episode: person_id, agency, program, service_type, start/end day, amount."""
    ref_day = _days(reference_date)
    masks = _participation(people, ref_day, rng)
    dob = people["dob_day"].to_numpy()
    death = people["death_day"].fill_null(ref_day + 1).to_numpy()
    ids = people["person_id"].to_numpy()
    frames: list[pl.DataFrame] = []
    anchors: dict[str, np.ndarray] = {}  # program -> first start day per person (or -1)
    # Order matters: later programs in a pathway start after earlier ones.
    order = [
        "UI_CLAIM",
        "SNAP",
        "TANF",
        "CHILD_PROTECTIVE",
        "FOSTER_CARE",
        "JUVENILE_DETENTION",
        "JUVENILE_PROBATION",
        "INCARCERATION",
        "PAROLE",
    ]
    codes = order + [p.code for p in PROGRAMS if p.code not in order]
    for code in codes:
        prog = PROGRAM_BY_CODE[code]
        idx = np.flatnonzero(masks[code])
        lo = np.maximum(WINDOW_START, dob[idx] + prog.min_age * 365)
        hi = np.minimum(np.minimum(ref_day, death[idx] - 1), dob[idx] + (prog.max_age + 1) * 365)
        after = {
            "SNAP": "UI_CLAIM",
            "TANF": "SNAP",
            "FOSTER_CARE": "CHILD_PROTECTIVE",
            "JUVENILE_DETENTION": "CHILD_PROTECTIVE",
            "JUVENILE_PROBATION": "JUVENILE_DETENTION",
            "INCARCERATION": "JUVENILE_DETENTION",
            "PAROLE": "INCARCERATION",
        }.get(code)
        if after is not None:
            prior = anchors[after][idx]
            lo = np.where(prior >= 0, np.maximum(lo, prior + rng.integers(14, 400, len(idx))), lo)
        ok = hi > lo
        idx, lo, hi = idx[ok], lo[ok], hi[ok]
        k = rng.integers(prog.episodes[0], prog.episodes[1] + 1, len(idx))
        rep = np.repeat(np.arange(len(idx)), k)
        start = lo[rep] + (rng.random(len(rep)) * (hi[rep] - lo[rep])).astype(np.int64)
        if prog.mean_days:
            end = start + rng.exponential(prog.mean_days, len(rep)).astype(np.int64) + 1
        else:
            end = start.copy()
        person = idx[rep]
        end = np.minimum(end, death[person] - 1)
        open_ = end > ref_day
        first = np.full(len(people), -1, dtype=np.int64)
        order_idx = np.lexsort((start, person))
        first_pos = (
            order_idx[np.r_[True, person[order_idx][1:] != person[order_idx][:-1]]]
            if len(person)
            else order_idx
        )
        first[person[first_pos]] = start[first_pos]
        anchors[code] = first
        amount = None
        if prog.mean_amount is not None:
            amount = np.round(rng.gamma(2.0, prog.mean_amount / 2.0, len(rep)), 2)
        frames.append(
            pl.DataFrame(
                {
                    "person_id": ids[person],
                    "agency": np.full(len(rep), prog.agency, dtype=object),
                    "program": np.full(len(rep), code, dtype=object),
                    "service_type": np.asarray(prog.service_types, dtype=object)[
                        rng.integers(0, len(prog.service_types), len(rep))
                    ],
                    "start_day": start,
                    "end_day": np.where(open_, -1, end),
                    "amount": amount if amount is not None else np.full(len(rep), np.nan),
                },
                schema_overrides={
                    "agency": pl.String,
                    "program": pl.String,
                    "service_type": pl.String,
                },
            )
        )
    # Vital records: births in the window and deaths, recorded by public health.
    born = np.flatnonzero(dob >= WINDOW_START)
    died = np.flatnonzero(death <= ref_day)
    for code, who, day in (("BIRTH_RECORD", born, dob[born]), ("DEATH_RECORD", died, death[died])):
        frames.append(
            pl.DataFrame(
                {
                    "person_id": ids[who],
                    "agency": np.full(len(who), "idph", dtype=object),
                    "program": np.full(len(who), code, dtype=object),
                    "service_type": np.full(len(who), "CERTIFICATE", dtype=object),
                    "start_day": day,
                    "end_day": day,
                    "amount": np.full(len(who), np.nan),
                },
                schema_overrides={
                    "agency": pl.String,
                    "program": pl.String,
                    "service_type": pl.String,
                },
            )
        )
    events = pl.concat(frames).with_columns(
        pl.col("end_day").replace(-1, None),
        pl.col("amount").fill_nan(None),
    )
    return events.sort("person_id", "agency", "start_day", "program")
