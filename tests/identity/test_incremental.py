"""Incremental linking against a full re-link, ids with history, and steward decisions
across both kinds of run, on a small state that moves (two weekly batches)."""

import shutil

import duckdb
import pytest
from tests.evaluation import evaluate_index
from tests.identity.batches import replace_batch_without

from crosswalk.access import Gate
from crosswalk.agreement import Principal
from crosswalk.errors import LinkageError, NotFound
from crosswalk.identity import history, link
from crosswalk.ingest import ingest_state
from crosswalk.synth import synth

STEWARD = Principal("cdo.linkage", "cdo", "linkage_steward")


@pytest.fixture(scope="module")
def weekly(tmp_path_factory):
    """A linked state (full run) and the same hub with week 1 loaded, not yet linked."""
    root = tmp_path_factory.mktemp("weekly")
    synth(people=1200, seed=11, out=root / "state", weeks=1)
    base = root / "base.duckdb"
    ingest_state(root / "state", hub=base)
    link(base)
    loaded = root / "week1.duckdb"
    shutil.copy(base, loaded)
    ingest_state(root / "state" / "weeks" / "01", hub=loaded)
    return root, base, loaded


@pytest.fixture(scope="module")
def week_linked(weekly, tmp_path_factory):
    """Week 1 linked incrementally once, for the tests that start from its index."""
    _, _, loaded = weekly
    hub = tmp_path_factory.mktemp("week-linked") / "hub.duckdb"
    shutil.copy(loaded, hub)
    return hub, link(hub)


def _copy(source, tmp_path, name="hub.duckdb"):
    target = tmp_path / name
    shutil.copy(source, target)
    return target


def _index(hub):
    con = duckdb.connect(str(hub), read_only=True)
    try:
        return dict(con.execute("SELECT record_key, enterprise_id FROM person_index").fetchall())
    finally:
        con.close()


def _sql(hub, sql, params=()):
    con = duckdb.connect(str(hub))
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def test_incremental_links_only_the_week_and_agrees_with_a_full_relink(
    weekly, week_linked, tmp_path
):
    root, base, loaded = weekly
    before = _index(base)
    hub, result = week_linked
    week = root / "state" / "weeks" / "01"
    assert result.kind == "incremental"
    manifest_rows = _sql(hub, "SELECT count(*) FROM person_record")[0][0] - len(before)
    # New records and new versions of held ones, nothing else.
    changed = _sql(hub, "SELECT count(*) FROM person_record_version")[0][0]
    assert result.records == manifest_rows + changed
    after = _index(hub)
    assert set(after) == set(_index(hub)) and len(after) == len(before) + manifest_rows
    incremental = evaluate_index(week / "truth", hub, f"sqlite:///{tmp_path}/control.db")
    full = _copy(loaded, tmp_path, "full.duckdb")
    # A full run shows what it would do to ids and writes nothing unless confirmed.
    shown = []
    with pytest.raises(LinkageError, match="not confirmed"):
        link(full, full=True, confirm=lambda changes: shown.append(changes) or False)
    assert shown and shown[0].kept > 0 and _index(full) == _index(loaded)
    full_result = link(full, full=True, confirm=lambda changes: True)
    assert full_result.kind == "full" and full_result.model_version == result.model_version + 1
    relinked = evaluate_index(week / "truth", full, f"sqlite:///{tmp_path}/control.db")
    assert abs(incremental.pairwise_f1 - relinked.pairwise_f1) <= 0.002
    # Persons none of whose records changed keep their ids.
    con = duckdb.connect(str(hub), read_only=True)
    changed_keys = {
        k for (k,) in con.execute("SELECT record_key FROM person_record_version").fetchall()
    }
    con.close()
    untouched = [k for k, eid in before.items() if k not in changed_keys]
    kept = sum(after[k] == before[k] for k in untouched)
    assert kept / len(untouched) >= 0.999
    # Each decided pair names the model version that scored it.
    versions = _sql(hub, "SELECT DISTINCT model_version FROM link_edge ORDER BY 1")
    assert versions == [(result.model_version,)]


def test_a_run_with_nothing_new_changes_nothing(weekly, tmp_path):
    _, base, _ = weekly
    hub = _copy(base, tmp_path)
    before = _index(hub)
    result = link(hub)
    assert (result.kind, result.records, result.candidate_pairs) == ("incremental", 0, 0)
    assert _index(hub) == before


def test_ids_have_history_and_as_of_lookups(week_linked, tmp_path):
    hub = _copy(week_linked[0], tmp_path)
    gate = Gate(hub, f"sqlite:///{tmp_path}/control.db")
    # Two persons of one record each, merged by a steward's decision.
    a, b = (
        r[0]
        for r in _sql(
            hub,
            """SELECT min(record_key) FROM person_index JOIN person_record USING (record_key)
            GROUP BY enterprise_id HAVING count(*) = 1 AND min(person_index.agency) NOT IN ('sud') AND bool_and(ssn IS NULL) ORDER BY 1 LIMIT 2""",
        )
    )
    ids = _index(hub)
    moment = _sql(hub, "SELECT now()::TIMESTAMP")[0][0]
    gate.review_decide("cdo.linkage", a, b, "match", "same birth certificate")
    link(hub)
    now = _index(hub)
    assert now[a] == now[b]
    survivor = now[a]
    retired = ids[b] if survivor == ids[a] else ids[a]
    con = duckdb.connect(str(hub), read_only=True)
    assert history.id_as_of(con, a, moment) == ids[a]
    assert history.id_as_of(con, b, moment) == ids[b]
    assert history.records_as_of(con, retired, moment) == [b if retired == ids[b] else a]
    assert history.successors(con, retired) == [survivor]
    con.close()
    found = gate.person_history(STEWARD, "linkage_review", retired)
    merged = [e for e in found.events if e["kind"] == "merged"]
    assert merged and merged[0]["other_id"] == survivor
    assert merged[0]["cause"] == "steward decision" and merged[0]["decided_by"] == "cdo.linkage"
    assert found.successors == [survivor]
    record = gate.record_history(STEWARD, "linkage_review", b, moment)
    assert record.id_on == ids[b] and [r["enterprise_id"] for r in record.ids][-1] == survivor
    # The person view follows the retired id to the person its records are in now.
    caseworker = Principal("cdo.linkage", "cdo", "linkage_steward")
    answer = gate.person(caseworker, "linkage_review", retired)
    assert answer.person == survivor and answer.followed_from == retired
    with pytest.raises(NotFound):
        gate.record_history(STEWARD, "linkage_review", "fcs:NO-SUCH-RECORD")


def _pair_in_one_person(hub):
    return _sql(
        hub,
        """SELECT e.record_key_l, e.record_key_r FROM link_edge e
        JOIN person_index a ON a.record_key = e.record_key_l
        JOIN person_index b ON b.record_key = e.record_key_r
        WHERE e.accepted AND a.enterprise_id = b.enterprise_id
          AND a.enterprise_id IN (SELECT enterprise_id FROM person_index GROUP BY 1 HAVING count(*) = 2)
        ORDER BY e.match_weight, 1 LIMIT 1""",
    )[0]


def test_decisions_override_the_model_both_ways_in_both_kinds_of_run(week_linked, tmp_path):
    hub = _copy(week_linked[0], tmp_path)
    gate = Gate(hub, f"sqlite:///{tmp_path}/control.db")
    a, b = _pair_in_one_person(hub)
    c, d = (
        r[0]
        for r in _sql(
            hub,
            """SELECT min(record_key) FROM person_index JOIN person_record USING (record_key)
            GROUP BY enterprise_id HAVING count(*) = 1 AND min(person_index.agency) NOT IN ('sud') AND bool_and(ssn IS NULL) ORDER BY 1 DESC LIMIT 2""",
        )
    )
    gate.review_decide("cdo.linkage", a, b, "no-match")
    gate.review_decide("cdo.linkage", c, d, "match")
    result = link(hub)
    assert result.kind == "incremental"
    ids = _index(hub)
    assert ids[a] != ids[b] and ids[c] == ids[d]
    assert result.changes["split"] >= 1 and result.changes["merged"] >= 1
    full = link(hub, full=True)
    assert full.kind == "full"
    ids = _index(hub)
    assert ids[a] != ids[b] and ids[c] == ids[d]
    # Reversed: the steward now says c and d are not the same; the next incremental run
    # splits them, and the first decision still holds.
    gate.review_decide("cdo.linkage", c, d, "no-match")
    link(hub)
    ids = _index(hub)
    assert ids[a] != ids[b] and ids[c] != ids[d]


def test_a_record_deleted_by_a_correction_batch_leaves_the_index(weekly, tmp_path):
    _, base, _ = weekly
    hub = _copy(base, tmp_path)
    gate = Gate(hub, f"sqlite:///{tmp_path}/control.db")
    a, b = _pair_in_one_person(hub)
    alone = _sql(
        hub,
        """SELECT min(record_key), min(enterprise_id) FROM person_index GROUP BY enterprise_id
        HAVING count(*) = 1 ORDER BY 1 LIMIT 1""",
    )[0]
    gate.review_decide("cdo.linkage", a, alone[0], "no-match")
    # As a correction batch replacing the batch that held them would.
    con = duckdb.connect(str(hub))
    replace_batch_without(con, [alone[0], b])
    con.close()
    result = link(hub)
    ids = _index(hub)
    assert alone[0] not in ids and b not in ids and a in ids
    assert result.deleted_records == 2
    assert any("no longer in the hub" in m for m in result.messages)
    con = duckdb.connect(str(hub), read_only=True)
    kinds = con.execute(
        "SELECT kind FROM enterprise_id_event WHERE enterprise_id = ? AND run_id = ?",
        [alone[1], result.run_id],
    ).fetchall()
    assert kinds == [("retired",)]
    assert history.records_as_of(con, alone[1], con.execute("SELECT now()").fetchall()[0][0]) == []
    con.close()


def test_a_model_that_does_not_match_the_hub_is_refused_and_changes_nothing(weekly, tmp_path):
    _, _, loaded = weekly
    hub = _copy(loaded, tmp_path)
    _sql(hub, "ALTER TABLE link_feature DROP COLUMN first_phonetic")
    before = _index(hub)
    runs = _sql(hub, "SELECT count(*) FROM link_run")
    with pytest.raises(LinkageError, match="does not match the hub's records") as refused:
        link(hub)
    assert "first_phonetic" in str(refused.value)
    assert _index(hub) == before and _sql(hub, "SELECT count(*) FROM link_run") == runs


def test_an_incremental_run_that_fails_leaves_the_index_as_it_was(weekly, tmp_path, monkeypatch):
    _, _, loaded = weekly
    hub = _copy(loaded, tmp_path)
    before = _index(hub)
    tables = _sql(hub, "SELECT count(*) FROM link_edge UNION ALL SELECT count(*) FROM link_feature")

    def stop(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("crosswalk.identity.linked.refresh_records", stop)
    with pytest.raises(KeyboardInterrupt):
        link(hub)
    assert _index(hub) == before
    assert (
        _sql(hub, "SELECT count(*) FROM link_edge UNION ALL SELECT count(*) FROM link_feature")
        == tables
    )


@pytest.mark.parametrize(
    ("settings", "says"),
    [
        ('["a list"]', "not a linkage model's settings"),
        ('{"comparisons": [{"output_column_name": "name", "comparison_levels":'
         ' [{"sql_condition": "first_name_l = = first_name_r"}]}]}', "is not SQL"),
        ('{"comparisons": [{"output_column_name": "passport", "comparison_levels":'
         ' [{"sql_condition": "passport_l = passport_r"}]}]}', "'passport'"),
    ],
)  # fmt: skip
def test_a_saved_model_that_is_no_model_of_this_hub_is_refused(weekly, tmp_path, settings, says):
    _, _, loaded = weekly
    hub = _copy(loaded, tmp_path)
    _sql(hub, "UPDATE link_model SET settings = ?", [settings])
    before = _index(hub)
    with pytest.raises(LinkageError, match="does not match the hub's records") as refused:
        link(hub)
    assert says in str(refused.value) + " ".join(str(p) for p in refused.value.problems)
    assert _index(hub) == before


def test_a_batch_changing_a_record_a_steward_decided_keeps_the_decision_and_says_so(
    weekly, tmp_path
):
    import polars as pl

    from crosswalk.ingest import ingest, load_mapping

    root, base, _ = weekly
    hub = _copy(base, tmp_path)
    gate = Gate(hub, f"sqlite:///{tmp_path}/control.db")
    # Two of the health agency's records, each a person of its own.
    (c, c_id), (d, d_id) = _sql(
        hub,
        """SELECT min(i.record_key), min(i.source_record_id) FROM person_index i
        WHERE i.agency = 'hfs' GROUP BY i.enterprise_id HAVING count(*) = 1 ORDER BY 1 LIMIT 2""",
    )
    gate.review_decide("cdo.linkage", c, d, "no-match", "two people, one name")
    before = _index(hub)
    # The agency then sends record d again with c's identifying fields.
    column = load_mapping("hfs").clients.columns["source_record_id"]
    clients = pl.read_parquet(root / "state" / "agencies" / "hfs" / "clients.parquet")
    row = clients.filter(pl.col(column) == c_id).with_columns(pl.lit(d_id).alias(column))
    sent = tmp_path / "hfs-update.parquet"
    row.write_parquet(sent)
    ingest("hfs", [str(sent)], hub=hub, kinds=["clients"], updates=True)
    result = link(hub)
    after = _index(hub)
    # The decision holds; no other record changes its person (d may join others of c's
    # true person's records that the index holds apart from c, never c).
    assert after[c] != after[d]
    assert {k: v for k, v in after.items() if k != d} == {k: v for k, v in before.items() if k != d}
    said = [m for m in result.messages if f"record {d} was changed" in m]
    assert len(said) == 1
    assert said[0].startswith(f"{sent}, row 1, field ")
    assert f"no-match decision on {d} ~ {c}" in said[0] and "the decision holds" in said[0]


def _households(con):
    return sorted(
        con.execute(
            """SELECT household_id, enterprise_id, agency, valid_from, valid_to, basis
            FROM household_member"""
        ).fetchall(),
        key=repr,
    )


def test_an_incremental_run_builds_only_the_households_it_touches_and_as_a_full_build_would(
    week_linked, tmp_path
):
    from crosswalk.identity import households

    hub = _copy(week_linked[0], tmp_path)
    con = duckdb.connect(str(hub))
    try:
        after_week = _households(con)
        linked_rows = con.execute("SELECT count(*) FROM linked_household").fetchall()[0][0]
        run = con.execute(
            "SELECT run_id FROM link_run WHERE kind = 'incremental' ORDER BY started_at DESC"
        ).fetchall()[0][0]
        # The week's run rebuilt only part of the index's households.
        rebuilt, total = con.execute(
            "SELECT count(*) FILTER (WHERE link_run_id = ?), count(*) FROM household_member",
            [run],
        ).fetchall()[0]
        assert 0 < rebuilt < total / 2
        con.execute("BEGIN")
        counts = households.build(con, "L-full")
        assert (counts.new, counts.retired) == (0, 0)
        assert [r[:6] for r in _households(con)] == after_week
        assert con.execute("SELECT count(*) FROM linked_household").fetchall()[0][0] == linked_rows
        con.execute("ROLLBACK")
    finally:
        con.close()
