import duckdb
from tests.evaluation import evaluate_index

from crosswalk.access import Gate
from crosswalk.agreement import Principal
from crosswalk.audit import AuditLog
from crosswalk.identity import link, person_records
from crosswalk.identity.cluster import cluster


def test_index_covers_every_record_exactly_once(linked):
    _, hub, result = linked
    con = duckdb.connect(str(hub), read_only=True)
    assert (
        con.execute("SELECT count(*), count(DISTINCT record_key) FROM person_index").fetchall()[0]
        == con.execute("SELECT count(*), count(*) FROM person_record").fetchall()[0]
    )
    assert con.execute(
        "SELECT count(*) FROM person_record ANTI JOIN person_index USING (record_key)"
    ).fetchall() == [(0,)]
    assert (
        result.clusters
        == con.execute("SELECT count(DISTINCT enterprise_id) FROM person_index").fetchall()[0][0]
    )


def test_accuracy_on_a_small_state(linked):
    root, hub, _ = linked
    e = evaluate_index(root / "state" / "truth", hub)
    assert e.pairwise_f1 > 0.98 and e.bcubed_f1 > 0.98
    assert e.blocking_recall is not None and e.blocking_recall > 0.995


def test_model_and_charts_are_saved(linked):
    root, hub, result = linked
    con = duckdb.connect(str(hub), read_only=True)
    assert con.execute("SELECT max(version) FROM link_model").fetchall() == [
        (result.model_version,)
    ]
    assert (root / "charts" / "match_weights.png").stat().st_size > 1000
    assert (root / "charts" / "m_u_parameters.html").exists()


def test_ids_are_stable_across_reruns(linked_copy):
    _, hub = linked_copy
    con = duckdb.connect(str(hub), read_only=True)
    before = dict(con.execute("SELECT record_key, enterprise_id FROM person_index").fetchall())
    con.close()
    link(hub, full=True)
    con = duckdb.connect(str(hub), read_only=True)
    after = dict(con.execute("SELECT record_key, enterprise_id FROM person_index").fetchall())
    same = sum(before[k] == after[k] for k in before)
    assert same / len(before) > 0.995


def test_person_view_shows_records_and_evidence(linked):
    _, hub, _ = linked
    con = duckdb.connect(str(hub), read_only=True)
    eid = con.execute(
        "SELECT enterprise_id FROM person_index GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
    ).fetchall()[0][0]
    view = person_records(con, eid)
    con.close()
    assert len(view.records) >= 2 and view.events
    assert view.links and set(view.links[0]["fields"]) >= {"first_name", "dob", "ssn"}


def test_review_decision_is_honoured(linked_copy, tmp_path):
    _, hub = linked_copy
    gate = Gate(hub, f"sqlite:///{tmp_path}/control.db")
    con = duckdb.connect(str(hub), read_only=True)
    a, b = con.execute(
        """SELECT record_key_l, record_key_r FROM link_evidence WHERE accepted
        ORDER BY match_weight LIMIT 1"""
    ).fetchall()[0]
    con.close()
    gate.review_decide("cdo.linkage", a, b, "no-match")
    link(hub)
    con = duckdb.connect(str(hub), read_only=True)
    ids = dict(
        con.execute(
            "SELECT record_key, enterprise_id FROM person_index WHERE record_key IN (?, ?)", [a, b]
        ).fetchall()
    )
    con.close()
    assert ids[a] != ids[b]
    steward = Principal("cdo.linkage", "cdo", "linkage_steward")
    pending = gate.review_list(steward, "linkage_review")
    assert all((x["record_key_l"], x["record_key_r"]) != (a, b) for x in pending)
    decided = [
        e for e in AuditLog(gate._audit.engine).entries() if e["action"] == "identity.review"
    ]
    assert [(e["user"], e["outcome"]) for e in decided] == [("cdo.linkage", "ok")]


def test_conflicting_records_are_not_chained():
    """SR - JR - (weak link) - SR2: the JR/SR conflict splits the component at the weakest link."""
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE review_decision (record_key_l VARCHAR, record_key_r VARCHAR, decision VARCHAR)"
    )
    con.execute(
        """CREATE TABLE recs AS SELECT * FROM (VALUES
        ('a:1', '111223333', 'SR'), ('b:1', '111223333', NULL), ('c:1', NULL, 'JR'), ('d:1', '222334444', NULL))
        t(record_key, ssn, name_suffix)"""
    )
    con.execute(
        """CREATE TABLE links AS SELECT * FROM (VALUES
        ('a:1', 'b:1', 30.0), ('b:1', 'c:1', 5.0), ('c:1', 'd:1', 20.0)) t(record_key_l, record_key_r, match_weight)"""
    )
    clusters, split = cluster(con, "recs", "links")
    got = dict(
        zip(clusters["record_key"].to_pylist(), clusters["cluster"].to_pylist(), strict=True)
    )
    assert split == 1
    assert got["a:1"] == got["b:1"]
    assert got["c:1"] == got["d:1"]
    assert got["a:1"] != got["c:1"]
