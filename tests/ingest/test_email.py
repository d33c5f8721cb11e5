"""An email address is a common field: trimmed and lower case, so agencies that write it
differently agree; a value that is not an address is nulled and flagged, not lost."""

import duckdb
from tests.ingest.conftest import ingest_csv

MAPPING = """\
agency: housing
version: 1
clients:
  format: csv
  ssn_form: absent
  columns:
    source_record_id: id
    first_name: first
    last_name: last
    email: mail
"""


def test_emails_are_trimmed_lower_case_and_checked(tmp_path):
    result, rows = ingest_csv(
        tmp_path,
        MAPPING,
        "id,first,last,mail\n"
        "1,Ann,Lee, Ann.Lee@Example.COM \n"
        "2,Bo,Lee,bo.lee@example.com\n"
        "3,Cy,Lee,not an address\n"
        "4,Di,Lee,di@@example.com\n"
        "5,Ed,Lee,\n",
        ["email", "flags"],
    )
    assert rows == [
        ("1", "ann.lee@example.com", []),
        ("2", "bo.lee@example.com", []),
        ("3", None, ["email_invalid"]),
        ("4", None, ["email_invalid"]),
        ("5", None, []),
    ]
    issues = {(i.field, i.rule): i.rows for f in result.files for i in f.issues}
    assert issues == {("email", "email_invalid"): 2}


def test_a_hub_from_before_emails_gains_the_column(tmp_path):
    from crosswalk.records import MIGRATIONS, PART
    from crosswalk.stores import apply_migrations

    hub = tmp_path / "hub.duckdb"
    con = duckdb.connect(str(hub))
    apply_migrations(con, PART, MIGRATIONS[:8])
    con.close()
    _, rows = ingest_csv(
        tmp_path, MAPPING, "id,first,last,mail\n1,Ann,Lee,ann@example.com\n", ["email"], hub=hub
    )
    assert rows == [("1", "ann@example.com")]
    con = duckdb.connect(str(hub), read_only=True)
    version_columns = {
        r[0]
        for r in con.execute(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_name = 'person_record_version'"
        ).fetchall()
    }
    con.close()
    assert "email" in version_columns
