"""Parameters of the synthetic state, validated once at the boundary."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ErrorRates(BaseModel):
    """Share of agency records that receive each kind of error (independently).

    Rates are per agency record; the ground truth lists, for every record, the tags of the
    errors it received, so measured rates can be checked and linkage misses explained.
    """

    model_config = ConfigDict(extra="forbid")

    name_typo: float = Field(0.03, ge=0, le=1, description="One character changed in a name.")
    name_phonetic: float = Field(0.01, ge=0, le=1, description="Phonetic misspelling (PH->F).")
    nickname: float = Field(0.04, ge=0, le=1, description="Nickname instead of the first name.")
    name_swap: float = Field(0.005, ge=0, le=1, description="First and last name swapped.")
    dob_day_month_swap: float = Field(0.01, ge=0, le=1, description="03/04 recorded as 04/03.")
    dob_year_off: float = Field(0.01, ge=0, le=1, description="Birth year off by one.")
    dob_digit_typo: float = Field(0.01, ge=0, le=1, description="Day of birth off by a digit.")
    dob_default: float = Field(0.005, ge=0, le=1, description="Default date 1900-01-01.")
    dob_missing: float = Field(0.01, ge=0, le=1, description="Date of birth left empty.")
    sex_miscoded: float = Field(0.01, ge=0, le=1, description="Sex recorded wrong or unknown.")
    ssn_transposed: float = Field(0.01, ge=0, le=1, description="Two adjacent SSN digits swapped.")
    ssn_digit_typo: float = Field(0.005, ge=0, le=1, description="One SSN digit wrong.")
    ssn_placeholder: float = Field(0.01, ge=0, le=1, description="000-00-0000 and the like.")
    ssn_missing: float = Field(0.05, ge=0, le=1, description="SSN left empty.")
    stale_address: float = Field(0.5, ge=0, le=1, description="Pre-move address (movers only).")
    address_missing: float = Field(0.03, ge=0, le=1, description="Address left empty.")
    phone_missing: float = Field(0.15, ge=0, le=1, description="Phone left empty.")
    middle_missing: float = Field(0.3, ge=0, le=1, description="Middle name left empty.")
    middle_as_first: float = Field(
        0.0, ge=0, le=1, description="Known by the middle name: it is recorded as the first."
    )
    compound_given: float = Field(
        0.0, ge=0, le=1, description="First and middle name recorded together as the first name."
    )
    suffix_missing: float = Field(0.0, ge=0, le=1, description="JR/SR suffix left off.")
    county_missing: float = Field(0.0, ge=0, le=1, description="County left empty.")
    duplicate_client: float = Field(0.03, ge=0, le=1, description="Second client id, same person.")
    event_bad_date: float = Field(
        0.001, ge=0, le=1, description="Service event whose start date is garbage (unusable)."
    )
    event_unknown_program: float = Field(
        0.0005,
        ge=0,
        le=1,
        description="Service event with a program code the agency never defined.",
    )


class LookalikeRates(BaseModel):
    """Share of households given each kind of hard lookalike (different people)."""

    model_config = ConfigDict(extra="forbid")

    twins: float = Field(0.01, ge=0, le=1, description="Twins: same DOB, surname, address.")
    junior_senior: float = Field(0.01, ge=0, le=1, description="Son named after his father.")
    similar_siblings: float = Field(0.01, ge=0, le=1, description="Siblings, similar names.")
    common_name_same_dob: float = Field(
        0.002, ge=0, le=1, description="Unrelated people given a common name and the same DOB."
    )
    twin_names: Literal["similar", "different"] = Field(
        "similar", description="Twins' first names: next to each other in the name list, or any."
    )
    twins_without_ssn: bool = Field(False, description="Twins have no SSN (none was issued).")


class SynthConfig(BaseModel):
    """Everything that shapes a synthetic state. Same config + same seed = same files."""

    model_config = ConfigDict(extra="forbid")

    people: int = Field(10_000, ge=10, le=50_000_000)
    seed: int = 7
    reference_date: str = "2025-12-31"
    errors: ErrorRates = ErrorRates()
    lookalikes: LookalikeRates = LookalikeRates()
    chunk_people: int = Field(1_000_000, ge=1_000, description="People generated per chunk.")


def hard_config() -> SynthConfig:
    """Harder data: fewer SSNs, more DOB errors, no county, twins with different first
    names and no SSN, juniors without suffixes, middle names used as first, compound names."""
    return SynthConfig(
        errors=ErrorRates(
            ssn_missing=0.4,
            dob_day_month_swap=0.03,
            dob_year_off=0.03,
            dob_digit_typo=0.03,
            dob_default=0.01,
            dob_missing=0.04,
            middle_as_first=0.02,
            compound_given=0.02,
            suffix_missing=0.9,
            county_missing=1.0,
        ),
        lookalikes=LookalikeRates(
            twins=0.02,
            junior_senior=0.02,
            twin_names="different",
            twins_without_ssn=True,
        ),
    )


PROFILES = {"standard": SynthConfig, "hard": hard_config}
