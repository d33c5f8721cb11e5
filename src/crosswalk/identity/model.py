"""The Fellegi-Sunter model: comparisons, blocking rules and training, as Splink settings,
chosen from the fields the records actually hold.

Comparisons are written for human-services records: nicknames, swapped names, a middle
name used as the first, compound and changed surnames, day-month swaps and off-by-one
years, partial SSNs and transpositions. Library levels (Jaro-Winkler,
Damerau-Levenshtein) render their SQL for the engine at hand; custom levels use portable
SQL.

``plan`` measures the records (``crosswalk.identity.profile``) and keeps only what they
can support: a comparison for each field that is filled, each level only where its
columns exist, blocking rules whose candidate pairs stay within a budget, and EM training
blocks that between them estimate every comparison. What is left out is said in
``Plan.messages``; data that cannot be linked at all raises ``LinkageError`` before
anything is written.

``baseline_settings`` is the plain configuration we measure ourselves against.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import Linker, SettingsCreator, block_on
from splink.internals.blocking_rule_creator import BlockingRuleCreator
from splink.internals.comparison_creator import ComparisonCreator

from crosswalk.errors import LinkageError, Problem
from crosswalk.identity.cluster import middle_initial_as_first_sql
from crosswalk.identity.features import FIELDS
from crosswalk.identity.profile import Coverage
from crosswalk.identity.sql import Sql, render

# Feature column -> the person_record field it is derived from.
_SOURCE: dict[str, str] = {
    "first_canonical": "first_name",
    "first_phonetic": "first_name",
    "given_tokens": "first_name",
    "first_token": "first_name",
    "middle_phonetic": "middle_name",
    "last_phonetic": "last_name",
    "last_initial": "last_name",
    "last_tokens": "last_name",
    "last_compact": "last_name",
    "first_compact": "first_name",
    "name_pair": "last_name",
    "name_pair_no_dob": "dob",
    "dob_month": "dob",
    "dob_day": "dob",
    "dob_year_even": "dob_year",
    "dob_year_odd": "dob_year",
    "other_keys": "other_ids",
    "other_kinds": "other_ids",
    "other_key_1": "other_ids",
    "other_key_head": "other_ids",
    "other_key_tail": "other_ids",
    "other_ids_held": "other_ids",
    "full_name": "last_name",
    "full_name_no_dob": "dob",
    "last_zip": "zip",
    "last_zip_no_dob": "dob",
    "initial_sound": "last_name",
    "initial_sound_no_dob": "dob",
    "surname_head": "last_name",
    "surname_tail": "last_name",
    "full_head": "last_name",
    "full_tail": "last_name",
}


def source_field(column: str) -> str:
    return _SOURCE.get(column, column)


class _Level(cll.CustomLevel):
    """A level written in DuckDB SQL, rendered for the engine at hand (``render``)."""

    def create_sql(self, sql_dialect: Any) -> str:
        return render(self.sql_condition, sql_dialect.sqlglot_dialect)


def _level(sql: str, label: str) -> cll.CustomLevel:
    return _Level(sql, label_for_charts=label)


def one_edit_sql(left: str, right: str) -> str:
    """SQL true when ``left`` and ``right`` are at most one Damerau-Levenshtein edit apart
    (one character inserted, deleted or changed, or two adjacent ones swapped), with
    cheap tests first: most pairs fail them and never reach the distance, which costs
    more than every other level together.

    One edit changes at most two adjacent characters, so for any cut ``m`` the two
    strings agree on their first ``m`` characters or on their last ``n - m - 1`` (``n``
    the shorter length). The tests are that, cut after the third character and before
    the last three, on strings of eight characters or more: a common prefix (identifiers
    issued in turn) or a common suffix (street types) passes one cut but not the other.
    They reject only pairs the distance would reject too."""
    n = f"least(length({left}), length({right}))"

    def cut(m: str) -> str:
        return (
            f"(left({left}, {m}) = left({right}, {m})"
            f" OR right({left}, {n} - {m} - 1) = right({right}, {n} - {m} - 1))"
        )

    return (
        f"abs(length({left}) - length({right})) <= 1"
        f" AND ({n} < 8 OR {cut('3')} AND {cut(f'({n} - 4)')})"
        f" AND damerau_levenshtein({left}, {right}) <= 1"
    )


def _one_edit(column: str) -> cll.CustomLevel:
    """Splink's Damerau-Levenshtein level at distance 1 (its label), cheaper per pair."""
    return _level(
        one_edit_sql(f"{column}_l", f"{column}_r"),
        f"Damerau-Levenshtein distance of {column} <= 1",
    )


class _Comparison(ComparisonCreator):
    """A comparison from an explicit list of levels (null level first, else level last)."""

    def __init__(self, name: str, levels: list[Any]):
        self._name = name
        self._levels = levels
        super().__init__(name)

    def create_comparison_levels(self) -> list[Any]:
        return self._levels

    def create_description(self) -> str:
        return self._name

    def create_output_column_name(self) -> str:
        return self._name


def _first_name(fields: frozenset[str]) -> _Comparison:
    levels: list[Any] = [
        cll.NullLevel("first_name"),
        cll.ExactMatchLevel("first_name", term_frequency_adjustments=True),
        _level("first_canonical_l = first_canonical_r", "nickname-canonical equal"),
    ]
    if "last_name" in fields:
        levels.append(
            _level(
                "first_compact_l = last_compact_r AND last_compact_l = first_compact_r",
                "first and last swapped",
            )
        )
    if "middle_name" in fields:
        levels.append(
            _level(
                "first_name_l = middle_name_r OR middle_name_l = first_name_r",
                "middle name used as first",
            )
        )
        levels.append(
            _level(
                f"{middle_initial_as_first_sql('l', 'r', True)} OR {middle_initial_as_first_sql('r', 'l', True)}",
                "middle initial used as first",
            )
        )
    if "last_name" in fields:
        levels.append(
            _level(
                "first_name_l = last_name_r OR last_name_l = first_name_r",
                "one name in the other's other place",
            )
        )
    levels += [
        cll.JaroWinklerLevel("first_name", 0.92),
        _level("first_phonetic_l = first_phonetic_r", "phonetic equal"),
        _level(
            "first_token_l = first_token_r OR first_token_l = middle_name_r"
            " OR middle_name_l = first_token_r",
            "a given-name part in common",
        ),
        cll.JaroWinklerLevel("first_name", 0.80),
        _level(
            "left(first_name_l, 1) = left(first_name_r, 1) AND (length(first_name_l) = 1 OR length(first_name_r) = 1)",
            "initial matches",
        ),
        cll.ElseLevel(),
    ]
    return _Comparison("first_name", levels)


def _middle_name() -> _Comparison:
    return _Comparison(
        "middle_name",
        [
            cll.NullLevel("middle_name"),
            cll.ExactMatchLevel("middle_name"),
            _level(
                "left(middle_name_l, 1) = left(middle_name_r, 1) AND (length(middle_name_l) = 1 OR length(middle_name_r) = 1)",
                "initial matches",
            ),
            cll.JaroWinklerLevel("middle_name", 0.88),
            _level("middle_phonetic_l = middle_phonetic_r", "phonetic equal"),
            cll.ElseLevel(),
        ],
    )


def _last_name(fields: frozenset[str] = frozenset()) -> _Comparison:
    levels: list[Any] = [
        cll.NullLevel("last_name"),
        cll.ExactMatchLevel("last_name", term_frequency_adjustments=True),
        # O NEIL and ONEIL, MC DONALD and MCDONALD, DE LA CRUZ and DELACRUZ
        _level("last_compact_l = last_compact_r", "equal without spaces"),
        cll.JaroWinklerLevel("last_name", 0.92),
        _level("list_has_any(last_tokens_l, last_tokens_r)", "a surname part in common"),
        _level("last_phonetic_l = last_phonetic_r", "phonetic equal"),
    ]
    if "middle_name" in fields:
        # A name built from the father's (and grandfather's) given names, as Somali,
        # Arabic and Ethiopian names are: one agency keeps the father's name as the
        # surname, another as the middle name with the grandfather's as the surname.
        levels.append(
            _level(
                "last_name_l = middle_name_r OR middle_name_l = last_name_r",
                "surname is the other's middle name",
            )
        )
    levels += [cll.JaroWinklerLevel("last_name", 0.80), cll.ElseLevel()]
    return _Comparison("last_name", levels)


# A pseudo-field of a plan: some records give a year of birth without a DOB.
YEAR_ONLY = "dob_year_only"


def _dob(fields: frozenset[str] = frozenset({"dob"})) -> _Comparison:
    if YEAR_ONLY in fields:
        return _dob_or_year("dob" in fields)
    return _Comparison(
        "dob",
        [
            cll.NullLevel("dob"),
            cll.ExactMatchLevel("dob"),
            _level(
                "dob_year_l = dob_year_r AND dob_month_l = dob_day_r AND dob_day_l = dob_month_r",
                "day and month swapped",
            ),
            _level(
                "abs(dob_year_l - dob_year_r) = 1 AND dob_month_l = dob_month_r AND dob_day_l = dob_day_r",
                "year off by one",
            ),
            _level(
                "(dob_year_l = dob_year_r AND dob_month_l = dob_month_r) OR (dob_year_l = dob_year_r AND dob_day_l = dob_day_r)",
                "one part off",
            ),
            _level("abs(dob_year_l - dob_year_r) <= 2", "within two years"),
            cll.ElseLevel(),
        ],
    )


def _dob_or_year(with_dob: bool) -> _Comparison:
    """The DOB comparison where some records hold only a year of birth (or an age): a
    pair with a year on both sides is compared, on its whole dates where both have one."""
    whole = "dob_l IS NOT NULL AND dob_r IS NOT NULL"
    one_side = "(dob_l IS NULL OR dob_r IS NULL)"
    levels: list[Any] = [
        _level("dob_year_l IS NULL OR dob_year_r IS NULL", "no year of birth").configure(
            is_null_level=True
        )
    ]
    if with_dob:
        levels += _dob().create_comparison_levels()[1:5]
    levels += [
        _level(f"{one_side} AND dob_year_l = dob_year_r", "same year of birth (a year only)"),
        _level(
            f"{one_side} AND abs(dob_year_l - dob_year_r) = 1",
            "years of birth one apart (a year only)",
        ),
    ]
    if with_dob:
        levels.append(_level(f"{whole} AND abs(dob_year_l - dob_year_r) <= 2", "within two years"))
    return _Comparison("dob", [*levels, cll.ElseLevel()])


def _ssn(fields: frozenset[str]) -> _Comparison:
    if "ssn" not in fields:  # last four only
        return _Comparison(
            "ssn",
            [
                cll.NullLevel("ssn_last4"),
                cll.ExactMatchLevel("ssn_last4"),
                _one_edit("ssn_last4"),
                cll.ElseLevel(),
            ],
        )
    return _Comparison(
        "ssn",
        [
            _level("ssn_last4_l IS NULL OR ssn_last4_r IS NULL", "missing").configure(
                is_null_level=True
            ),
            cll.ExactMatchLevel("ssn"),
            _one_edit("ssn"),
            cll.ExactMatchLevel("ssn_last4"),
            cll.ElseLevel(),
        ],
    )


def _generation() -> _Comparison:
    return _Comparison(
        "generation",
        [
            _level("name_suffix_l IS NULL OR name_suffix_r IS NULL", "not both given").configure(
                is_null_level=True
            ),
            cll.ExactMatchLevel("name_suffix"),
            cll.ElseLevel(),
        ],
    )


def _address(fields: frozenset[str]) -> _Comparison:
    parts = [f for f in ("address_line", "zip", "county") if f in fields]
    side = " AND ".join(f"{f}_l IS NULL" for f in parts)
    other = " AND ".join(f"{f}_r IS NULL" for f in parts)
    return _Comparison(
        "address",
        [
            _level(f"{side} OR {other}", "missing").configure(is_null_level=True),
            *(cll.ExactMatchLevel(f) for f in parts[:1]),
            # a typo in the street line (the street number is compared too)
            *([_one_edit("address_line")] if parts[0] == "address_line" else []),
            *(cll.ExactMatchLevel(f) for f in parts[1:]),
            cll.ElseLevel(),
        ],
    )


def _other_ids() -> _Comparison:
    """Typed identifiers (state id, driver's licence, a foreign national id...): only two
    identifiers of the same kind are compared."""
    # One edit off, on each record's first identifier of a kind both hold (a list lambda
    # per pair would cost more than every other comparison together).
    # Of the same kind, the values one edit apart (the kind is the key's common prefix).
    one_edit = (
        "split_part(other_key_1_l, ':', 1) = split_part(other_key_1_r, ':', 1)"
        f" AND {one_edit_sql('other_value_1_l', 'other_value_1_r')}"
    )
    return _Comparison(
        "other_ids",
        [
            # Scalar tests first: most pairs stop here without touching the lists.
            _level(
                "other_key_1_l IS NULL OR other_key_1_r IS NULL OR (split_part(other_key_1_l, ':', 1)"
                " <> split_part(other_key_1_r, ':', 1) AND (other_ids_held_l = 1 AND other_ids_held_r = 1"
                " OR NOT list_has_any(other_kinds_l, other_kinds_r)))",
                "no identifier of a kind both hold",
            ).configure(is_null_level=True),
            _level(
                "other_key_1_l = other_key_1_r OR ((other_ids_held_l > 1 OR other_ids_held_r > 1)"
                " AND list_has_any(other_keys_l, other_keys_r))",
                "an identifier equal",
            ),
            _level(one_edit, "the first identifier one edit off"),
            cll.ElseLevel(),
        ],
    )


ALL_FIELDS = frozenset(FIELDS)

# Comparison -> the fields it reads (any one of them is enough for it to exist).
COMPARISON_FIELDS: dict[str, frozenset[str]] = {
    "first_name": frozenset({"first_name"}),
    "middle_name": frozenset({"middle_name"}),
    "last_name": frozenset({"last_name"}),
    "dob": frozenset({"dob", "dob_year"}),
    "ssn": frozenset({"ssn", "ssn_last4"}),
    "sex": frozenset({"sex"}),
    "generation": frozenset({"name_suffix"}),
    "address": frozenset({"address_line", "zip", "county"}),
    "phone": frozenset({"phone"}),
    "email": frozenset({"email"}),
    "medicaid_id": frozenset({"medicaid_id"}),
    "other_ids": frozenset({"other_ids"}),
}


def comparisons(
    fields: Iterable[str] = ALL_FIELDS, names: Iterable[str] | None = None
) -> list[ComparisonCreator | dict[str, Any]]:
    """The comparisons for the usable ``fields`` (all by default), in a fixed order;
    ``names`` restricts them to those comparisons."""
    have = frozenset(fields)
    wanted = set(COMPARISON_FIELDS) if names is None else set(names)
    build: dict[str, Any] = {
        "first_name": lambda: _first_name(have),
        "middle_name": _middle_name,
        "last_name": lambda: _last_name(have),
        "dob": lambda: _dob(have),
        "ssn": lambda: _ssn(have),
        "sex": lambda: cl.ExactMatch("sex"),
        "generation": _generation,
        "address": lambda: _address(have),
        "phone": lambda: cl.ExactMatch("phone"),
        "email": lambda: cl.ExactMatch("email"),
        "medicaid_id": lambda: cl.ExactMatch("medicaid_id"),
        "other_ids": _other_ids,
    }
    return [
        build[name]()
        for name, needs in COMPARISON_FIELDS.items()
        if name in wanted and needs & have
    ]


@dataclass(frozen=True)
class Rule:
    """A blocking rule: records agree on every key column (and, for ``cross``, one
    record's column equals the other's: ``(left column, right column)``)."""

    name: str
    keys: tuple[str, ...]
    cross: tuple[tuple[str, str], ...] = ()

    @property
    def fields(self) -> frozenset[str]:
        cols = [*self.keys, *(c for pair in self.cross for c in pair)]
        return frozenset(source_field(c) for c in cols)

    @property
    def sql(self) -> str:
        terms = [f"l.{k} = r.{k}" for k in self.keys]
        terms += [f"l.{a} = r.{b}" for a, b in self.cross]
        return " AND ".join(terms)

    def creator(self) -> BlockingRuleCreator | dict[str, Any]:
        if self.cross:
            return {"blocking_rule": self.sql}
        return block_on(*self.keys)

    def pairs_sql(self, table: str) -> str:
        """SQL counting the candidate pairs this rule alone makes (from group sizes)."""
        if not self.cross:
            keys = ", ".join(self.keys)
            present = " AND ".join(f"{k} IS NOT NULL" for k in self.keys)
            return (
                f"SELECT coalesce(sum(n * (n - 1) / 2), 0) FROM "
                f"(SELECT count(*) AS n FROM {table} WHERE {present} GROUP BY {keys})"
            )
        # One record's columns against the other's: group each side on its own columns.
        left = [*self.keys, *(a for a, _ in self.cross)]
        right = [*self.keys, *(b for _, b in self.cross)]
        sides = []
        for cols in (left, right):
            present = " AND ".join(f"{c} IS NOT NULL" for c in cols)
            named = ", ".join(f"{c} AS k{i}" for i, c in enumerate(cols))
            sides.append(f"SELECT {named}, count(*) AS n FROM {table} WHERE {present} GROUP BY ALL")
        on = " AND ".join(f"a.k{i} = b.k{i}" for i in range(len(left)))
        return f"SELECT coalesce(sum(a.n * b.n), 0) FROM ({sides[0]}) a JOIN ({sides[1]}) b ON {on}"


def _swap(name: str, *keys: str) -> Rule:
    return Rule(name, keys, (("first_name", "last_name"), ("last_name", "first_name")))


# Candidate blocking rules, strongest evidence first. Each is kept only where its fields
# are filled and its candidate pairs stay within the budget. None needs both an exact DOB
# and a shared place: names with a birth year one apart, DOB month and day with the
# surname's sound (a wrong year), names with a postcode or a county (no DOB at all).
CANDIDATE_RULES: tuple[Rule, ...] = (
    Rule("SSN", ("ssn",)),
    Rule("Medicaid id", ("medicaid_id",)),
    # Typed identifiers: the first (in sorted order) of each record.
    Rule("other identifier", ("other_key_1",)),
    # A one-character typo leaves one half of an identifier whole.
    Rule("first half of the other identifier + surname initial", ("other_key_head", "last_initial")),
    Rule("second half of the other identifier + surname initial", ("other_key_tail", "last_initial")),
    Rule("DOB + surname sound", ("dob", "last_phonetic")),
    Rule("DOB + first name", ("dob", "first_canonical")),
    Rule("names + birth year", ("first_canonical", "last_compact", "dob_year")),
    Rule("name sounds + birth years (even pair)", ("first_phonetic", "last_phonetic", "dob_year_even")),
    Rule("name sounds + birth years (odd pair)", ("first_phonetic", "last_phonetic", "dob_year_odd")),
    Rule("DOB month and day + surname sound", ("dob_month", "dob_day", "last_phonetic")),
    Rule("first name + birth year + postcode", ("first_canonical", "dob_year", "zip")),
    Rule("first name + birth year + county", ("first_canonical", "dob_year", "county")),
    Rule("surname + birth year + postcode", ("last_compact", "dob_year", "zip")),
    Rule("address + surname", ("address_line", "last_compact")),
    Rule("names, no DOB on the left", (), (("full_name_no_dob", "full_name"),)),
    Rule("names, no DOB on the right", (), (("full_name", "full_name_no_dob"),)),
    # ... and by surname and postcode (a first name misspelt as well)
    Rule("surname + postcode, no DOB on the left", (), (("last_zip_no_dob", "last_zip"),)),
    Rule("surname + postcode, no DOB on the right", (), (("last_zip", "last_zip_no_dob"),)),
    # ... and, a year at most on one side, by first initial and surname sound within birth
    # years one apart (a name and a year are all some extracts hold)
    *(
        Rule(f"initial + surname sound + birth years ({w} pair), no DOB on the {side}", (f"dob_year_{w}",), (pair,))
        for w in ("even", "odd")
        for side, pair in (("left", ("initial_sound_no_dob", "initial_sound")), ("right", ("initial_sound", "initial_sound_no_dob")))
    ),
    # A surname of several words (GARCIA LOPEZ) against one of its words written alone
    # (GARCIA, or LOPEZ): by first name and birth year, or, one side without a DOB, by
    # first name. Only records with such a surname are joined on these keys.
    *(
        Rule(f"first name + {part} of a double surname + birth year, on the {side}", ("first_canonical", "dob_year"), (pair,))
        for part, key in (("first word", "surname_head"), ("last word", "surname_tail"))
        for side, pair in (("left", (key, "last_name")), ("right", ("last_name", key)))
    ),
    *(
        Rule(f"names, {part} of a double surname on the {side}, no DOB on the {other}", (), (pair,))
        for part, key in (("first word", "full_head"), ("last word", "full_tail"))
        for side, other, pair in (
            ("left", "right", (key, "full_name_no_dob")),
            ("right", "left", ("full_name_no_dob", key)),
        )
    ),
    Rule("phone", ("phone",)),
    Rule("email", ("email",)),
    Rule("address + first name", ("address_line", "first_canonical")),
    Rule("SSN last four + first name", ("ssn_last4", "first_canonical")),
    _swap("swapped names + birth year", "dob_year"),
    _swap("swapped names + postcode", "zip"),
    # Both names in either order (swapped on one side): within birth years one apart, or
    # with no DOB on one side; and the DOB with the surname's sound as the first name's.
    Rule("names in either order + birth years (even pair)", ("name_pair", "dob_year_even")),
    Rule("names in either order + birth years (odd pair)", ("name_pair", "dob_year_odd")),
    Rule("names in either order, no DOB on the left", (), (("name_pair_no_dob", "name_pair"),)),
    Rule("names in either order, no DOB on the right", (), (("name_pair", "name_pair_no_dob"),)),
    Rule("DOB + surname sound as the first name's, on the left", ("dob",), (("last_phonetic", "first_phonetic"),)),
    Rule("DOB + surname sound as the first name's, on the right", ("dob",), (("first_phonetic", "last_phonetic"),)),
    # A surname that is the other record's middle name (a father's name, in names built
    # from a father's and a grandfather's given names), by first name and birth year.
    Rule("first name + birth year, surname as the middle name on the left", ("first_canonical", "dob_year"), (("middle_name", "last_name"),)),
    Rule("first name + birth year, surname as the middle name on the right", ("first_canonical", "dob_year"), (("last_name", "middle_name"),)),
    Rule("DOB + postcode", ("dob", "zip")),
)  # fmt: skip

# A rule may make at most this many candidate pairs per record (at least MIN_RULE_PAIRS):
# beyond it a rule's buckets are too coarse for the data and pairs grow with its square.
# A rule's pairs are mostly pairs the earlier rules found already; the pairs a coarse rule
# adds are almost all of different people, each compared on every comparison. (At 1.2M
# records of the standard state, the two rules past 2 per record made 9.3M of the 21M
# pairs and found first 228 of 929k true pairs; at 120k no rule makes more than 1.1.)
RULE_PAIRS_PER_RECORD = 2
MIN_RULE_PAIRS = 200_000

# EM training blocks in order of preference. A block estimates every comparison that does
# not read its fields; blocks are added until every comparison is estimated.
EM_BLOCKS: tuple[tuple[str, ...], ...] = (
    ("dob",),
    ("ssn_last4", "last_initial"),
    ("first_name", "last_name"),
    ("phone",),
    ("email",),
    ("medicaid_id",),
    ("zip", "last_initial"),
    ("address_line",),
)
MIN_EM_PAIRS = 50
EM_MAX_PAIRS = 5e5
U_MAX_PAIRS = 1e6

DETERMINISTIC_RULES: tuple[tuple[str, ...], ...] = (
    ("ssn",),
    ("first_name", "last_name", "dob"),
    ("first_name", "last_name", "address_line"),
    ("first_name", "last_name", "zip"),
)


@dataclass(frozen=True)
class Plan:
    """The model chosen for the data: what is used, what was left out, and why."""

    fields: frozenset[str]
    comparisons: tuple[str, ...]
    rules: tuple[Rule, ...]
    rule_pairs: dict[str, int]
    em_blocks: tuple[tuple[str, ...], ...]
    deterministic: tuple[tuple[str, ...], ...]
    messages: tuple[str, ...] = ()
    coverage: dict[str, Any] = field(default_factory=dict)

    def settings(self) -> SettingsCreator:
        return SettingsCreator(
            link_type="dedupe_only",
            unique_id_column_name="unique_id",
            comparisons=comparisons(self.fields, self.comparisons),
            blocking_rules_to_generate_predictions=[r.creator() for r in self.rules],
            retain_intermediate_calculation_columns=False,
            retain_matching_columns=False,
        )

    def blocked_pairs_sql(self, table: str) -> str:
        """The candidate pairs of the plan's rules, each under the first rule that makes
        it, in the form Splink scores (``match_key``, ``join_key_l``, ``join_key_r``):
        the same pairs and keys as Splink's own blocking. Splink drops a pair an earlier
        rule made by testing every earlier rule on each pair a rule's join makes, over
        the records' full rows; here each join carries only the two ids and one
        aggregation keeps each pair once, at half the CPU (docs/benchmarks.md)."""
        joins = " UNION ALL ".join(
            f"SELECT {i} AS rule, l.unique_id AS id_l, r.unique_id AS id_r "
            f"FROM {table} l JOIN {table} r ON {rule.sql} WHERE l.unique_id < r.unique_id"
            for i, rule in enumerate(self.rules)
        )
        return (
            "SELECT CAST(min(rule) AS VARCHAR) AS match_key, id_l AS join_key_l, "
            f"id_r AS join_key_r FROM ({joins}) GROUP BY id_l, id_r"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "fields": sorted(self.fields),
            "comparisons": list(self.comparisons),
            "blocking_rules": [
                {"name": r.name, "sql": r.sql, "pairs": self.rule_pairs[r.name]} for r in self.rules
            ],
            "em_blocks": [list(b) for b in self.em_blocks],
            "deterministic_rules": [list(b) for b in self.deterministic],
            "messages": list(self.messages),
            "coverage": self.coverage,
        }


def _pairs(con: Sql, rule: Rule, table: str) -> int:
    return int(con.execute(rule.pairs_sql(table)).fetchall()[0][0])


def _columns(comparison: ComparisonCreator) -> set[str]:
    return {
        c.input_name
        for c in comparison.get_comparison("duckdb")._input_columns_used_by_case_statement
    }


def _estimated_by(block: tuple[str, ...], chosen: list[ComparisonCreator]) -> set[str]:
    """Comparisons whose m a session blocked on ``block`` estimates: as Splink decides,
    those reading none of the block's columns."""
    return {
        c.get_comparison("duckdb").output_column_name
        for c in chosen
        if not _columns(c) & set(block)
    }


def plan(con: Sql, coverage: Coverage, table: str = "link_input") -> Plan:
    """Choose comparisons, blocking rules and training blocks from ``coverage``.

    Raises ``LinkageError`` (naming the cause) when the records cannot support a model.
    """
    messages: list[str] = []
    if coverage.records < 2:
        raise LinkageError(
            "linkage cannot proceed: the hub holds fewer than two person records",
            [Problem("ingest agency extracts first (crosswalk ingest)", field="person_record")],
        )
    fields = set()
    for f in FIELDS:
        if coverage.usable(f):
            fields.add(f)
        elif coverage.filled[f] == 0:
            messages.append(f"{f}: empty in every agency's records, left out")
        else:
            messages.append(
                f"{f}: only {coverage.filled[f]} records with {coverage.distinct[f]} distinct "
                f"values, too few to compare, left out"
            )
    # Identifiers compared only for equality say nothing unless two records share a value.
    for f in ("ssn", "ssn_last4", "phone", "email", "medicaid_id", "other_ids"):
        if f in fields and coverage.repeated(f) == 0:
            fields.discard(f)
            messages.append(f"{f}: no two records share a value, left out")
    if "other_ids" in fields and "medicaid_id" in fields:
        # Ingest also files a Medicaid id as a typed identifier: count its evidence once.
        fields.discard("medicaid_id")
        messages.append("medicaid_id: compared among the typed identifiers (other_ids)")
    if "dob_year" in fields and coverage.filled["dob_year"] > coverage.filled["dob"]:
        # Some records give a year of birth (or an age) without a DOB: compared by year.
        fields.add(YEAR_ONLY)
        messages.append(
            f"dob: {coverage.filled['dob_year'] - coverage.filled['dob']:,} records hold only"
            " a year of birth, compared by year"
        )
    have = frozenset(fields)
    chosen = [c for c in comparisons(have) if isinstance(c, ComparisonCreator)]
    names = [c.get_comparison("duckdb").output_column_name for c in chosen]
    if len(names) < 2:
        raise LinkageError(
            "linkage cannot proceed: the records hold fewer than two usable fields",
            [Problem(m) for m in messages],
        )
    budget = max(MIN_RULE_PAIRS, RULE_PAIRS_PER_RECORD * coverage.records)
    rules, rule_pairs = [], {}
    for rule in CANDIDATE_RULES:
        if not rule.fields <= have:
            continue
        n = _pairs(con, rule, table)
        if n == 0:
            continue
        if n > budget:
            messages.append(
                f"blocking rule {rule.name!r}: {n:,} candidate pairs, over the budget of "
                f"{budget:,}, left out"
            )
            continue
        rules.append(rule)
        rule_pairs[rule.name] = n
    if not rules:
        raise LinkageError(
            "linkage cannot proceed: no blocking rule finds candidate pairs in these records",
            [Problem(m) for m in messages],
        )
    blocks: list[tuple[str, ...]] = []
    estimated: set[str] = set()
    for block in EM_BLOCKS:
        block_fields = {source_field(c) for c in block}
        if not block_fields <= have:
            continue
        gain = _estimated_by(block, chosen) - estimated
        if not gain or _pairs(con, Rule("em", block), table) < MIN_EM_PAIRS:
            continue
        blocks.append(block)
        estimated |= gain
        if estimated == set(names):
            break
    if not blocks:
        raise LinkageError(
            "linkage cannot proceed: no training block gives record pairs to learn from",
            [Problem(f"tried blocks {', '.join('+'.join(b) for b in EM_BLOCKS)}")],
        )
    for name in [n for n in names if n not in estimated]:
        messages.append(f"comparison {name}: no training block can estimate it, left out")
        names.remove(name)
    deterministic = tuple(
        r for r in DETERMINISTIC_RULES if set(r) <= have and _pairs(con, Rule("det", r), table) > 0
    )
    if not deterministic:
        deterministic = (rules[0].keys,)
    return Plan(
        have,
        tuple(names),
        tuple(rules),
        rule_pairs,
        tuple(blocks),
        deterministic,
        tuple(messages),
        coverage.to_dict(),
    )


def settings() -> SettingsCreator:
    """Every comparison and the first rules, for all fields (documentation and tests)."""
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=comparisons(),
        blocking_rules_to_generate_predictions=[r.creator() for r in CANDIDATE_RULES],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )


def baseline_settings(with_ssn: bool = True) -> SettingsCreator:
    """Plain Splink: exact blocking on name and DOB, Jaro-Winkler names, exact DOB and SSN
    (without SSNs: exact postcode and street address instead)."""
    others: list[ComparisonCreator | dict[str, Any]] = (
        [cl.ExactMatch("ssn")]
        if with_ssn
        else [cl.ExactMatch("zip"), cl.ExactMatch("address_line")]
    )
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=[
            cl.JaroWinklerAtThresholds("first_name", [0.92, 0.8]),
            cl.JaroWinklerAtThresholds("last_name", [0.92, 0.8]),
            cl.ExactMatch("dob"),
            *others,
        ],
        blocking_rules_to_generate_predictions=[
            block_on("first_name", "last_name"),
            block_on("dob"),
        ],
    )


def train(
    linker: Linker,
    chosen: Plan,
    seed: int = 1,
    step: Callable[[str, float], None] | None = None,
) -> dict[str, Any]:
    """Unsupervised training on samples: lambda from deterministic rules, u by random
    sampling, m by EM on the plan's complementary blocks, each on a sample of at most
    EM_MAX_PAIRS pairs so the cost stays flat as the state grows. Returns a summary.
    ``step(what, share done)`` is told of each step before it starts."""
    say = step or (lambda what, share: None)
    steps = 2 + len(chosen.em_blocks)
    det: list[str | BlockingRuleCreator] = [block_on(*r) for r in chosen.deterministic]
    say("the prior, from deterministic rules", 0.0)
    linker.training.estimate_probability_two_random_records_match(det, recall=0.8)
    say(f"u from up to {U_MAX_PAIRS:,} random pairs", 1 / steps)
    linker.training.estimate_u_using_random_sampling(max_pairs=U_MAX_PAIRS, seed=seed)
    for i, block in enumerate(chosen.em_blocks):
        say(
            f"m by EM on block {i + 1} of {len(chosen.em_blocks)} ({', '.join(block)})",
            (2 + i) / steps,
        )
        linker.training.estimate_parameters_using_expectation_maximisation(
            block_on(*block), max_pairs=EM_MAX_PAIRS, record_sample_proportion=0.1
        )
    return {**chosen.to_dict(), "u_max_pairs": U_MAX_PAIRS, "em_max_pairs": EM_MAX_PAIRS}


def train_plain(linker: Linker, seed: int = 1) -> None:
    """Training of the plain configuration: name + DOB prior, DOB and name EM blocks."""
    linker.training.estimate_probability_two_random_records_match(
        [block_on("first_name", "last_name", "dob")], recall=0.8
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=U_MAX_PAIRS, seed=seed)
    for rule in (block_on("dob"), block_on("first_name", "last_name")):
        linker.training.estimate_parameters_using_expectation_maximisation(
            rule, max_pairs=EM_MAX_PAIRS, record_sample_proportion=0.1
        )
