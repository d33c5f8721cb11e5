import polars as pl
import pytest

from crosswalk.synth import SynthConfig
from crosswalk.synth.config import ErrorRates

# Tags whose rate applies to every record unconditionally (others need a precondition,
# e.g. a nickname needs a name that has one, a day-month swap a day of 12 or less).
UNCONDITIONAL = [
    "name_swap",
    "dob_year_off",
    "dob_digit_typo",
    "dob_default",
    "sex_miscoded",
    "address_missing",
    "middle_missing",
    "duplicate_client",
]


@pytest.mark.parametrize("tag", UNCONDITIONAL)
def test_measured_rate_matches_configured(state, tag):
    folder, _ = state
    truth = pl.read_parquet(folder / "truth" / "records.parquet")
    configured = getattr(ErrorRates(), tag)
    measured = truth["errors"].list.contains(tag).mean()
    n = len(truth)
    # Duplicates are drawn per original record, so their share of all records is rate/(1+rate).
    expected = configured / (1 + configured) if tag == "duplicate_client" else configured
    tolerance = 4 * (expected * (1 - expected) / n) ** 0.5 + 0.002
    assert abs(measured - expected) <= tolerance, (tag, measured, expected)


def test_conditional_errors_happen(state):
    folder, _ = state
    tags = set(
        pl.read_parquet(folder / "truth" / "records.parquet")["errors"].explode().drop_nulls()
    )
    for tag in (
        "nickname",
        "dob_day_month_swap",
        "ssn_transposed",
        "ssn_placeholder",
        "stale_address",
        "first_name_typo",
    ):
        assert tag in tags


def test_rates_are_configurable(tmp_path):
    from crosswalk.synth import synth

    config = SynthConfig(errors=ErrorRates(name_swap=0.0, dob_default=0.3))
    synth(people=1500, seed=2, out=tmp_path, config=config)
    truth = pl.read_parquet(tmp_path / "truth" / "records.parquet")
    assert not truth["errors"].list.contains("name_swap").any()
    assert truth["errors"].list.contains("dob_default").mean() > 0.2


def test_unknown_rate_is_refused():
    with pytest.raises(ValueError):
        ErrorRates(typo_rate=0.1)
