"""A state that moves: weekly update batches of every agency, with the truth of each week.

After the initial extracts, each week brings new people (and births), new records of
people the agencies already know (a first visit to another agency, a death certificate),
and new versions of records the agencies hold: a name or birth date corrected, a new
address after a move, a new surname after a marriage. A week's files are in each
agency's own format, in ``weeks/NN/agencies/<agency>/``, with a manifest that
``crosswalk ingest-state`` reads (it loads them as update batches), and the ground truth
of the whole state as it stands after that week in ``weeks/NN/truth/``: every record
with its true person (``records.parquet``, the format ``crosswalk link --evaluate``
reads) and what the week changed (``changes.parquet``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from crosswalk.model import PROGRAMS as PROGRAM_AGENCY
from crosswalk.synth import reference as ref
from crosswalk.synth.config import SynthConfig
from crosswalk.synth.extracts import EXTRACTS, client_frame, event_frame
from crosswalk.synth.families import membership
from crosswalk.synth.population import _days, _first_names, households
from crosswalk.synth.programs import PROGRAM_BY_CODE, service_events
from crosswalk.synth.records import client_records
from crosswalk.synth.sink import Sink

# Share of the state's people each week brings (or changes), and share of records a week
# corrects: about 1% of the records arrive or change each week.
WEEKLY_RATES: dict[str, float] = {
    "new_people": 0.004,
    "births": 0.0005,
    "new_records": 0.003,
    "corrections": 0.001,
    "moves": 0.001,
    "marriages": 0.0003,
    "deaths": 0.0003,
}
# Of the open episodes (a case opened by an earlier week and not ended), the share whose
# agency closes the case each week.
CLOSE_SHARE = 0.25
# Of a person who moved or married, the share of their records whose agency hears of it.
TOLD_SHARE = 0.6
# Programs a known person newly turns to (their agency gets a new record).
NEW_RECORD_PROGRAMS = ("MEDICAID", "SNAP", "MENTAL_HEALTH", "HOUSING_ASSISTANCE", "UI_CLAIM")
_NAME_AND_DOB_ERRORS = (
    "first_name_typo",
    "last_name_typo",
    "name_phonetic",
    "name_swap",
    "nickname",
    "dob_day_month_swap",
    "dob_year_off",
    "dob_digit_typo",
    "dob_default",
    "dob_missing",
)


@dataclass
class Moving:
    """The state as it stands: people (their current truth), records, and ids issued."""

    people: pl.DataFrame
    records: pl.DataFrame
    offsets: Any  # crosswalk.synth.state._Offsets
    next_person: int
    events: pl.DataFrame | None = None  # the agencies' service events, for closures


def write_weeks(
    state: Moving, config: SynthConfig, weeks: int, out: Path, renumber: Any
) -> list[dict[str, Any]]:
    """Write ``weeks`` weekly update batches under ``out/weeks``; return their summaries.

    ``renumber`` is the state's own renumbering (client and event ids continue the
    agencies' sequences)."""
    summaries = []
    for week in range(1, weeks + 1):
        summaries.append(_week(state, config, week, out, renumber))
    return summaries


def _week(
    state: Moving, config: SynthConfig, week: int, out: Path, renumber: Any
) -> dict[str, Any]:
    rng = np.random.default_rng([config.seed, 2_000_000, week])
    day = _days(config.reference_date) + 7 * week
    people = state.people
    n = len(people)
    alive = people.filter(pl.col("death_day").is_null() | (pl.col("death_day") > day))

    def count(kind: str) -> int:
        expected = WEEKLY_RATES[kind] * n
        return int(rng.poisson(expected)) if expected > 0 else 0

    changes: list[pl.DataFrame] = []
    # 1. People new to every agency, in new households.
    k = max(count("new_people"), 10 if n >= 1000 else 1)
    fresh = households(config.model_copy(update={"people": k}), rng, first_person=state.next_person)
    state.next_person += len(fresh)
    fresh_events = service_events(fresh, config.reference_date, rng)
    # Their first contact is this week: every episode shifted to start by now.
    fresh_events = fresh_events.with_columns(
        (pl.col("start_day") - pl.col("start_day").max() + day).alias("start_day"),
        (pl.col("end_day") - pl.col("start_day").max() + day).alias("end_day"),
    )
    # 2. Births into households: the mother's household, a new child, a birth record
    # and Medicaid.
    mothers = alive.filter(
        (pl.col("sex") == "F")
        & pl.col("role").is_in(["head", "partner"])
        & ((day - pl.col("dob_day")) // 365).is_between(18, 44)
    )
    babies = _births(
        mothers.sample(min(count("births"), len(mothers)), seed=_seed(rng)), rng, day, state
    )
    # 3. Known people's new records: a program at another agency, or a death.
    known = alive.sample(min(count("new_records"), len(alive)), seed=_seed(rng))
    dying = alive.filter(~pl.col("person_id").is_in(known["person_id"].implode())).sample(
        min(count("deaths"), len(alive)), seed=_seed(rng)
    )
    people = people.with_columns(
        pl.when(pl.col("person_id").is_in(dying["person_id"].implode()))
        .then(pl.lit(day))
        .otherwise(pl.col("death_day"))
        .alias("death_day")
    )
    # 4. Moves and marriages change the person; their agencies hear of some of it.
    movers = (
        alive.select("household_id")
        .unique(maintain_order=True)
        .sample(min(count("moves"), alive["household_id"].n_unique()), seed=_seed(rng))
    )
    people = _move(people, movers["household_id"], rng, day)
    brides = alive.filter(
        (pl.col("sex") == "F")
        & ((day - pl.col("dob_day")) // 365 >= 20)
        & (pl.col("marriage_day") < 0)
    )
    brides = brides.sample(min(count("marriages"), len(brides)), seed=_seed(rng))
    surnames = ref.surnames().names[rng.integers(0, 3000, len(brides))]
    people = (
        people.join(
            pl.DataFrame({"person_id": brides["person_id"], "_new_last": surnames.astype(str)}),
            on="person_id",
            how="left",
        )
        .with_columns(
            pl.when(pl.col("_new_last").is_not_null())
            .then(pl.col("last_name"))
            .otherwise("birth_last_name")
            .alias("birth_last_name"),
            pl.coalesce("_new_last", "last_name").alias("last_name"),
            pl.when(pl.col("_new_last").is_not_null())
            .then(pl.lit(day))
            .otherwise("marriage_day")
            .alias("marriage_day"),
        )
        .drop("_new_last")
    )
    people = pl.concat(
        [people, fresh.select(people.columns), babies.select(people.columns)],
        how="vertical_relaxed",
    )
    state.people = people
    # New records: fresh people, babies, known people at a new agency, deaths.
    events = [fresh_events, _events_for(babies, ("BIRTH_RECORD", "MEDICAID"), day)]
    events.append(_events_for(known, NEW_RECORD_PROGRAMS, day, rng))
    events.append(_events_for(dying, ("DEATH_RECORD",), day))
    new_events = pl.concat([e.select(fresh_events.columns) for e in events])
    subjects = people.filter(pl.col("person_id").is_in(new_events["person_id"].unique().implode()))
    new_records, new_events = client_records(subjects, new_events, config.errors, rng)
    # Records first seen before this week would be old news: each is seen this week.
    new_records = new_records.with_columns(pl.lit(day, pl.Int64).alias("record_day"))
    new_records, new_events = renumber(new_records, new_events, rng, config.errors, state.offsets)
    kind = (
        pl.when(pl.col("person_id").is_in(fresh["person_id"].implode()))
        .then(pl.lit("new_person"))
        .when(pl.col("person_id").is_in(babies["person_id"].implode()))
        .then(pl.lit("birth"))
        .when(pl.col("person_id").is_in(dying["person_id"].implode()))
        .then(pl.lit("death"))
        .otherwise(pl.lit("new_record"))
    )
    changes.append(new_records.select("agency", "client_seq", "person_id", kind.alias("change")))
    # New versions of held records.
    updated = _updates(
        state.records,
        people,
        brides["person_id"],
        movers["household_id"],
        rng,
        count("corrections"),
    )
    changes.append(updated.select("agency", "client_seq", "person_id", "change"))
    updated = updated.drop("change")
    # Records closed: an agency closes open cases, sending each episode again with its end.
    closed = _closures(state, alive, day, rng)
    if len(closed):
        key = ["agency", "client_seq"]
        changes.append(
            closed.select(*key, "person_id")
            .unique(subset=key, maintain_order=True)
            .with_columns(pl.lit("closed").alias("change"))
        )
    if state.events is not None:
        held = state.events
        if "placement_household" in held.columns and "placement_household" not in new_events:
            # A week's new episodes place no child; a closed placement keeps its home.
            new_events = new_events.with_columns(
                pl.lit(None, pl.Int64).alias("placement_household")
            )
        if len(closed):
            held = held.join(
                closed.select("agency", "event_seq"), on=["agency", "event_seq"], how="anti"
            )
        state.events = pl.concat(
            [held, closed.select(held.columns), new_events.select(held.columns)],
            how="vertical_relaxed",
        )
    if len(closed):
        new_events = pl.concat(
            [new_events, closed.select(new_events.columns)], how="vertical_relaxed"
        )
    records = state.records
    if len(updated):
        key = ["agency", "client_seq"]
        records = records.join(updated.select(key), on=key, how="anti")
        records = pl.concat([records, updated.select(records.columns)])
    state.records = pl.concat(
        [records, new_records.select(records.columns)], how="vertical_relaxed"
    )
    return _write(out, week, day, new_records, updated, new_events, state, pl.concat(changes))


def _closures(
    state: Moving, alive: pl.DataFrame, day: int, rng: np.random.Generator
) -> pl.DataFrame:
    """Open episodes (started, not ended: cases earlier weeks opened) of living people's
    records that their agency closes this week, each with its end set to today. Only
    events and records the hub holds as sent (no event or record error), so a closure is
    a new version of a held event."""
    if state.events is None:
        return pl.DataFrame()
    clean = state.records.filter(pl.col("errors").list.len() == 0).select("agency", "client_seq")
    open_ = state.events.filter(
        pl.col("event_error").is_null()
        & (pl.col("start_day") < day)
        & (pl.col("end_day").is_null() | (pl.col("end_day") > day))
        & ~pl.col("program").str.ends_with("_RECORD")
        & pl.col("person_id").is_in(alive["person_id"].implode())
    ).join(clean, on=["agency", "client_seq"], how="semi")
    k = int(rng.poisson(CLOSE_SHARE * len(open_))) if len(open_) else 0
    chosen = open_.sample(min(k, len(open_)), seed=_seed(rng))
    return chosen.with_columns(pl.lit(day, pl.Int64).alias("end_day"))


def _seed(rng: np.random.Generator) -> int:
    return int(rng.integers(0, 2**31))


def _births(
    mothers: pl.DataFrame, rng: np.random.Generator, day: int, state: Moving
) -> pl.DataFrame:
    k = len(mothers)
    sex = np.where(rng.random(k) < 0.5, "M", "F").astype(object)
    ids = np.arange(state.next_person, state.next_person + k, dtype=np.int64)
    state.next_person += k
    return mothers.with_columns(
        pl.Series("person_id", ids),
        pl.lit("child").alias("role"),
        pl.Series("sex", sex, dtype=pl.String),
        pl.Series("first_name", _first_names(rng, sex), dtype=pl.String),
        pl.Series("middle_name", _first_names(rng, sex), dtype=pl.String),
        pl.col("last_name").alias("birth_last_name"),
        pl.col("first_name").alias("mother_first_name"),
        pl.col("birth_last_name").alias("mother_last_name"),
        pl.col("dob_day").alias("mother_dob_day"),
        pl.lit(day, pl.Int64).alias("dob_day"),
        pl.lit(False).alias("moved"),
        pl.lit(-(10**6)).alias("marriage_day"),
        pl.lit(False).alias("divorce_reverts"),
        pl.lit(None, pl.String).alias("name_suffix"),
        pl.lit(None, pl.String).alias("lookalike_kind"),
        pl.lit(-1, pl.Int64).alias("lookalike_of"),
        pl.lit(None, pl.String).alias("ssn"),
        pl.lit(False).alias("veteran"),
        pl.lit(None, pl.Int64).alias("death_day"),
    )


def _events_for(
    people: pl.DataFrame,
    programs: tuple[str, ...],
    day: int,
    rng: np.random.Generator | None = None,
) -> pl.DataFrame:
    """One event a person starts this week: every program, or one drawn (``rng``)."""
    if rng is None:
        pairs = [(pid, code) for pid in people["person_id"] for code in programs]
    else:
        picks = rng.integers(0, len(programs), len(people))
        pairs = [(pid, programs[i]) for pid, i in zip(people["person_id"], picks, strict=True)]
    codes = [c for _, c in pairs]
    types = [
        PROGRAM_BY_CODE[c].service_types[0] if c in PROGRAM_BY_CODE else "CERTIFICATE"
        for c in codes
    ]
    return pl.DataFrame(
        {
            "person_id": [p for p, _ in pairs],
            "agency": [PROGRAM_AGENCY[c] for c in codes],
            "program": codes,
            "service_type": types,
            "start_day": [day] * len(pairs),
            "end_day": [day if c.endswith("_RECORD") else None for c in codes],
            "amount": [
                PROGRAM_BY_CODE[c].mean_amount if c in PROGRAM_BY_CODE else None for c in codes
            ],
        },
        schema={
            "person_id": pl.Int64,
            "agency": pl.String,
            "program": pl.String,
            "service_type": pl.String,
            "start_day": pl.Int64,
            "end_day": pl.Int64,
            "amount": pl.Float64,
        },
    )


def _move(
    people: pl.DataFrame, households_moving: pl.Series, rng: np.random.Generator, day: int
) -> pl.DataFrame:
    k = len(households_moving)
    if not k:
        return people
    number = rng.integers(1, 9999, k).astype(str)
    street = ref.surnames().names[rng.integers(0, 3000, k)].astype(str)
    suffix = ref.STREET_SUFFIXES[rng.integers(0, len(ref.STREET_SUFFIXES), k)].astype(str)
    county = rng.integers(0, len(ref.COUNTIES), k)
    new = pl.DataFrame(
        {
            "household_id": households_moving,
            "_line": [f"{a} {b} {c}" for a, b, c in zip(number, street, suffix, strict=True)],
            "_zip": [str(ref.COUNTIES[c][2] * 100 + int(rng.integers(1, 100))) for c in county],
            "_county": [ref.COUNTIES[c][0] for c in county],
            "_city": [
                ref.CITY_WORDS[ref.COUNTIES[c][2] % len(ref.CITY_WORDS)]
                + ref.CITY_ENDINGS[(ref.COUNTIES[c][2] // 7) % len(ref.CITY_ENDINGS)]
                for c in county
            ],
        }
    )
    moving = pl.col("_line").is_not_null()
    return (
        people.join(new, on="household_id", how="left")
        .with_columns(
            *(
                pl.when(moving).then(pl.col(c)).otherwise(pl.col(f"prev_{c}")).alias(f"prev_{c}")
                for c in ("address_line", "zip", "city", "county")
            ),
        )
        .with_columns(
            pl.coalesce("_line", "address_line").alias("address_line"),
            pl.coalesce("_zip", "zip").alias("zip"),
            pl.coalesce("_county", "county").alias("county"),
            pl.coalesce("_city", "city").alias("city"),
            (pl.col("moved") | moving).alias("moved"),
            pl.when(moving).then(pl.lit(day)).otherwise("move_day").alias("move_day"),
        )
        .drop("_line", "_zip", "_county", "_city")
    )


def _updates(
    records: pl.DataFrame,
    people: pl.DataFrame,
    married: pl.Series,
    moved: pl.Series,
    rng: np.random.Generator,
    corrections: int,
) -> pl.DataFrame:
    """New versions of held records: corrections of name and birth-date errors, new
    addresses of movers, new surnames of the newly married (as their agencies hear)."""
    truth = people.select(
        "person_id",
        pl.col("first_name").alias("_first"),
        pl.col("last_name").alias("_last"),
        pl.from_epoch("dob_day", time_unit="d").alias("_dob"),
        pl.col("address_line").alias("_line"),
        pl.col("zip").alias("_zip"),
        pl.col("county").alias("_county"),
        pl.col("city").alias("_city"),
    )
    wrong = records.filter(
        pl.col("errors").list.eval(pl.element().is_in(list(_NAME_AND_DOB_ERRORS))).list.any()
    )
    fixed = wrong.sample(min(corrections, len(wrong)), seed=_seed(rng)).join(truth, on="person_id")
    fixed = fixed.with_columns(
        pl.col("_first").alias("first_name"),
        pl.col("_last").alias("last_name"),
        pl.col("_dob").alias("dob"),
        pl.col("errors")
        .list.eval(pl.element().filter(~pl.element().is_in(list(_NAME_AND_DOB_ERRORS))))
        .alias("errors"),
        pl.lit("correction").alias("change"),
    )
    told = pl.Series(rng.random(len(records)) < TOLD_SHARE)
    records = records.with_columns(told.alias("_told"))
    movers = records.filter(pl.col("household_id").is_in(moved.implode()) & pl.col("_told"))
    movers = movers.join(truth, on="person_id").with_columns(
        pl.col("_line").alias("address_line"),
        pl.col("_zip").alias("zip"),
        pl.col("_county").alias("county"),
        pl.col("_city").alias("city"),
        pl.col("errors").list.eval(pl.element().filter(pl.element() != "stale_address")),
        pl.lit("move").alias("change"),
    )
    wed = records.filter(pl.col("person_id").is_in(married.implode()) & pl.col("_told"))
    wed = wed.join(truth, on="person_id").with_columns(
        pl.col("_last").alias("last_name"), pl.lit("marriage").alias("change")
    )
    columns = [c for c in records.columns if c != "_told"]
    out = pl.concat([f.select(*columns, "change") for f in (fixed, movers, wed)])
    # A record changed twice in a week is sent once, in its last version.
    return out.unique(subset=["agency", "client_seq"], keep="last", maintain_order=True)


def _write(
    out: Path,
    week: int,
    day: int,
    new_records: pl.DataFrame,
    updated: pl.DataFrame,
    events: pl.DataFrame,
    state: Moving,
    changes: pl.DataFrame,
) -> dict[str, Any]:
    from crosswalk.synth.state import _client_id  # the agencies' id formats

    folder = out / "weeks" / f"{week:02d}"
    sink = Sink()
    sent = (
        pl.concat([new_records.select(updated.columns), updated]) if len(updated) else new_records
    )
    agencies = []
    for agency, e in EXTRACTS.items():
        clients = sent.filter(pl.col("agency") == agency)
        ev = events.filter(pl.col("agency") == agency)
        if not len(clients) and not len(ev):
            continue
        where = folder / "agencies" / agency
        where.mkdir(parents=True, exist_ok=True)
        entry: dict[str, Any] = {"agency": agency, "clients": None, "events": None}
        if len(clients):
            sink.extract(e, client_frame(e, clients), where / e.file("clients"))
            entry["clients"] = str(Path("agencies") / agency / e.file("clients"))
        if len(ev):
            sink.extract(e, event_frame(e, ev), where / e.file("events"))
            entry["events"] = str(Path("agencies") / agency / e.file("events"))
        entry["client_rows"], entry["event_rows"] = len(clients), len(ev)
        agencies.append(entry)
    sink.close()
    (folder / "truth").mkdir(parents=True, exist_ok=True)
    key = pl.concat_str([pl.col("agency"), pl.lit(":"), _client_id()]).alias("record_key")
    state.records.select(
        key,
        "agency",
        _client_id().alias("source_record_id"),
        "person_id",
        "household_id",
        "duplicate",
        "errors",
    ).sort("record_key").write_parquet(folder / "truth" / "records.parquet")
    changes.select(key, "person_id", "change").sort("record_key").write_parquet(
        folder / "truth" / "changes.parquet"
    )
    if state.events is not None:
        # Who lives with whom as the state stands after the week (births and moves
        # included), as the initial state's truth says it.
        membership(state.people, state.events).write_parquet(
            folder / "truth" / "household_members.parquet"
        )
    by_change = dict(changes.group_by("change").len().sort("change").iter_rows())

    summary = {
        "week": week,
        "date": (date(1970, 1, 1) + timedelta(days=day)).isoformat(),
        "updates": True,
        "agencies": agencies,
        "new_records": len(new_records),
        "updated_records": len(updated),
        "service_events": len(events),
        "changes": by_change,
    }
    (folder / "manifest.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary
