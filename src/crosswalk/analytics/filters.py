"""Filters shared by every question: period, programs, counties, age groups and sex."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from crosswalk.model import PROGRAMS

# Age groups: label -> (youngest, oldest) age in whole years.
AGE_GROUPS: dict[str, tuple[int, int]] = {
    "0-5": (0, 5),
    "6-17": (6, 17),
    "18-24": (18, 24),
    "25-44": (25, 44),
    "45-64": (45, 64),
    "65+": (65, 150),
}
SEXES = ("M", "F", "U")

# Records that are not services: vital events and quarterly wages. They still count as
# pathway steps and cohort outcomes when asked for by name.
NOT_SERVICES = ("BIRTH_RECORD", "DEATH_RECORD", "WAGE_RECORD")
SERVICE_PROGRAMS: tuple[str, ...] = tuple(p for p in PROGRAMS if p not in NOT_SERVICES)


class Filters(BaseModel):
    """Which service events and people a question covers.

    ``start``/``end`` keep services that overlap the period (open services overlap every
    later day); ages are whole years on ``end`` (or on the day the query runs when there
    is no end); a person's county is the county of their latest service in the period.
    Empty tuples mean no restriction (``programs``: every service program).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: date | None = None
    end: date | None = None
    programs: tuple[str, ...] = ()
    counties: tuple[str, ...] = ()
    age_groups: tuple[str, ...] = ()
    sexes: tuple[str, ...] = ()

    @field_validator("programs")
    @classmethod
    def _known_programs(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [p for p in v if p not in PROGRAMS]
        if unknown:
            raise ValueError(f"unknown programs {unknown}; known: {', '.join(PROGRAMS)}")
        return tuple(dict.fromkeys(v))

    @field_validator("counties")
    @classmethod
    def _upper_counties(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c.strip().upper() for c in v))

    @field_validator("age_groups")
    @classmethod
    def _known_age_groups(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [a for a in v if a not in AGE_GROUPS]
        if unknown:
            raise ValueError(f"unknown age groups {unknown}; known: {', '.join(AGE_GROUPS)}")
        return v

    @field_validator("sexes")
    @classmethod
    def _known_sexes(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        v = tuple(s.upper() for s in v)
        unknown = [s for s in v if s not in SEXES]
        if unknown:
            raise ValueError(f"unknown sex codes {unknown}; known: {', '.join(SEXES)}")
        return v

    @model_validator(mode="after")
    def _ordered_period(self) -> Filters:
        if self.start and self.end and self.start > self.end:
            raise ValueError(f"the period starts ({self.start}) after it ends ({self.end})")
        return self

    @property
    def program_list(self) -> tuple[str, ...]:
        return self.programs or SERVICE_PROGRAMS
