"""What the ground truth says about a state: true cross-agency overlap."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl


@dataclass(frozen=True)
class TrueOverlap:
    people_by_agency_count: dict[int, int]  # number of agencies -> people known to that many
    top_pairs: list[tuple[str, str, int]]  # (agency, agency, people known to both)


def true_overlap(state_dir: str | Path, top: int = 8) -> TrueOverlap:
    """How many people each number of agencies knows, and the largest agency pairs."""
    records = pl.read_parquet(
        Path(state_dir) / "truth" / "records.parquet", columns=["agency", "person_id"]
    ).unique()
    per_person = records.group_by("person_id").agg(pl.len().alias("agencies"))
    counts = per_person.group_by("agencies").len().sort("agencies")
    pairs = (
        records.join(records, on="person_id", suffix="_b")
        .filter(pl.col("agency") < pl.col("agency_b"))
        .group_by("agency", "agency_b")
        .len()
        .sort("len", "agency", "agency_b", descending=[True, False, False])
        .head(top)
    )
    return TrueOverlap(
        dict(zip(counts["agencies"].to_list(), counts["len"].to_list(), strict=True)),
        [(a, b, n) for a, b, n in pairs.iter_rows()],
    )
