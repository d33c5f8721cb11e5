"""Progress bars say what is being done with its counts, move through long steps, and
estimate the time left."""

from __future__ import annotations

import shutil
from itertools import pairwise
from pathlib import Path

from rich.console import Console

from crosswalk.cli.progress import progress_bar, time_left
from crosswalk.identity import link
from crosswalk.synth import SynthConfig, synth


def _collect() -> tuple[list[tuple[str, float]], object]:
    seen: list[tuple[str, float]] = []
    return seen, lambda what, done: seen.append((what, done))


def test_synth_reports_each_step_with_its_counts(tmp_path: Path) -> None:
    seen, report = _collect()
    synth(people=3000, seed=2, out=tmp_path / "s", progress=report,
          config=SynthConfig(chunk_people=1000))  # fmt: skip
    fractions = [d for _, d in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    # Three chunks of population, services, records, 13 extracts and truth each.
    assert len(seen) >= 3 * 17
    assert any("people and households 2,001-3,000" in w for w, _ in seen)
    assert any("(13 of 13 agencies" in w for w, _ in seen)
    # No step takes a big jump: the bar moves through the work, not only at its end.
    assert max(b - a for a, b in pairwise(fractions)) < 0.25


def test_link_reports_the_training_steps(linked_hub: Path, tmp_path: Path) -> None:
    hub = tmp_path / "hub.duckdb"
    shutil.copy(linked_hub, hub)
    seen, report = _collect()
    link(hub, progress=report, full=True)
    steps = [w for w, _ in seen]
    assert any(w.startswith("training: u from") for w in steps)
    assert any(w.startswith("training: m by EM on block 1 of") for w in steps)
    assert any("records by" in w and "scored pairs" in w for w in steps)
    fractions = [d for _, d in seen]
    assert fractions == sorted(fractions)


def test_time_left_follows_the_pace_so_far() -> None:
    assert time_left(0.5, 0.5) is None  # too soon to say
    assert time_left(30.0, 0.01) is None  # too little done to say
    assert time_left(10.0, 0.25) == 30.0
    assert time_left(10.0, 1.0) == 0.0


def test_the_bar_shows_the_step_and_its_share() -> None:
    console = Console(record=True, width=160, force_terminal=True)
    with progress_bar("synthetic state", console=console) as report:
        report("agency records for 65,526 service events", 0.4)
    text = console.export_text()
    assert "synthetic state: agency records for 65,526 service events" in text
    assert "40%" in text
