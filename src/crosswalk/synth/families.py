"""Foster placements and the households people belong to over time.

A child in foster care lives, for the time of each placement, in a foster household: one
of the state's couples, chosen at random, whose adults child welfare records as its
resource parents (client records of their own, with the foster home's household id). The
placement's service event carries that household id, as a child-welfare system records
the home a child is placed in. After a placement the child is back with the birth family.

The truth (``truth/household_members.parquet``) says who belongs to which household from
when to when: everyone to their own household from before the window until their death,
except during their placements.
"""

from __future__ import annotations

import numpy as np
import polars as pl

# Households that foster: couples, with or without children of their own.
_FOSTERING = ("couple", "couple_kids")


def placements(
    persons: pl.DataFrame, events: pl.DataFrame, rng: np.random.Generator
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The events with ``placement_household`` (the foster household of each foster care
    episode, null for every other event), and the resource parents child welfare
    records: (person_id, agency, record_day) of the adults of each foster household, on
    the day of its first placement."""
    homes = (
        persons.filter(pl.col("htype").is_in(_FOSTERING) & pl.col("death_day").is_null())
        .select("household_id")
        .unique()
        .sort("household_id")["household_id"]
        .to_numpy()
    )
    foster = pl.col("program") == "FOSTER_CARE"
    n = int(events.select(foster.sum()).item())
    if not len(homes) or not n:
        return events.with_columns(pl.lit(None, pl.Int64).alias("placement_household")), (
            pl.DataFrame(
                schema={"person_id": pl.Int64, "agency": pl.String, "record_day": pl.Int64}
            )
        )
    # A small share of homes takes most children, as in a real state.
    chosen = homes[rng.integers(0, max(1, len(homes) // 20), n) % len(homes)]
    own = events.filter(foster).join(
        persons.select("person_id", pl.col("household_id").alias("_own")), on="person_id"
    )["_own"]
    # Never placed in the child's own household: the next home instead.
    clash = chosen == own.to_numpy()
    chosen[clash] = homes[(np.searchsorted(homes, chosen[clash]) + 1) % len(homes)]
    index = events.with_row_index("_i").filter(foster)["_i"]
    column = np.full(len(events), -1, dtype=np.int64)
    column[index.to_numpy()] = chosen
    events = events.with_columns(
        pl.Series("placement_household", column).replace(-1, None).cast(pl.Int64)
    )
    first = (
        events.filter(pl.col("placement_household").is_not_null())
        .group_by("placement_household")
        .agg(pl.col("start_day").min().alias("record_day"))
        .rename({"placement_household": "household_id"})
    )
    carers = (
        persons.filter(pl.col("role") != "child")
        .join(first, on="household_id")
        .select("person_id", pl.lit("dcfs").alias("agency"), "record_day")
        .sort("person_id")
    )
    return events, carers


def membership(persons: pl.DataFrame, events: pl.DataFrame) -> pl.DataFrame:
    """Who belongs to which household from when to when (both days included; a null
    start: since before the window, a null end: still a member): one's own household
    outside placements, the foster household during each (an episode that starts before
    the previous one ended starts the day after it)."""
    day = pl.from_epoch
    placed = (
        events.filter(pl.col("placement_household").is_not_null())
        .select(
            "person_id",
            pl.col("placement_household").alias("household_id"),
            "start_day",
            "end_day",
        )
        .sort("person_id", "start_day")
        if "placement_household" in events.columns
        else pl.DataFrame()
    )
    rows: list[tuple[int, int, int | None, int | None]] = []
    own = dict(persons.select("person_id", "household_id").iter_rows())
    death = dict(persons.select("person_id", "death_day").iter_rows())
    stays: dict[int, list[tuple[int, int, int | None]]] = {}
    for pid, home, start, end in placed.iter_rows() if len(placed) else ():
        stays.setdefault(pid, []).append((home, start, end))
    for pid, home in own.items():
        died = death[pid]
        last_day = died
        since: int | None = None  # start of the stretch at home (None: before the window)
        placed_for_good = False
        for foster_home, start, end in stays.get(pid, []):
            if since is not None and start < since:
                start = since
            if end is not None and end < start:
                continue
            if since is None or start > since:
                rows.append((pid, home, since, start - 1))
            rows.append((pid, foster_home, start, end))
            if end is None:
                placed_for_good = True
                break
            since = end + 1
        if not placed_for_good and (last_day is None or since is None or since <= last_day):
            rows.append((pid, home, since, last_day))
    frame = pl.DataFrame(
        rows,
        schema={
            "person_id": pl.Int64,
            "household_id": pl.Int64,
            "start_day": pl.Int64,
            "end_day": pl.Int64,
        },
        orient="row",
    )
    return frame.select(
        "person_id",
        "household_id",
        day("start_day", time_unit="d").alias("start_date"),
        day("end_day", time_unit="d").alias("end_date"),
    ).sort("person_id", "start_date", nulls_last=False)
