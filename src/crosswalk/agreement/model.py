"""The agreement (eMOU) as data: parties, datasets and their elements with sensitivity
classes, purposes, and the rules that say who may receive what at which level."""

from __future__ import annotations

from datetime import date
from enum import IntEnum
from functools import cached_property
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

SensitivityClass = Literal[
    "direct_identifier",  # names, SSN, address, phone, Medicaid ids
    "case_identifier",  # an agency's case or household number (groups records of one case)
    "quasi_identifier",  # date of birth, sex, ZIP, county
    "program",  # ordinary service data
    "phi",  # health information (HIPAA)
    "substance_use",  # 42 CFR Part 2
    "child_welfare",
    "behavioural_health",
    "federal_tax",  # IRS Publication 1075 / wage records
    "education",  # FERPA
    "raw_extract",  # rows as an agency sent them, before validation (quarantine)
    "audit_log",  # who read whose data, when and why
    "consent_registry",  # who consented to which disclosure (42 CFR Part 2)
]


class Level(IntEnum):
    """Access levels, ordered: a rule that grants one level grants the lower ones too."""

    aggregate = 1
    pseudonymised = 2
    identified = 3


class Party(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str
    name: str
    stewards: list[str] = Field([], description="Users who act for the party's data.")
    privacy_officers: list[str] = Field(
        [], description="Users who oversee the party's compliance (consents, the audit log)."
    )
    withdrawn_on: date | None = Field(None, description="From this date its data is excluded.")


class Dataset(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str  # "<party>.clients" or "<party>.events"
    party: str
    elements: dict[str, SensitivityClass]
    part2: bool = Field(
        False,
        description="Records of a 42 CFR Part 2 program: every element of them, whatever "
        "its class, goes out at person level only with the person's consent.",
    )


class Pseudonymised(BaseModel):
    """What the pseudonymised level may never carry, whatever a clause grants."""

    model_config = ConfigDict(extra="forbid")

    withheld: list[str] = Field(
        description="Elements that are direct identifiers in every dataset, whatever class "
        "the dataset gives them (names, SSN, street address, phone, source record ids ...)."
    )
    year_only: list[str] = Field(
        description="Date elements released as their year only (date of birth)."
    )


class Levels(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pseudonymised: Pseudonymised


class Rule(BaseModel):
    """A clause: which parties' roles, for which purposes, get which classes at what level."""

    model_config = ConfigDict(extra="forbid")

    clause: str
    title: str
    recipients: list[str] = Field(description="Party codes, or ['*'] for every party.")
    roles: list[str]
    purposes: list[str]
    classes: list[SensitivityClass]
    level: Literal["identified", "pseudonymised", "aggregate"]
    own_data_only: bool = False
    requires_consent: bool = Field(
        False,
        description="Person-level disclosure (identified or pseudonymised) needs a consent "
        "(42 CFR 2.31).",
    )
    min_cell: int | None = Field(None, ge=1)
    by_request: bool = Field(
        False,
        description="Used only by request: the clause permits, and an approved data "
        "request's grant of the principal must also cover the purpose, element, level and "
        "day (docs/agreement.md).",
    )
    effective_from: date | None = None
    effective_to: date | None = None


class Agreement(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    version: int = Field(ge=1)
    effective_from: date
    operator: str = Field(
        description="The hub operator's party code: its stewards load agreement versions "
        "and decide clerical review."
    )
    min_cell: int = Field(11, ge=1, description="Smallest count an aggregate may show (0 aside).")
    retention_years: int = Field(6, ge=1)
    purposes: dict[str, str]
    by_request: list[str] = Field(
        [],
        description="Purposes used only by request: every clause is, for them, as if it "
        "said ``by_request: true``.",
    )
    roles: dict[str, str]
    levels: Levels
    parties: list[Party]
    datasets: list[Dataset]
    rules: list[Rule]

    @model_validator(mode="after")
    def _references(self) -> Agreement:
        parties = {p.code for p in self.parties}
        problems = []
        if self.operator not in parties:
            problems.append(f"the operator {self.operator!r} is not a party")
        for d in self.datasets:
            if d.party not in parties:
                problems.append(f"dataset {d.id} names unknown party {d.party!r}")
        problems += [
            f"by_request names unknown purpose {p!r}"
            for p in self.by_request
            if p not in self.purposes
        ]
        for r in self.rules:
            for code in r.recipients:
                if code != "*" and code not in parties:
                    problems.append(f"rule {r.clause} names unknown party {code!r}")
            problems += [
                f"rule {r.clause} names unknown purpose {p!r}"
                for p in r.purposes
                if p not in self.purposes
            ]
            problems += [
                f"rule {r.clause} names unknown role {x!r}" for x in r.roles if x not in self.roles
            ]
        clauses = [r.clause for r in self.rules]
        problems += [
            f"clause {c} is defined twice"
            for c in sorted({c for c in clauses if clauses.count(c) > 1})
        ]
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def by_request_only(self, rule: Rule, purpose: str) -> bool:
        """Whether ``rule`` permits use for ``purpose`` only under a grant."""
        return rule.by_request or purpose in self.by_request

    def party(self, code: str) -> Party | None:
        return next((p for p in self.parties if p.code == code), None)

    def dataset(self, dataset_id: str) -> Dataset | None:
        return self._datasets_by_id.get(dataset_id)

    @cached_property
    def _datasets_by_id(self) -> dict[str, Dataset]:
        # A person's view asks this for every element it shows: by id, not a scan. An
        # agreement is not changed once parsed (the parsed versions are shared).
        return {d.id: d for d in reversed(self.datasets)}
