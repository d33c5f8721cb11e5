"""Linkage features: the columns comparisons and blocking rules read, built in SQL.

Everything is derived from the standardised ``person_record`` columns. The only Python
work is the phonetic code of each *distinct* name (jellyfish's metaphone), joined back.
The table is temporary: a run that stops leaves nothing of it in the hub.
"""

from __future__ import annotations

import duckdb
import jellyfish
import pyarrow as pa

PLACEHOLDER_LAST4 = ("0000",)

# The person_record fields linkage can use; coverage is measured on each (``profile``).
FIELDS = (
    "first_name",
    "middle_name",
    "last_name",
    "name_suffix",
    "dob",
    "sex",
    "ssn",
    "ssn_last4",
    "address_line",
    "zip",
    "county",
    "phone",
    "medicaid_id",
)


def build_features(con: duckdb.DuckDBPyConnection, table: str = "link_input") -> int:
    """Create the temporary ``table`` from person_record; return its row count."""
    names = [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT n FROM (SELECT first_name AS n FROM person_record UNION "
            "SELECT last_name FROM person_record UNION SELECT middle_name FROM person_record) "
            "WHERE n IS NOT NULL"
        ).fetchall()
    ]
    codes = pa.table(
        {
            "name": pa.array(names, pa.string()),
            "code": [jellyfish.metaphone(n) or None for n in names],
        }
    )
    con.register("_phonetic", codes)
    con.execute("CREATE OR REPLACE TEMP TABLE phonetic AS SELECT * FROM _phonetic")
    con.unregister("_phonetic")
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {table} AS
        SELECT p.record_key AS unique_id, p.agency,
               p.first_name, p.last_name, p.middle_name, p.name_suffix,
               coalesce(p.first_name_canonical, p.first_name) AS first_canonical,
               fp.code AS first_phonetic, lp.code AS last_phonetic, mp.code AS middle_phonetic,
               string_split(p.last_name, ' ') AS last_tokens,
               -- every given-name part (a compound first name, or first and middle names)
               list_filter(string_split(concat_ws(' ', p.first_name, p.middle_name), ' '),
                           lambda x: length(x) > 1) AS given_tokens,
               left(p.last_name, 1) AS last_initial,
               p.dob, year(p.dob) AS dob_year, month(p.dob) AS dob_month, day(p.dob) AS dob_day,
               -- two overlapping two-year windows: birth years one apart share one of them
               year(p.dob) // 2 AS dob_year_even, (year(p.dob) + 1) // 2 AS dob_year_odd,
               nullif(p.sex, 'U') AS sex,
               p.ssn, p.ssn_last4, p.medicaid_id,
               p.address_line, p.zip, p.county, p.phone
        FROM person_record p
        LEFT JOIN phonetic fp ON fp.name = p.first_name
        LEFT JOIN phonetic lp ON lp.name = p.last_name
        LEFT JOIN phonetic mp ON mp.name = p.middle_name"""
    )
    return con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
