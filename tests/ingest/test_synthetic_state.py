import duckdb

from crosswalk.access import lineage
from crosswalk.agreement import Principal
from crosswalk.hub import Hub
from crosswalk.synth import EXTRACTS


def test_only_the_broken_events_are_quarantined(loaded_hub, state):
    hub, results = loaded_hub
    assert {r.agency for r in results} == set(EXTRACTS)
    for r in results:
        assert r.rows_read == r.rows_accepted + r.rows_quarantined
    con = duckdb.connect(str(hub), read_only=True)
    quarantined = con.execute(
        "SELECT q.rule, count(*) FROM quarantine q GROUP BY 1 ORDER BY 1"
    ).fetchall()
    broken = con.execute(
        f"""SELECT event_error, count(*) FROM read_parquet('{state}/truth/events.parquet')
        WHERE event_error IS NOT NULL GROUP BY 1 ORDER BY 1"""
    ).fetchall()
    rule = {"bad_date": "unparseable_date", "unknown_program": "unknown_code"}
    assert sorted((rule[k], n) for k, n in broken) == quarantined


def test_every_truth_record_is_in_the_hub(loaded_hub, state):
    hub, _ = loaded_hub
    con = duckdb.connect(str(hub), read_only=True)
    missing = con.execute(
        f"""SELECT count(*) FROM read_parquet('{state}/truth/records.parquet') t
        ANTI JOIN person_record p ON p.record_key = t.record_key"""
    ).fetchall()[0][0]
    assert missing == 0


def test_batches_list_counts(loaded_hub):
    hub, _results = loaded_hub
    table = []
    with Hub(hub, shared=False) as the_hub:
        for agency in EXTRACTS:
            steward = Principal(f"{agency}.steward", agency, "steward")
            rows, total = lineage.batches(the_hub, steward, "operations", agency, limit=None)
            assert total == len(rows) and {r["agency"] for r in rows} == {agency}
            table += rows
    assert len(table) == 13
    for row in table:
        assert row["read"] == row["accepted"] + row["quarantined"]


def test_standardised_names_dates_and_flags(loaded_hub):
    hub, _ = loaded_hub
    con = duckdb.connect(str(hub), read_only=True)
    rows = con.execute(
        "SELECT first_name, last_name, dob, sex FROM person_record WHERE agency = 'fcs'"
    ).fetchall()
    assert all(f is None or f == f.upper() for f, *_ in rows)
    assert all(s in ("M", "F", "U") for *_, s in rows)
    flagged = con.execute(
        "SELECT count(*) FROM person_record WHERE list_contains(flags, 'ssn_placeholder') AND ssn IS NULL AND ssn_raw IS NOT NULL"
    ).fetchall()[0][0]
    assert flagged > 0
