"""The Fellegi-Sunter model: comparisons, blocking rules and training, as Splink settings.

Comparisons are written for US human-services records: nicknames, swapped names,
hyphenated and changed surnames, day-month swaps and off-by-one years, partial SSNs
and transpositions. Library levels (Jaro-Winkler, Damerau-Levenshtein) render their SQL
for the engine at hand; custom levels use portable SQL.

``baseline_settings`` is the plain configuration we measure ourselves against.
"""

from __future__ import annotations

from typing import Any

import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import Linker, SettingsCreator, block_on
from splink.internals.blocking_rule_creator import BlockingRuleCreator
from splink.internals.comparison_creator import ComparisonCreator


def _level(sql: str, label: str) -> cll.CustomLevel:
    return cll.CustomLevel(sql, label_for_charts=label)


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


def comparisons() -> list[ComparisonCreator | dict[str, Any]]:
    first = _Comparison(
        "first_name",
        [
            cll.NullLevel("first_name"),
            cll.ExactMatchLevel("first_name", term_frequency_adjustments=True),
            _level("first_canonical_l = first_canonical_r", "nickname-canonical equal"),
            _level(
                "first_name_l = last_name_r AND last_name_l = first_name_r",
                "first and last swapped",
            ),
            cll.JaroWinklerLevel("first_name", 0.92),
            _level("first_phonetic_l = first_phonetic_r", "phonetic equal"),
            cll.JaroWinklerLevel("first_name", 0.80),
            _level(
                "left(first_name_l, 1) = left(first_name_r, 1) AND (length(first_name_l) = 1 OR length(first_name_r) = 1)",
                "initial matches",
            ),
            cll.ElseLevel(),
        ],
    )
    last = _Comparison(
        "last_name",
        [
            cll.NullLevel("last_name"),
            cll.ExactMatchLevel("last_name", term_frequency_adjustments=True),
            cll.JaroWinklerLevel("last_name", 0.92),
            _level("list_has_any(last_tokens_l, last_tokens_r)", "a surname part in common"),
            _level("last_phonetic_l = last_phonetic_r", "phonetic equal"),
            cll.JaroWinklerLevel("last_name", 0.80),
            cll.ElseLevel(),
        ],
    )
    dob = _Comparison(
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
    ssn = _Comparison(
        "ssn",
        [
            _level("ssn_last4_l IS NULL OR ssn_last4_r IS NULL", "missing").configure(
                is_null_level=True
            ),
            cll.ExactMatchLevel("ssn"),
            cll.DamerauLevenshteinLevel("ssn", 1),
            cll.ExactMatchLevel("ssn_last4"),
            cll.ElseLevel(),
        ],
    )
    suffix = _Comparison(
        "generation",
        [
            _level("name_suffix_l IS NULL OR name_suffix_r IS NULL", "not both given").configure(
                is_null_level=True
            ),
            cll.ExactMatchLevel("name_suffix"),
            cll.ElseLevel(),
        ],
    )
    place = _Comparison(
        "address",
        [
            _level(
                "address_line_l IS NULL AND zip_l IS NULL AND county_l IS NULL OR address_line_r IS NULL AND zip_r IS NULL AND county_r IS NULL",
                "missing",
            ).configure(is_null_level=True),
            cll.ExactMatchLevel("address_line"),
            cll.ExactMatchLevel("zip"),
            cll.ExactMatchLevel("county"),
            cll.ElseLevel(),
        ],
    )
    return [
        first,
        last,
        dob,
        ssn,
        cl.ExactMatch("sex"),
        suffix,
        place,
        cl.ExactMatch("phone"),
        cl.ExactMatch("medicaid_id"),
    ]


def blocking_rules() -> list[BlockingRuleCreator | dict[str, Any]]:
    """Each rule keeps buckets small; together they reach the true pairs (measured)."""
    return [
        block_on("ssn"),
        block_on("medicaid_id"),
        block_on("dob", "last_phonetic"),
        block_on("dob", "first_canonical"),
        block_on("first_canonical", "last_name", "dob_year"),
        block_on("first_canonical", "last_name", "county"),
        block_on("phone"),
        block_on("address_line", "first_canonical"),
        {
            "blocking_rule": "l.first_name = r.last_name AND l.last_name = r.first_name"
            " AND (l.dob_year = r.dob_year OR l.county = r.county)"
        },
        block_on("dob_year", "dob_day", "dob_month", "zip"),
    ]


def settings() -> SettingsCreator:
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=comparisons(),
        blocking_rules_to_generate_predictions=blocking_rules(),
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )


def baseline_settings() -> SettingsCreator:
    """Plain Splink: exact blocking on name and DOB, Jaro-Winkler names, exact DOB and SSN."""
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=[
            cl.JaroWinklerAtThresholds("first_name", [0.92, 0.8]),
            cl.JaroWinklerAtThresholds("last_name", [0.92, 0.8]),
            cl.ExactMatch("dob"),
            cl.ExactMatch("ssn"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("first_name", "last_name"),
            block_on("dob"),
        ],
    )


EM_MAX_PAIRS = 5e5


def train(linker: Linker, seed: int = 1, plain: bool = False) -> dict[str, Any]:
    """Unsupervised training on samples: lambda from deterministic rules, u by random
    sampling, m by EM on two complementary blocks. Returns a training summary."""
    det: list[str | BlockingRuleCreator] = [block_on("first_name", "last_name", "dob")]
    if not plain:
        det.insert(0, block_on("ssn"))
    linker.training.estimate_probability_two_random_records_match(det, recall=0.8)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=seed)
    sessions = (
        [block_on("dob"), block_on("first_name", "last_name")]
        if plain
        else [block_on("dob"), block_on("ssn_last4", "last_initial")]
    )
    for rule in sessions:
        # EM on a sample capped at EM_MAX_PAIRS pairs: the cost stays flat as the state grows.
        linker.training.estimate_parameters_using_expectation_maximisation(
            rule, max_pairs=EM_MAX_PAIRS, record_sample_proportion=0.1
        )
    return {
        "deterministic_rules": [
            str(r if isinstance(r, str) else r.get_blocking_rule("duckdb").blocking_rule_sql)
            for r in det
        ],
        "em_blocks": [str(r.get_blocking_rule("duckdb").blocking_rule_sql) for r in sessions],
        "u_max_pairs": 1e6,
        "em_max_pairs": EM_MAX_PAIRS,
    }
