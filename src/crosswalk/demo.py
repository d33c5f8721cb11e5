"""The main job on the embedded default, end to end, on a fresh synthetic state.

``crosswalk demo`` (and ``make demo``) generates a synthetic state, ingests all 13
agencies into a fresh hub, links person records into enterprise persons and reports what
each step produced, with the linkage scored against the ground truth. Each step is the library
function a user would call; the demo only chains them.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from crosswalk.identity import Evaluation, LinkResult, evaluate, link
from crosswalk.ingest import IngestResult, ingest_state
from crosswalk.synth import Manifest, synth

Step = Callable[[str], None]


@dataclass(frozen=True)
class DemoResult:
    out: Path
    hub: Path
    manifest: Manifest
    ingested: list[IngestResult]
    linked: LinkResult
    evaluation: Evaluation


def demo(
    out: str | Path = "demo-out", people: int = 20_000, seed: int = 7, step: Step | None = None
) -> DemoResult:
    """Generate a state into ``out/state``, ingest it into a fresh ``out/hub.duckdb``, link
    its person records (charts in ``out/charts``) and evaluate against the ground truth."""
    say = step or (lambda message: None)
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    say(f"generating a synthetic state of {people:,} people")
    manifest = synth(people=people, seed=seed, out=out / "state")
    hub = out / "hub.duckdb"
    say("ingesting the 13 agencies' extracts")
    ingested = ingest_state(out / "state", hub=hub)
    say("linking person records across agencies")
    linked = link(hub, charts=out / "charts")
    say("evaluating the person index against the ground truth")
    evaluation = evaluate(out / "state" / "truth", hub)
    return DemoResult(out, hub, manifest, ingested, linked, evaluation)
