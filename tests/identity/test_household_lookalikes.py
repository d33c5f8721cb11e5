"""Twins and parent/child namesakes in one household are two people, not one person's
duplicate records; one person's name variants are still one person."""

import duckdb
import pytest

from crosswalk.identity import link
from crosswalk.identity.cluster import cannot_link_sql, cluster

PERSON = {
    "first_name": "MARIA",
    "first_canonical": "MARIA",
    "middle_name": "ELENA",
    "last_name": "GARCIA",
    "given_tokens": ["MARIA", "ELENA"],
    "dob": "1990-05-17",
    "address_line": "12 OAK ST",
    "ssn": None,
    "medicaid_id": None,
    "other_keys": None,
    "other_key_1": None,
    "other_ids": None,
}
TYPES = {
    "dob": "DATE",
    "dob_year": "INTEGER",
    "dob_month": "INTEGER",
    "dob_day": "INTEGER",
    "given_tokens": "VARCHAR[]",
    "other_keys": "VARCHAR[]",
    "other_ids": "STRUCT(kind VARCHAR, value VARCHAR)[]",
}


def _with_dob_parts(row):
    year, month, day = (int(x) for x in row["dob"].split("-"))
    # and the names without their spaces, as the features make them
    compact = {f"{n}_compact": row[f"{n}_name"].replace(" ", "") for n in ("first", "last")}
    return {**row, "dob_year": year, "dob_month": month, "dob_day": day, **compact}


def cannot_link(left, right):
    con = duckdb.connect()
    cols, params = [], []
    for side, row in (("a", {**PERSON, **left}), ("b", {**PERSON, **right})):
        row = _with_dob_parts(row)
        cols.append(
            "{"
            + ", ".join(f"'{k}': CAST(? AS {TYPES.get(k, 'VARCHAR')})" for k in row)
            + f"}} AS {side}"
        )
        params += list(row.values())
    return con.execute(
        f"SELECT {cannot_link_sql('a', 'b')} FROM (SELECT {', '.join(cols)})", params
    ).fetchall()[0][0]


@pytest.mark.parametrize(
    ("right", "expected"),
    [
        # twins: same DOB, surname and address, first and middle names unrelated
        ({"first_name": "LUCIA", "first_canonical": "LUCIA", "middle_name": "ROSA",
          "given_tokens": ["LUCIA", "ROSA"]}, True),
        # twins with similar first names and different middle names
        ({"first_name": "MARIANA", "first_canonical": "MARIANA", "middle_name": "SOFIA",
          "given_tokens": ["MARIANA", "SOFIA"]}, True),
        # twins, one DOB recorded a year off
        ({"first_name": "LUCIA", "first_canonical": "LUCIA", "middle_name": "ROSA",
          "given_tokens": ["LUCIA", "ROSA"], "dob": "1991-05-17"}, True),
        # siblings: similar first names, birth dates months apart
        ({"first_name": "MARIAN", "first_canonical": "MARIAN", "dob": "1990-11-02"}, True),
        # a parent and a child given the same name, 28 years apart, same address
        ({"dob": "2018-02-03"}, True),
        # ... unless an identifier says they are one person
        ({"dob": "2018-02-03", "dob_year": 2018, "other_keys": ["state_id:X1"]}, False),
        # ... also with the identifier typed with two digits transposed
        ({"dob": "2018-02-03", "ssn": "123456798", "_left": {"ssn": "123456789"}}, False),
        ({"dob": "2018-02-03", "other_key_1": "state_id:S12354",
          "_left": {"other_key_1": "state_id:S12345"}}, False),
        # ... but not by one digit off: a household's identifiers are often issued in turn
        ({"dob": "2018-02-03", "ssn": "123456790", "_left": {"ssn": "123456789"}}, True),
        # one person: a typo, a nickname, the middle name used as first, a compound name
        ({"first_name": "MARIE", "given_tokens": ["MARIE", "ELENA"]}, False),
        ({"first_name": "ELENA", "first_canonical": "ELENA", "middle_name": None,
          "given_tokens": ["ELENA"]}, False),
        ({"first_name": "MARIA ELENA", "first_canonical": "MARIA ELENA", "middle_name": None,
          "given_tokens": ["MARIA", "ELENA"]}, False),
        ({"first_name": "M", "first_canonical": "M", "given_tokens": ["ELENA"]}, False),
        # known by the middle name, the other record holding only its initial
        ({"first_name": "ELENA", "first_canonical": "ELENA", "middle_name": None,
          "given_tokens": ["ELENA"], "_left": {"middle_name": "E", "given_tokens": ["MARIA", "E"]}}, False),
        # twins where one's middle initial is the other's first initial, middles unrelated
        ({"first_name": "ELENA", "first_canonical": "ELENA", "middle_name": "ROSA",
          "given_tokens": ["ELENA", "ROSA"], "_left": {"middle_name": "E", "given_tokens": ["MARIA", "E"]}}, True),
        # a DOB year off by one is an error, not another generation
        ({"dob": "1991-05-17"}, False),
        # the same first name with a wrong DOB is left to the model
        ({"dob": "1993-01-02"}, False),
        # ... and so are the two names swapped between the columns, with a wrong DOB
        ({"first_name": "GARCIA", "first_canonical": "GARCIA", "last_name": "MARIA",
          "given_tokens": ["GARCIA", "ELENA"], "dob": "1993-01-02"}, False),
    ],
    ids=["twins", "similar-twins", "twins-year-off", "siblings", "parent-child", "parent-child-same-id", "same-ssn-transposed",
         "same-id-transposed", "ssn-one-digit-off", "typo", "middle-as-first",
         "compound", "initial", "middle-initial-as-first", "twins-middle-initial", "year-off", "same-name-other-dob",
         "swapped-other-dob"],
)  # fmt: skip
def test_cannot_link(right, expected):
    right = dict(right)
    left = right.pop("_left", {})
    left |= {"other_keys": ["state_id:X1"]} if "other_keys" in right else {}
    assert cannot_link(left, right) is expected


def test_twins_and_namesakes_are_kept_apart_in_a_linked_hub(linked_copy):
    _, hub = linked_copy
    con = duckdb.connect(str(hub))
    key = con.execute(
        """SELECT record_key FROM person_record WHERE address_line IS NOT NULL AND dob IS NOT NULL
        AND middle_name IS NOT NULL AND name_suffix IS NULL AND year(dob) BETWEEN 1960 AND 1990
        ORDER BY record_key LIMIT 1"""
    ).fetchall()[0][0]
    agency, _ = key.split(":")
    # The added records come in a batch of their own, as records loaded after the run.
    con.execute(
        """INSERT INTO batch SELECT * REPLACE ('B-LOOKALIKES' AS batch_id) FROM batch
        WHERE batch_id = (SELECT batch_id FROM person_record WHERE record_key = ?)""",
        [key],
    )

    def add(source_id, **changes):
        sets = ", ".join(f"{k} := ?" for k in changes)
        con.execute(
            f"""INSERT INTO person_record SELECT * REPLACE ('{agency}:' || ? AS record_key,
                ? AS source_record_id, 'B-LOOKALIKES' AS batch_id,
                {", ".join(f"? AS {k}" for k in changes)})
            FROM person_record WHERE record_key = ?""",
            [source_id, source_id, *changes.values(), key],
        )
        del sets
        return f"{agency}:{source_id}"

    no_ids = {"ssn": None, "ssn_last4": None, "medicaid_id": None, "phone": None}
    twin = {"first_name": "ZEPHYRINE", "first_name_canonical": "ZEPHYRINE", "middle_name": "QUILLA"}
    twin_a = add("TWIN-A", **twin, **no_ids)
    twin_b = add("TWIN-B", **twin, **no_ids)
    con.execute(
        "UPDATE person_record SET dob = dob + INTERVAL 30 YEAR WHERE record_key = ?",
        [add("CHILD", **no_ids)],
    )
    con.close()
    link(hub)
    con = duckdb.connect(str(hub), read_only=True)
    ids = dict(
        con.execute(
            "SELECT record_key, enterprise_id FROM person_index WHERE record_key IN (?, ?, ?, ?)",
            [key, twin_a, twin_b, f"{agency}:CHILD"],
        ).fetchall()
    )
    assert ids[twin_a] == ids[twin_b]  # the twin's own two records are one person
    assert ids[twin_a] != ids[key]
    assert ids[f"{agency}:CHILD"] != ids[key]


def _household(rows, links):
    """A records table and links for ``cluster``: PERSON's record with the given changes."""
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE review_decision (record_key_l VARCHAR, record_key_r VARCHAR, decision VARCHAR)"
    )
    columns = {**TYPES, "record_key": "VARCHAR", "name_suffix": "VARCHAR"}
    full = [
        {"record_key": k, "name_suffix": None, **_with_dob_parts({**PERSON, **r})} for k, r in rows
    ]
    names = list(full[0])
    values = ", ".join(
        "(" + ", ".join(f"CAST(? AS {columns.get(n, 'VARCHAR')})" for n in names) + ")"
        for _ in full
    )
    con.execute(
        f"CREATE TABLE recs AS SELECT * FROM (VALUES {values}) t({', '.join(names)})",
        [row[n] for row in full for n in names],
    )
    con.execute(
        "CREATE TABLE links (record_key_l VARCHAR, record_key_r VARCHAR, match_weight DOUBLE)"
    )
    con.executemany("INSERT INTO links VALUES (?, ?, ?)", links)
    clusters, _ = cluster(con, "recs", "links", cannot_link_sql())
    return dict(
        zip(clusters["record_key"].to_pylist(), clusters["cluster"].to_pylist(), strict=True)
    )


LUCIA = {"first_name": "LUCIA", "first_canonical": "LUCIA", "middle_name": None,
         "given_tokens": ["LUCIA"]}  # fmt: skip


def test_records_holding_one_identifier_between_them_stay_one_person():
    """One person's records where one has its first name recorded wrongly and another its
    identifier mistyped: the two look like twins to each other, but each shares an
    identifier with the third, so the three are one person."""
    got = _household(
        [
            ("a:1", {"other_keys": ["state_id:S1234567"]}),
            ("a:2", {"other_keys": ["state_id:S1234576"]}),  # a transposition
            ("a:3", {**LUCIA, "other_keys": ["state_id:S1234567"]}),
        ],
        [("a:1", "a:2", 20.0), ("a:1", "a:3", 15.0)],
    )
    assert got["a:1"] == got["a:2"] == got["a:3"]


def test_twins_linked_through_a_weak_link_are_split_without_a_shared_identifier():
    """The same three records with no identifier in common: the twins stay apart."""
    got = _household(
        [
            ("a:1", {"other_keys": ["state_id:S1234567"]}),
            ("a:2", {"other_keys": ["state_id:S1234567"]}),
            ("a:3", {**LUCIA, "other_keys": ["state_id:S7654321"]}),
        ],
        [("a:1", "a:2", 20.0), ("a:2", "a:3", 5.0)],
    )
    assert got["a:1"] == got["a:2"] != got["a:3"]


def test_a_record_tied_by_an_identifier_explains_a_lookalike():
    """One person's three records: A and B alike but for their identifiers (one was
    replaced), C holding B's identifier with its first name recorded wrongly. A and C
    look like twins, but B, tied to C by the identifier, is not refused against A: the
    three are one person."""
    got = _household(
        [
            ("a:1", {"other_keys": ["state_id:S1111111"]}),
            ("a:2", {"other_keys": ["state_id:S2222222"]}),
            ("a:3", {**LUCIA, "other_keys": ["state_id:S2222222"]}),
        ],
        [("a:2", "a:3", 20.0), ("a:1", "a:2", 15.0)],
    )
    assert got["a:1"] == got["a:2"] == got["a:3"]


def test_a_record_lacking_what_the_rules_read_is_no_witness():
    """Twins MARIA ELENA and MARIANA SOFIA (middle names tell them apart): MARIANA's
    record without a middle name, tied to her other record by an identifier, is no
    reason to join the twins."""
    mariana = {"first_name": "MARIANA", "first_canonical": "MARIANA",
               "given_tokens": ["MARIANA"]}  # fmt: skip
    got = _household(
        [
            ("a:1", {"other_keys": ["state_id:S1111111"]}),
            ("a:2", {**mariana, "middle_name": None, "other_keys": ["state_id:S2222222"]}),
            ("a:3", {**mariana, "middle_name": "SOFIA", "other_keys": ["state_id:S2222222"]}),
        ],
        [("a:2", "a:3", 20.0), ("a:1", "a:2", 15.0)],
    )
    assert got["a:2"] == got["a:3"] != got["a:1"]


def test_transposition_test_agrees_with_the_distances():
    """The length and equality guard before the distances changes no answer: every pair
    (equal, one edit of any kind apart, unrelated, NULL on either side) is a transposition
    exactly when Damerau-Levenshtein says 1 and Levenshtein 2."""
    import random

    from crosswalk.identity.cluster import transposed_sql

    rng = random.Random(5)
    alphabet = "0123"
    rows: list[tuple[str | None, str | None]] = [(None, "12"), ("12", None), (None, None)]
    for _ in range(20_000):
        a = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 9)))
        b = list(a)
        kind = rng.randint(0, 4)
        k = rng.randint(0, max(0, len(b) - 1))
        if kind == 0 and len(b) > 1:
            k = min(k, len(b) - 2)
            b[k], b[k + 1] = b[k + 1], b[k]
        elif kind == 1 and b:
            b[k] = rng.choice(alphabet)
        elif kind == 2:
            b.insert(rng.randint(0, len(b)), rng.choice(alphabet))
        elif kind == 3:
            b = list("".join(rng.choice(alphabet) for _ in range(rng.randint(0, 9))))
        rows.append((a, "".join(b)))
    con = duckdb.connect()
    con.execute("CREATE TABLE t (a VARCHAR, b VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?, ?)", rows)
    transposed, wrong = con.execute(
        f"""SELECT count(*) FILTER (WHERE {transposed_sql("a", "b")}),
                   count(*) FILTER (WHERE ({transposed_sql("a", "b")}) IS DISTINCT FROM
                       coalesce(damerau_levenshtein(a, b) = 1 AND levenshtein(a, b) = 2, false))
            FROM t"""
    ).fetchall()[0]
    assert transposed > 2_000
    assert wrong == 0
