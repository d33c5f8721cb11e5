"""Each comparison's levels on hand-made pairs, rendered for DuckDB as the model runs them."""

import duckdb
import pytest

from crosswalk.identity.model import comparisons

BASE = {
    "first_name": "WILLIAM",
    "last_name": "SMITH",
    "first_canonical": "WILLIAM",
    "first_phonetic": "WLM",
    "last_phonetic": "SM0",
    "last_tokens": ["SMITH"],
    "first_compact": "WILLIAM",
    "last_compact": "SMITH",
    "middle_name": None,
    "middle_phonetic": None,
    "given_tokens": ["WILLIAM"],
    "first_token": "WILLIAM",
    "other_ids": None,
    "other_keys": None,
    "other_kinds": None,
    "other_key_1": None,
    "other_value_1": None,
    "other_ids_held": None,
    "dob": "1980-03-04",
    "dob_year": 1980,
    "dob_month": 3,
    "dob_day": 4,
    "ssn": "123456780",
    "ssn_last4": "6780",
    "name_suffix": None,
    "sex": "M",
    "address_line": "1 MAIN ST",
    "zip": "62701",
    "county": "SANGAMON",
    "phone": None,
    "medicaid_id": None,
}


TYPES = {
    "other_ids_held": "INTEGER",
    "dob": "DATE",
    "other_ids": "STRUCT(kind VARCHAR, value VARCHAR)[]",
}


def level(comparison_name, left, right):
    comparison = next(
        c for c in comparisons() if c.get_comparison("duckdb").output_column_name == comparison_name
    )
    levels = comparison.get_comparison("duckdb").comparison_levels
    l_row, r_row = {**BASE, **left}, {**BASE, **right}
    for row, given in ((l_row, left), (r_row, right)):
        # the names without their spaces, as the features make them (unless given)
        for name in ("first", "last"):
            if f"{name}_compact" not in given and row[f"{name}_name"] is not None:
                row[f"{name}_compact"] = row[f"{name}_name"].replace(" ", "")
    con = duckdb.connect()
    cols = []
    params = []
    for side, row in (("l", l_row), ("r", r_row)):
        for k, v in row.items():
            cast = TYPES.get(k) or (
                "VARCHAR[]"
                if k.endswith(("_tokens", "_keys", "_kinds"))
                else ("INTEGER" if k.startswith("dob_") else "VARCHAR")
            )
            cols.append(f"CAST(? AS {cast}) AS {k}_{side}")
            params.append(v)
    con.execute(f"CREATE TABLE pair AS SELECT {', '.join(cols)}", params)
    for lv in levels:
        if lv.sql_condition == "ELSE":
            return lv.label_for_charts
        if con.execute(f"SELECT ({lv.sql_condition}) FROM pair").fetchall()[0][0]:
            return lv.label_for_charts
    raise AssertionError("no level matched")


@pytest.mark.parametrize(
    ("left", "right", "expected"),
    [
        ({}, {}, "Exact match on first_name"),
        (
            {},
            {"first_name": "BILL", "first_canonical": "WILLIAM", "first_phonetic": "BL"},
            "nickname-canonical equal",
        ),
        (
            {"first_name": "SMITH", "first_canonical": "SMITH", "last_name": "WILLIAM"},
            {},
            "first and last swapped",
        ),
        (
            {},
            {"first_name": "WILLAIM", "first_canonical": "WILLAIM"},
            "Jaro-Winkler distance of first_name >= 0.92",
        ),
        ({}, {"first_name": None}, "first_name is NULL"),
        # names swapped, one of them misspelt
        (
            {"first_name": "SMIHT", "first_canonical": "SMIHT", "first_phonetic": "SMT",
             "first_token": "SMIHT", "last_name": "WILLIAM"},
            {},
            "one name in the other's other place",
        ),
        # one person known by the middle name: SCOTT SMITH and WILLIAM S SMITH
        (
            {"first_name": "SCOTT", "first_canonical": "SCOTT", "first_phonetic": "SKT", "first_token": "SCOTT"},
            {"middle_name": "S"},
            "middle initial used as first",
        ),
        # ... but not when the first record's own middle name is another's
        (
            {"first_name": "SCOTT", "first_canonical": "SCOTT", "first_phonetic": "SKT", "first_token": "SCOTT",
             "middle_name": "JAMES"},
            {"middle_name": "S"},
            "All other comparisons",
        ),
    ],
)  # fmt: skip
def test_first_name(left, right, expected):
    assert level("first_name", left, right) == expected


@pytest.mark.parametrize(
    ("left", "right", "expected"),
    [
        ({"last_name": "O NEIL"}, {"last_name": "ONEIL"}, "equal without spaces"),
        ({"last_name": "DE LA CRUZ"}, {"last_name": "DELACRUZ"}, "equal without spaces"),
        (
            {
                "middle_name": "HASSAN",
                "last_name": "WARSAME",
                "last_phonetic": "WRSM",
                "last_tokens": ["WARSAME"],
            },
            {"last_name": "HASSAN", "last_phonetic": "HSN", "last_tokens": ["HASSAN"]},
            "surname is the other's middle name",
        ),
    ],
)
def test_last_name(left, right, expected):
    assert level("last_name", left, right) == expected


def test_hyphenated_surname_part():
    got = level(
        "last_name",
        {"last_name": "GARCIA LOPEZ", "last_tokens": ["GARCIA", "LOPEZ"]},
        {"last_name": "LOPEZ", "last_tokens": ["LOPEZ"], "last_phonetic": "LPS"},
    )
    assert got == "a surname part in common"


@pytest.mark.parametrize(
    ("right", "expected"),
    [
        ({}, "Exact match on dob"),
        ({"dob": "1980-04-03", "dob_month": 4, "dob_day": 3}, "day and month swapped"),
        ({"dob": "1981-03-04", "dob_year": 1981}, "year off by one"),
        ({"dob": "1980-03-14", "dob_day": 14}, "one part off"),
        (
            {"dob": "1982-09-20", "dob_year": 1982, "dob_month": 9, "dob_day": 20},
            "within two years",
        ),
        ({"dob": None, "dob_year": None, "dob_month": None, "dob_day": None}, "dob is NULL"),
    ],
)
def test_dob(right, expected):
    assert level("dob", {}, right) == expected


@pytest.mark.parametrize(
    ("right", "expected"),
    [
        ({}, "Exact match on ssn"),
        ({"ssn": "123456708", "ssn_last4": "6708"}, "Damerau-Levenshtein distance of ssn <= 1"),
        ({"ssn": "123456781", "ssn_last4": "6781"}, "Damerau-Levenshtein distance of ssn <= 1"),
        ({"ssn": None, "ssn_last4": "6780"}, "Exact match on ssn_last4"),
        ({"ssn": None, "ssn_last4": None}, "missing"),
        ({"ssn": "987654321", "ssn_last4": "4321"}, "All other comparisons"),
    ],
)
def test_ssn(right, expected):
    assert level("ssn", {}, right) == expected


def test_placeholder_ssn_is_missing_not_a_match():
    # Ingest nulls placeholder SSNs (and their last four); two such records compare as missing.
    placeholder = {"ssn": None, "ssn_last4": None}
    assert level("ssn", placeholder, placeholder) == "missing"


def test_junior_and_senior_differ_on_generation():
    assert (
        level("generation", {"name_suffix": "JR"}, {"name_suffix": "SR"}) == "All other comparisons"
    )
    assert level("generation", {"name_suffix": None}, {"name_suffix": "SR"}) == "not both given"


def _ids(*pairs):
    keys = sorted(f"{k}:{v}" for k, v in pairs)
    return {
        "other_ids": [{"kind": k, "value": v} for k, v in pairs],
        "other_keys": keys,
        "other_kinds": sorted({k for k, _ in pairs}),
        "other_key_1": keys[0],
        "other_value_1": keys[0].split(":", 1)[1],
        "other_ids_held": len(keys),
    }


@pytest.mark.parametrize(
    ("left", "right", "expected"),
    [
        (_ids(("state_id", "A1234567")), _ids(("state_id", "A1234567")), "an identifier equal"),
        (
            _ids(("state_id", "A1234567"), ("tribal_id", "X1")),
            _ids(("state_id", "A1234576")),
            "the first identifier one edit off",
        ),
        (_ids(("state_id", "A1234567")), _ids(("state_id", "B9999999")), "All other comparisons"),
        # The same value under another kind is no evidence: kinds are compared apart.
        (
            _ids(("state_id", "A1234567")),
            _ids(("drivers_licence", "A1234567")),
            "no identifier of a kind both hold",
        ),
        (_ids(("state_id", "A1234567")), {}, "no identifier of a kind both hold"),
    ],
)
def test_other_identifiers(left, right, expected):
    assert level("other_ids", left, right) == expected


@pytest.mark.parametrize(
    ("left", "right", "expected"),
    [
        ({"middle_name": "JAMES"}, {"middle_name": "JAMES"}, "Exact match on middle_name"),
        ({"middle_name": "JAMES"}, {"middle_name": "J"}, "initial matches"),
        ({"middle_name": "JAMES"}, {"middle_name": None}, "middle_name is NULL"),
        ({"middle_name": "JAMES"}, {"middle_name": "ROBERT"}, "All other comparisons"),
    ],
)
def test_middle_name(left, right, expected):
    assert level("middle_name", left, right) == expected


def test_middle_name_used_as_first():
    got = level(
        "first_name",
        {"first_name": "JAMES", "first_canonical": "JAMES", "middle_name": None},
        {"middle_name": "JAMES"},
    )
    assert got == "middle name used as first"


@pytest.mark.parametrize(
    ("right", "expected"),
    [
        ({}, "Exact match on address_line"),
        ({"address_line": "1 MAIN SR"}, "Damerau-Levenshtein distance of address_line <= 1"),
        ({"address_line": "1 MIAN ST"}, "Damerau-Levenshtein distance of address_line <= 1"),
        ({"address_line": "17 ELM AVE"}, "Exact match on zip"),
    ],
)
def test_address(right, expected):
    assert level("address", {}, right) == expected


def test_one_edit_tests_agree_with_the_distance():
    """The cheap tests before the distance reject only pairs the distance rejects: every
    pair one edit apart (any position, any kind of edit), on short and long strings."""
    import random

    from crosswalk.identity.model import one_edit_sql

    rng = random.Random(3)
    alphabet = "AB1 "  # few letters: many near-collisions
    rows = []
    for _ in range(20_000):
        a = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14)))
        b = list(a)
        k = rng.randint(0, max(0, len(b) - 1))
        kind = rng.randint(0, 4)
        if kind == 0 and b:
            b[k] = rng.choice(alphabet)
        elif kind == 1:
            b.insert(rng.randint(0, len(b)), rng.choice(alphabet))
        elif kind == 2 and b:
            del b[k]
        elif kind == 3 and len(b) > 1:
            k = min(k, len(b) - 2)
            b[k], b[k + 1] = b[k + 1], b[k]
        elif kind == 4:
            b = list("".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14))))
        rows.append((a, "".join(b)))
    con = duckdb.connect()
    con.execute("CREATE TABLE t (a VARCHAR, b VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?, ?)", rows)
    near, wrong = con.execute(
        f"""SELECT count(*) FILTER (WHERE damerau_levenshtein(a, b) <= 1),
                   count(*) FILTER (WHERE ({one_edit_sql("a", "b")}) <> (damerau_levenshtein(a, b) <= 1))
            FROM t"""
    ).fetchall()[0]
    assert near > 10_000
    assert wrong == 0
