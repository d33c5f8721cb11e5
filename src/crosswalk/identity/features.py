"""Linkage features: the columns comparisons and blocking rules read, built in SQL.

Everything is derived from the standardised ``person_record`` columns. The only Python
work is the phonetic code of each *distinct* name (jellyfish's metaphone), joined back.
"""

from __future__ import annotations

import duckdb
import jellyfish
import pyarrow as pa

PLACEHOLDER_LAST4 = ("0000",)


def build_features(con: duckdb.DuckDBPyConnection, table: str = "link_input") -> int:
    """Create ``table`` from person_record; return its row count."""
    names = [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT n FROM (SELECT first_name AS n FROM person_record UNION "
            "SELECT last_name FROM person_record) WHERE n IS NOT NULL"
        ).fetchall()
    ]
    codes = pa.table({"name": names, "code": [jellyfish.metaphone(n) or None for n in names]})
    con.register("_phonetic", codes)
    con.execute("CREATE OR REPLACE TEMP TABLE phonetic AS SELECT * FROM _phonetic")
    con.unregister("_phonetic")
    con.execute(
        f"""CREATE OR REPLACE TABLE {table} AS
        SELECT p.record_key AS unique_id, p.agency,
               p.first_name, p.last_name, p.middle_name, p.name_suffix,
               coalesce(p.first_name_canonical, p.first_name) AS first_canonical,
               fp.code AS first_phonetic, lp.code AS last_phonetic,
               string_split(p.last_name, ' ') AS last_tokens,
               left(p.last_name, 1) AS last_initial,
               p.dob, year(p.dob) AS dob_year, month(p.dob) AS dob_month, day(p.dob) AS dob_day,
               nullif(p.sex, 'U') AS sex,
               p.ssn, p.ssn_last4, p.medicaid_id,
               p.address_line, p.zip, p.county, p.phone
        FROM person_record p
        LEFT JOIN phonetic fp ON fp.name = p.first_name
        LEFT JOIN phonetic lp ON lp.name = p.last_name"""
    )
    return con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
