"""Build a whole synthetic state: population, agency extracts, ground truth, manifest."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from crosswalk.synth.config import ErrorRates, SynthConfig
from crosswalk.synth.extracts import EXTRACTS, client_frame, event_frame
from crosswalk.synth.families import membership, placements
from crosswalk.synth.population import households
from crosswalk.synth.programs import service_events
from crosswalk.synth.records import client_records
from crosswalk.synth.sink import Sink
from crosswalk.synth.weekly import Moving, write_weeks

Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class AgencyFiles:
    agency: str
    clients: str
    events: str
    format: str
    delimiter: str | None
    encoding: str | None
    client_rows: int
    event_rows: int


@dataclass(frozen=True)
class Manifest:
    people: int
    seed: int
    households: int
    agency_records: int
    service_events: int
    agencies: tuple[AgencyFiles, ...]
    config: dict
    out: str
    weeks: tuple[dict, ...] = ()

    def to_dict(self) -> dict:
        return asdict(self)


# Share of a chunk's time in each step (measured at 200,000 people; records include
# renumbering), so the bar moves evenly; then the share of writing the buffered Excel
# extracts when the state's files close.
_STEP_SHARE = {"people": 0.19, "services": 0.05, "records": 0.37, "extracts": 0.16, "truth": 0.23}
_CLOSE_SHARE = 0.22


def _chunk(
    config: SynthConfig,
    index: int,
    first_person: int,
    people: int,
    step: Callable[[str, str], None],
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    rng = np.random.default_rng([config.seed, index])
    part = config.model_copy(update={"people": people})
    last = first_person + people
    step("people", f"people and households {first_person + 1:,}-{last:,}")
    persons = households(part, rng, first_person=first_person)
    step("services", f"services of {len(persons):,} people")
    events = service_events(persons, config.reference_date, rng)
    events, carers = placements(persons, events, rng)
    step("records", f"agency records for {len(events):,} service events")
    records, events = client_records(persons, events, config.errors, rng, carers)
    return persons, records, events


def synth(
    people: int = 10_000,
    seed: int = 7,
    out: str | Path = "synthetic-state",
    config: SynthConfig | None = None,
    progress: Progress | None = None,
    weeks: int = 0,
) -> Manifest:
    """Generate a synthetic state into ``out`` and return its manifest; with ``weeks``,
    also that many weekly update batches after it (``out/weeks/NN``, see
    ``crosswalk.synth.weekly``).

    Example:
        >>> synth(people=2000, seed=7, out="state")  # doctest: +SKIP
    """
    config = (config or SynthConfig()).model_copy(update={"people": people, "seed": seed})
    out = Path(out)
    (out / "truth").mkdir(parents=True, exist_ok=True)
    for agency in EXTRACTS:
        (out / "agencies" / agency).mkdir(parents=True, exist_ok=True)
    report = progress or (lambda stage, done: None)
    sink = Sink()
    offsets = _Offsets()
    offset_person = households_seen = records_seen = events_seen = 0
    n_chunks = max(1, -(-people // config.chunk_people))
    steps = list(_STEP_SHARE)
    kept: list[tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]] = []  # for weeks
    for i in range(n_chunks):
        size = min(config.chunk_people, people - offset_person)

        def step(
            name: str, what: str, within: float = 0.0, size: int = size, base: int = offset_person
        ) -> None:
            # Each step's share of this chunk, the chunks weighted by their people.
            start = sum(_STEP_SHARE[s] for s in steps[: steps.index(name)])
            chunk_share = (start + _STEP_SHARE[name] * within) * size / people
            report(what, (1 - _CLOSE_SHARE) * (base / people + chunk_share))

        persons, records, events = _chunk(config, i, offset_person, size, step)
        records, events = _renumber(
            records, events, np.random.default_rng([seed, 10**6, i]), config.errors, offsets
        )
        for a, (agency, e) in enumerate(EXTRACTS.items()):
            step(
                "extracts",
                f"{agency} extract ({a + 1} of {len(EXTRACTS)} agencies, {len(records):,} records)",
                a / len(EXTRACTS),
            )
            folder = out / "agencies" / agency
            sink.extract(
                e,
                client_frame(e, records.filter(pl.col("agency") == agency)),
                folder / e.file("clients"),
            )
            sink.extract(
                e,
                event_frame(e, events.filter(pl.col("agency") == agency)),
                folder / e.file("events"),
            )
        step("truth", f"ground truth of {len(persons):,} people")
        _write_truth(sink, out, persons, records, events)
        if weeks:
            kept.append((persons, records, events))
        offset_person += size
        households_seen += persons["household_id"].n_unique()
        records_seen += len(records)
        events_seen += len(events)
    report("writing the Excel extracts, closing files", 1 - _CLOSE_SHARE)
    sink.close()
    files = [
        AgencyFiles(
            agency=agency,
            clients=str(Path("agencies") / agency / e.file("clients")),
            events=str(Path("agencies") / agency / e.file("events")),
            format=e.format,
            delimiter=e.delimiter if e.format == "csv" else None,
            encoding=e.encoding if e.format == "csv" else None,
            client_rows=sink.rows.get(out / "agencies" / agency / e.file("clients"), 0),
            event_rows=sink.rows.get(out / "agencies" / agency / e.file("events"), 0),
        )
        for agency, e in EXTRACTS.items()
    ]
    summaries: list[dict] = []
    if weeks:
        report(f"{weeks} weekly update batches", 1 - _CLOSE_SHARE / 2)
        moving = Moving(
            pl.concat([p for p, _, _ in kept]),
            pl.concat([r for _, r, _ in kept]),
            offsets,
            offset_person,
            pl.concat([e for _, _, e in kept]),
        )
        summaries = write_weeks(moving, config, weeks, out, _renumber)
    manifest = Manifest(
        people=offset_person,
        seed=seed,
        households=households_seen,
        agency_records=records_seen,
        service_events=events_seen,
        agencies=tuple(files),
        config=config.model_dump(),
        out=str(out),
        weeks=tuple(summaries),
    )
    (out / "manifest.json").write_text(json.dumps(manifest.to_dict(), indent=2) + "\n")
    report("done", 1.0)
    return manifest


@dataclass
class _Offsets:
    """Client and event ids issued so far per agency, so ids stay unique across chunks."""

    clients: dict[str, int] = field(default_factory=lambda: dict.fromkeys(EXTRACTS, 0))
    events: dict[str, int] = field(default_factory=lambda: dict.fromkeys(EXTRACTS, 0))


def _number(
    frame: pl.DataFrame, rng: np.random.Generator, issued: dict[str, int], name: str
) -> pl.DataFrame:
    """Sequential ids per agency in a random order (ids carry no order of the truth)."""
    start = pl.col("agency").replace_strict(issued, return_dtype=pl.Int64)
    numbered = (
        frame.with_columns(pl.Series("_r", rng.random(len(frame))))
        .sort("agency", "_r")
        .with_columns((start + pl.int_range(pl.len()).over("agency") + 1).alias(name))
        .drop("_r")
    )
    for agency, n in numbered.group_by("agency").len().iter_rows():
        issued[agency] += n
    return numbered


def _renumber(
    records: pl.DataFrame,
    events: pl.DataFrame,
    rng: np.random.Generator,
    rates: ErrorRates,
    offsets: _Offsets,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Client and event ids unique per agency across chunks; Medicaid ids from HFS."""
    records = _number(records, rng, offsets.clients, "new_seq")
    key = ["agency", "person_id", "client_seq"]
    events = events.join(records.select(*key, "new_seq", "county"), on=key, how="left")
    records = records.drop("client_seq").rename({"new_seq": "client_seq"})
    events = _number(
        events.drop("client_seq").rename({"new_seq": "client_seq"}),
        rng,
        offsets.events,
        "event_seq",
    )
    u = rng.random(len(events))
    bad_date = rates.event_bad_date
    events = events.with_columns(
        pl.when(pl.Series(u < bad_date))
        .then(pl.lit("bad_date"))
        .when(pl.Series(u < bad_date + rates.event_unknown_program))
        .then(pl.lit("unknown_program"))
        .alias("event_error")
    )
    hfs = EXTRACTS["hfs"]
    medicaid = records.filter((pl.col("agency") == "hfs") & ~pl.col("duplicate")).select(
        "person_id",
        (
            pl.lit(hfs.id_prefix) + pl.col("client_seq").cast(pl.String).str.zfill(hfs.id_width)
        ).alias("medicaid_id"),
    )
    known = pl.Series(rng.random(len(records)) < 0.8)
    records = records.join(medicaid, on="person_id", how="left").with_columns(
        pl.when(known).then("medicaid_id").alias("medicaid_id")
    )
    return records, events


def _write_truth(
    sink: Sink, out: Path, persons: pl.DataFrame, records: pl.DataFrame, events: pl.DataFrame
) -> None:
    day = pl.from_epoch
    ids = pl.concat_str([pl.col("agency"), pl.lit(":"), _client_id()]).alias("record_key")
    records.select(
        ids,
        "agency",
        _client_id().alias("source_record_id"),
        "person_id",
        "household_id",
        "duplicate",
        "errors",
    ).sort("record_key").pipe(sink.parquet, out / "truth" / "records.parquet")
    persons.select(
        "person_id",
        "household_id",
        "role",
        "sex",
        "first_name",
        "middle_name",
        "last_name",
        "birth_last_name",
        "name_suffix",
        day("dob_day", time_unit="d").alias("dob"),
        "ssn",
        "address_line",
        "city",
        "zip",
        "county",
        "phone",
        "veteran",
        "income",
        day("death_day", time_unit="d").alias("death_date"),
        pl.when(pl.col("marriage_day") > 0)
        .then(day("marriage_day", time_unit="d"))
        .alias("marriage_date"),
        pl.when(pl.col("moved")).then(day("move_day", time_unit="d")).alias("move_date"),
    ).pipe(sink.parquet, out / "truth" / "people.parquet")
    persons.group_by("household_id").agg(
        pl.col("htype").first().alias("household_type"),
        pl.len().alias("members"),
        pl.col("county").first(),
    ).sort("household_id").pipe(sink.parquet, out / "truth" / "households.parquet")
    membership(persons, events).pipe(sink.parquet, out / "truth" / "household_members.parquet")
    persons.filter(pl.col("lookalike_kind").is_not_null()).select(
        pl.col("lookalike_of").alias("person_id_a"),
        pl.col("person_id").alias("person_id_b"),
        pl.col("lookalike_kind").alias("kind"),
    ).pipe(sink.parquet, out / "truth" / "lookalikes.parquet")
    events.select(
        "agency",
        (pl.lit("E") + pl.col("event_seq").cast(pl.String).str.zfill(9)).alias("source_event_id"),
        _client_id().alias("source_record_id"),
        "person_id",
        "program",
        "event_error",
        day("start_day", time_unit="d").alias("start_date"),
        day("end_day", time_unit="d").alias("end_date"),
    ).sort("agency", "source_event_id").pipe(sink.parquet, out / "truth" / "events.parquet")


def _client_id() -> pl.Expr:
    """The agency client id, built the way each agency formats it."""
    expr: Any = None
    for agency, e in EXTRACTS.items():
        value = pl.lit(e.id_prefix) + pl.col("client_seq").cast(pl.String).str.zfill(e.id_width)
        expr = (
            pl.when(pl.col("agency") == agency).then(value)
            if expr is None
            else expr.when(pl.col("agency") == agency).then(value)
        )
    assert expr is not None
    return expr.otherwise(None)
