"""An incremental run reads only what its records reach: the index's records a blocking
rule pairs with the new ones, and the households they touch. Each narrowed read is
checked here against the plain computation it replaces, on a small state that moves."""

import shutil

import duckdb
import pytest
from tests.identity.batches import replace_batch_without

from crosswalk.identity import households, incremental, link
from crosswalk.ingest import ingest_state
from crosswalk.synth import synth


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """A linked state with week 1 loaded, not yet linked."""
    root = tmp_path_factory.mktemp("scope")
    synth(people=600, seed=5, out=root / "state", weeks=1)
    hub = root / "hub.duckdb"
    ingest_state(root / "state", hub=hub)
    link(hub)
    ingest_state(root / "state" / "weeks" / "01", hub=hub)
    return hub


def _naive_nearby(con, rules):
    """Every record of the index a rule pairs with a new record, one join per rule and
    side (what the scoring used to ask)."""
    near = " UNION ".join(
        f"SELECT r.unique_id FROM link_new l JOIN link_feature r ON {rule}"
        f" UNION SELECT l.unique_id FROM link_feature l JOIN link_new r ON {rule}"
        for rule in rules
    )
    return {k for (k,) in con.execute(near).fetchall()}


RULES = [
    '(l."dob" = r."dob") AND (l."last_phonetic" = r."last_phonetic")',
    "(l.full_name_no_dob = r.full_name)",  # asymmetric: a record without a DOB on the left
    "(l.zip = r.zip AND l.first_name = r.last_name AND l.last_name = r.first_name)",
    "(l.dob_year = r.dob_year AND levenshtein(l.last_name, r.last_name) <= 1"
    " AND l.first_name = r.first_name)",  # not only equalities: tested both ways as written
]


def test_the_records_offered_for_scoring_are_those_a_rule_pairs_either_way(loaded, tmp_path):
    hub = tmp_path / "hub.duckdb"
    shutil.copy(loaded, hub)
    con = duckdb.connect(str(hub))
    try:
        counts = incremental.prepare(con)
        assert counts["changed"] > 0
        saved = incremental.saved_model(con)
        assert saved is not None
        model_rules = incremental._blocking_rules(saved.settings)
        for rules in (model_rules, RULES, RULES[1:2]):
            offered = {k for (k,) in con.execute(incremental.nearby_sql(rules)).fetchall()}
            assert offered == _naive_nearby(con, rules)
        assert con.execute(incremental.nearby_sql(model_rules)).fetchall()
    finally:
        con.close()


def test_a_mirrored_rule_is_tested_once_and_an_asymmetric_one_both_ways():
    symmetric = (
        "l.dob_year = r.dob_year AND l.first_name = r.last_name AND l.last_name = r.first_name"
    )
    assert incremental._canonical(symmetric) == incremental._canonical(
        incremental._mirrored(symmetric)
    )
    assert incremental.nearby_sql([symmetric]).count("EXISTS") == 1
    asymmetric = "l.full_name_no_dob = r.full_name"
    assert incremental._mirrored(asymmetric) == "r.full_name_no_dob = l.full_name"
    assert incremental.nearby_sql([asymmetric]).count("EXISTS") == 2


def _stepwise_closure(con):
    """The region closed one step at a time (what the build used to do): households of the
    persons in scope, then their members still in the index and whoever a placement ties
    to them, until nothing more joins."""
    con.execute("CREATE OR REPLACE TEMP TABLE ref_scope AS SELECT DISTINCT * FROM hh_scope")
    con.execute("CREATE OR REPLACE TEMP TABLE ref_region AS SELECT DISTINCT * FROM hh_region")
    while True:
        con.execute(
            """INSERT INTO ref_region SELECT DISTINCT household_id FROM household_member
            WHERE enterprise_id IN (SELECT enterprise_id FROM ref_scope)
              AND household_id NOT IN (SELECT household_id FROM ref_region)"""
        )
        added = con.execute(
            """INSERT INTO ref_scope
            WITH found AS (
              SELECT enterprise_id FROM household_member
              WHERE household_id IN (SELECT household_id FROM ref_region)
              UNION SELECT b FROM hh_tied WHERE a IN (SELECT enterprise_id FROM ref_scope)
              UNION SELECT a FROM hh_tied WHERE b IN (SELECT enterprise_id FROM ref_scope))
            SELECT DISTINCT enterprise_id FROM found
            WHERE enterprise_id NOT IN (SELECT enterprise_id FROM ref_scope)
              AND enterprise_id IN (SELECT enterprise_id FROM person_index)"""
        ).fetchall()[0][0]
        if not added:
            break
    return (
        {r for (r,) in con.execute("SELECT enterprise_id FROM ref_scope").fetchall()},
        {r for (r,) in con.execute("SELECT household_id FROM ref_region").fetchall()},
    )


def test_the_households_built_again_are_those_the_stepwise_closure_reaches(
    loaded, tmp_path, monkeypatch
):
    hub = tmp_path / "hub.duckdb"
    shutil.copy(loaded, hub)
    closed = households._close_region
    seen = []

    def checked(con):
        expected = _stepwise_closure(con)
        closed(con)
        got = (
            {r for (r,) in con.execute("SELECT enterprise_id FROM hh_scope").fetchall()},
            {r for (r,) in con.execute("SELECT household_id FROM hh_region").fetchall()},
        )
        seen.append((got, expected))

    monkeypatch.setattr(households, "_close_region", checked)
    result = link(hub)
    assert result.kind == "incremental"
    ((got, expected),) = seen
    assert got == expected
    persons, region = got
    assert len(persons) > 10 and region


def test_the_analytic_tables_after_an_incremental_run_are_those_of_a_full_refresh(loaded, tmp_path):
    from crosswalk.identity import linked

    hub = tmp_path / "hub.duckdb"
    shutil.copy(loaded, hub)
    assert link(hub).kind == "incremental"
    con = duckdb.connect(str(hub))
    try:
        assert linked.is_current(con)
        for table in ("linked_record", "linked_event"):
            kept = con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()
            full = con.execute(
                f"SELECT * FROM ({linked.select_sql(table, 'person_index')}) ORDER BY ALL"
            ).fetchall()
            assert kept == full, table
            assert kept
    finally:
        con.close()


def _plain_changes(con):
    """The records new or changed since the last run and those gone, from every record of
    the hub (what the run used to compute: a fingerprint of each)."""
    fingerprint = incremental.fingerprint_sql(con)
    changed = con.execute(
        f"""SELECT p.record_key FROM person_record p LEFT JOIN link_feature f
        ON f.unique_id = p.record_key WHERE f.unique_id IS NULL OR f.fingerprint <> {fingerprint}"""
    ).fetchall()
    gone = con.execute(
        "SELECT unique_id FROM link_feature WHERE unique_id NOT IN (SELECT record_key FROM person_record)"
    ).fetchall()
    return {k for (k,) in changed}, {k for (k,) in gone}


def _prepared(con):
    incremental.prepare(con)
    return tuple(
        {k for (k,) in con.execute(f"SELECT record_key FROM {t}").fetchall()}
        for t in ("changed_keys", "deleted_keys")
    )


def test_the_new_changed_and_gone_records_are_those_a_fingerprint_of_every_record_finds(
    loaded, tmp_path
):
    hub = tmp_path / "hub.duckdb"
    shutil.copy(loaded, hub)
    con = duckdb.connect(str(hub))
    try:
        expected = _plain_changes(con)
        assert _prepared(con) == expected
        changed, gone = expected
        assert changed and not gone
        # A correction batch replacing a batch the last run linked, and one loaded since.
        linked_keys = con.execute(
            """SELECT record_key FROM person_record WHERE batch_id IN (SELECT batch_id FROM linked_batch)
            ORDER BY record_key LIMIT 2"""
        ).fetchall()
        since = con.execute(
            """SELECT record_key FROM person_record
            WHERE batch_id NOT IN (SELECT batch_id FROM linked_batch) ORDER BY record_key LIMIT 1"""
        ).fetchall()
        replace_batch_without(con, [k for (k,) in linked_keys + since])
        expected = _plain_changes(con)
        assert _prepared(con) == expected
        changed, gone = expected
        assert changed and {k for (k,) in linked_keys} <= gone
    finally:
        con.close()


def _rows(con, sql):
    return sorted(map(repr, con.execute(sql).fetchall()))


def test_the_rows_read_by_key_are_those_of_the_plain_reads(loaded, tmp_path, monkeypatch):
    """The index's rows offered for scoring and the affected records' rows, each read by
    key from the kept features, are those the views of every record give."""
    hub = tmp_path / "hub.duckdb"
    shutil.copy(loaded, hub)
    recluster, cluster = incremental.recluster, incremental.cluster
    seen = []

    def checked_recluster(con, model):
        rules = incremental._blocking_rules(model.settings)
        plain = _rows(
            con,
            "SELECT * FROM link_existing"
            f" WHERE unique_id IN ({incremental.nearby_sql(rules)}) ORDER BY ALL",
        )
        seen.append(("offered", _rows(con, "SELECT * FROM link_nearby ORDER BY ALL"), plain))
        return recluster(con, model)

    def checked_cluster(con, records, *args):
        plain = _rows(
            con,
            """SELECT unique_id AS record_key, * EXCLUDE (unique_id) FROM link_all
            WHERE unique_id IN (SELECT record_key FROM affected) ORDER BY ALL""",
        )
        seen.append(("affected", _rows(con, f"SELECT * FROM {records} ORDER BY ALL"), plain))
        return cluster(con, records, *args)

    monkeypatch.setattr(incremental, "recluster", checked_recluster)
    monkeypatch.setattr(incremental, "cluster", checked_cluster)
    assert link(hub).kind == "incremental"
    assert [name for name, _, _ in seen] == ["offered", "affected"]
    for name, got, plain in seen:
        assert got == plain, name
        assert got, name
