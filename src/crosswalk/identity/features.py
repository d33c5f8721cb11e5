"""Linkage features: the columns comparisons and blocking rules read, built in SQL.

Everything is derived from the standardised ``person_record`` columns. The only Python
work is the phonetic code of each *distinct* name (jellyfish's metaphone), joined back.
The table is temporary: a run that stops leaves nothing of it in the hub.
"""

from __future__ import annotations

import jellyfish
import pyarrow as pa

from crosswalk.identity.sql import Sql, columns

PLACEHOLDER_LAST4 = ("0000",)

# The person_record fields linkage can use; coverage is measured on each (``profile``).
FIELDS = (
    "first_name",
    "middle_name",
    "last_name",
    "name_suffix",
    "dob",
    "dob_year",
    "sex",
    "ssn",
    "ssn_last4",
    "address_line",
    "zip",
    "county",
    "phone",
    "email",
    "medicaid_id",
    "other_ids",
)


def _given_names(source: str) -> str:
    """``source`` with a compound given name in the first-name column split into first and
    middle names where the record has no middle name ("MARY JANE", "JOSE LUIS",
    "ELIJAH ADAM"): agencies that keep a first and a middle name write the same person as
    MARY + JANE, so both forms compare and block alike. The nickname-canonical form of a
    split name is its first part's (``given_canonical`` NULL here, looked up by
    ``build_features``: LALO ROBERTO is EDUARDO + ROBERTO)."""
    split = (
        "(middle_name IS NULL AND strpos(first_name, ' ') > 2"
        " AND length(first_name) > strpos(first_name, ' '))"
    )
    return (
        f"(SELECT *,"
        f" CASE WHEN {split} THEN split_part(first_name, ' ', 1) ELSE first_name END AS given_first,"
        f" CASE WHEN {split} THEN substr(first_name, strpos(first_name, ' ') + 1)"
        " ELSE middle_name END AS given_middle,"
        f" CASE WHEN {split} THEN NULL ELSE first_name_canonical END"
        f" AS given_canonical FROM {source})"
    )


def build_features(con: Sql, table: str = "link_input", source: str = "person_record") -> int:
    """Create the temporary ``table`` from person_record (or ``source``, a relation of
    its rows: the records an incremental run links); return its row count."""
    given = _given_names(source)
    names = [
        r[0]
        for r in con.execute(
            f"SELECT DISTINCT n FROM (SELECT given_first AS n FROM {given} UNION "
            f"SELECT last_name FROM {given} UNION SELECT given_middle FROM {given}) "
            "WHERE n IS NOT NULL"
        ).fetchall()
    ]
    codes = pa.table(
        {
            "name": pa.array(names, pa.string()),
            # the sound of the name without its spaces: O NEIL and ONEIL, DE LA CRUZ and
            # DELACRUZ, JI HO and JIHO sound alike
            "code": [jellyfish.metaphone(n.replace(" ", "")) or None for n in names],
        }
    )
    con.register("_phonetic", codes)
    con.execute("CREATE OR REPLACE TEMP TABLE phonetic AS SELECT * FROM _phonetic")
    con.unregister("_phonetic")
    # ingest's nickname table (imported here: the engines import linkage and ingest both)
    from crosswalk.ingest.standardise import nickname_table

    con.register("_nickname", nickname_table())
    con.execute("CREATE OR REPLACE TEMP TABLE nickname AS SELECT * FROM _nickname")
    con.unregister("_nickname")
    has_ids = "other_ids" in columns(con, "person_record")
    # A hub last migrated before typed identifiers existed has none to offer.
    ids = "p.other_ids" if has_ids else "NULL::STRUCT(kind VARCHAR, value VARCHAR)[]"
    # The year of birth: the DOB's, or one given alone (a year or an age; hubs that hold
    # birth_year); blocking on years and the DOB comparison's year levels read it.
    has_year = "birth_year" in columns(con, "person_record")
    year = "coalesce(year(p.dob), p.birth_year)" if has_year else "year(p.dob)"
    email = "p.email" if "email" in columns(con, "person_record") else "NULL::VARCHAR"
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {table} AS
        SELECT *,
               -- each half of the first typed identifier (with its kind): a one-character
               -- typo leaves one half whole, so blocking on either finds the pair
               split_part(other_key_1, ':', 1) || ':' || left(other_value_1, length(other_value_1) // 2) AS other_key_head,
               split_part(other_key_1, ':', 1) || ':' || substr(other_value_1, length(other_value_1) // 2 + 1) AS other_key_tail
        FROM (SELECT *, substr(other_key_1, strpos(other_key_1, ':') + 1) AS other_value_1 FROM (
        SELECT p.record_key AS unique_id, p.agency,
               p.given_first AS first_name, p.last_name, p.given_middle AS middle_name, p.name_suffix,
               coalesce(p.given_canonical, nk.canonical, p.given_first) AS first_canonical,
               fp.code AS first_phonetic, lp.code AS last_phonetic, mp.code AS middle_phonetic,
               string_split(p.last_name, ' ') AS last_tokens,
               -- the surname and the first name without their spaces (the standardised
               -- names hold only letters and spaces): agencies write O NEIL, ONEIL and
               -- O'NEIL, MC DONALD and MCDONALD, DE LA CRUZ and DELACRUZ
               replace(p.last_name, ' ', '') AS last_compact,
               -- the whole first-name column so (a surname of two words written there,
               -- DE LEON, is not split into first and middle name for this)
               replace(p.first_name, ' ', '') AS first_compact,
               -- both names in either order (a given name written in the surname's column
               -- and the surname in the given name's, as forms and agencies often do)
               least(replace(p.first_name, ' ', ''), replace(p.last_name, ' ', '')) || ' '
                   || greatest(replace(p.first_name, ' ', ''), replace(p.last_name, ' ', '')) AS name_pair,
               CASE WHEN p.dob IS NULL THEN least(replace(p.first_name, ' ', ''), replace(p.last_name, ' ', ''))
                   || ' ' || greatest(replace(p.first_name, ' ', ''), replace(p.last_name, ' ', '')) END AS name_pair_no_dob,
               -- every given-name part (a compound first name, or first and middle names)
               list_filter(string_split(concat_ws(' ', p.given_first, p.given_middle), ' '),
                           lambda x: length(x) > 1) AS given_tokens,
               split_part(p.given_first, ' ', 1) AS first_token,
               left(p.last_name, 1) AS last_initial,
               coalesce(p.given_canonical, nk.canonical, p.given_first) || ' ' || replace(p.last_name, ' ', '') AS full_name,
               -- the same, only where the DOB is missing: such records are compared with
               -- every record of the same name (few records, so few pairs)
               CASE WHEN p.dob IS NULL THEN coalesce(p.given_canonical, nk.canonical, p.given_first)
                    || ' ' || replace(p.last_name, ' ', '') END AS full_name_no_dob,
               left(p.given_first, 1) || ' ' || p.last_name || ' ' || p.zip AS last_zip,
               CASE WHEN p.dob IS NULL THEN left(p.given_first, 1) || ' ' || p.last_name || ' ' || p.zip END AS last_zip_no_dob,
               -- first initial and surname sound, only where the DOB is missing (a year
               -- at most): blocked within birth years one apart, so a record holding only a
               -- name and a year meets its person's records with a first name misspelt
               CASE WHEN p.dob IS NULL THEN left(p.given_first, 1) || ' ' || lp.code END AS initial_sound_no_dob,
               left(p.given_first, 1) || ' ' || lp.code AS initial_sound,
               -- the first and the last word of a surname of several words (GARCIA LOPEZ,
               -- PENA MORALES): agencies write a double surname whole, or either part
               -- alone, so each part meets the surname written alone (NULL for a surname
               -- of one word, which the whole surname's keys already cover)
               CASE WHEN strpos(p.last_name, ' ') > 0 THEN split_part(p.last_name, ' ', 1) END AS surname_head,
               CASE WHEN strpos(p.last_name, ' ') > 0 THEN regexp_extract(p.last_name, '([^ ]+)$', 1) END AS surname_tail,
               coalesce(p.given_canonical, nk.canonical, p.given_first) || ' '
                   || CASE WHEN strpos(p.last_name, ' ') > 0 THEN split_part(p.last_name, ' ', 1) END AS full_head,
               coalesce(p.given_canonical, nk.canonical, p.given_first) || ' '
                   || CASE WHEN strpos(p.last_name, ' ') > 0 THEN regexp_extract(p.last_name, '([^ ]+)$', 1) END AS full_tail,
               p.dob, {year} AS dob_year, month(p.dob) AS dob_month, day(p.dob) AS dob_day,
               -- two overlapping two-year windows: birth years one apart share one of them
               {year} // 2 AS dob_year_even, ({year} + 1) // 2 AS dob_year_odd,
               nullif(p.sex, 'U') AS sex,
               p.ssn, p.ssn_last4, p.medicaid_id,
               -- typed identifiers beyond SSN, compared within their kind
               nullif({ids}, []) AS other_ids,
               nullif(list_transform({ids}, lambda x: x.kind || ':' || x.value), []) AS other_keys,
               nullif(list_distinct(list_transform({ids}, lambda x: x.kind)), []) AS other_kinds,
               array_length(nullif({ids}, [])) AS other_ids_held,
               -- the first, for blocking by a plain equi-join (no list explosion)
               list_sort(list_transform({ids}, lambda x: x.kind || ':' || x.value))[1] AS other_key_1,
               p.address_line, p.zip, p.county, p.phone, {email} AS email
        FROM {given} p
        LEFT JOIN phonetic fp ON fp.name = p.given_first
        LEFT JOIN phonetic lp ON lp.name = p.last_name
        LEFT JOIN phonetic mp ON mp.name = p.given_middle
        LEFT JOIN nickname nk ON nk.name = p.given_first))"""
    )
    return con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
