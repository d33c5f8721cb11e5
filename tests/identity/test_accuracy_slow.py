"""The linkage accuracy target on a larger state, in the reduced size CI can afford."""

import pytest
from tests.evaluation import evaluate_index

from crosswalk.identity import link
from crosswalk.ingest import ingest_state
from crosswalk.synth import synth


@pytest.mark.slow
def test_accuracy_on_a_20k_state(tmp_path):
    synth(people=20_000, seed=3, out=tmp_path / "state")
    hub = tmp_path / "hub.duckdb"
    ingest_state(tmp_path / "state", hub=hub)
    link(hub)
    e = evaluate_index(tmp_path / "state" / "truth", hub)
    assert e.pairwise_f1 >= 0.98 and e.bcubed_f1 >= 0.98
    assert e.blocking_recall is not None and e.blocking_recall >= 0.995
