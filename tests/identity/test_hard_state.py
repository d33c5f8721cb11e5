"""Linkage of the hard synthetic state: fewer SSNs, more DOB errors, no county, twins with
different names and no SSN, juniors without suffixes, middle names used as first."""

from tests.evaluation import evaluate_index

from crosswalk.identity import link
from crosswalk.ingest import ingest_state
from crosswalk.synth import hard_config, synth


def test_hard_state(tmp_path):
    synth(people=2500, seed=21, out=tmp_path / "state", config=hard_config())
    hub = tmp_path / "hub.duckdb"
    control = f"sqlite:///{tmp_path}/control.db"
    ingest_state(tmp_path / "state", hub=hub, control=control)
    result = link(hub, control=control)
    assert "county: empty in every agency's records, left out" in result.messages
    e = evaluate_index(tmp_path / "state" / "truth", hub)
    assert e.pairwise_f1 >= 0.98 and e.bcubed_f1 >= 0.99, e
    assert e.blocking_recall is not None and e.blocking_recall >= 0.99, e
    joined = e.false_positives_by_lookalike
    # A junior whose only record has no DOB and the father's middle name cannot be told
    # from his father by anything but an SSN the father's records lack: at most one.
    assert joined.get("twins", 0) == 0 and joined.get("junior_senior", 0) <= 1, joined
