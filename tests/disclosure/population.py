"""A small synthetic hub for the attacks, built directly (no extracts, no linkage).

Every person has one record per agency of the programs they use and one service event per
program. Services start on the first of a month and end on the last day of one (or stay
open), as monthly enrolments do, so moving a period's end within a month changes nobody's
services: only ages move, on birthdays.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from crosswalk.identity import linked, store
from crosswalk.ingest import hub as hub_schema
from crosswalk.model import PROGRAMS

RATES = {
    "MEDICAID": 0.6,
    "SNAP": 0.4,
    "TANF": 0.12,
    "SUD_TREATMENT": 0.15,
    "MENTAL_HEALTH": 0.15,
    "HOMELESS_SERVICES": 0.06,
    "FOSTER_CARE": 0.05,
    "UI_CLAIM": 0.1,
}
# The hub's minimum cell size and cell-key secret in these tests.
K = 11
SECRET = b"disclosure test secret"
COUNTIES = ("ADAMS", "BOONE", "CASS", "DEKALB", "EDGAR", "FORD", "GREENE", "HENRY")
COUNTY_WEIGHTS = np.array([0.3, 0.2, 0.15, 0.12, 0.1, 0.06, 0.04, 0.03])
FIRST_MONTH = date(2015, 1, 1)
MONTHS = 60  # services start from 2015-01 to 2019-12


@dataclass(frozen=True)
class Person:
    enterprise_id: str
    dob: date
    sex: str
    county: str
    services: tuple[tuple[str, date, date | None], ...]  # program, start, end

    @property
    def programs(self) -> frozenset[str]:
        return frozenset(p for p, _, _ in self.services)

    def served(self, program: str, on: date) -> bool:
        """In ``program`` at some time from 2015 up to ``on``."""
        return any(p == program and start <= on for p, start, _ in self.services)


def _month(start: date, months: int) -> date:
    y, m = divmod(start.month - 1 + months, 12)
    return date(start.year + y, m + 1, 1)


def build(path: Path, people: int, seed: int) -> list[Person]:
    """Write a hub of ``people`` people to ``path``; return the truth about each."""
    rng = np.random.default_rng(seed)
    con = duckdb.connect(str(path))
    hub_schema.migrate(con)
    store.migrate(con)
    con.execute(
        "INSERT INTO batch VALUES ('B1', 'all', 'synthetic', 1, '-', now()::TIMESTAMP, "
        "'test', 'loaded', NULL, NULL)"
    )
    truth: list[Person] = []
    records: dict[str, list] = {c: [] for c in ("record_key", "agency", "dob", "sex", "county")}
    index: dict[str, list] = {c: [] for c in ("record_key", "agency", "enterprise_id")}
    events: dict[str, list] = {
        c: [] for c in ("event_key", "agency", "record_key", "program", "start_date", "end_date")
    }
    events["county"] = []
    base = date(1940, 1, 1).toordinal()
    span = date(2014, 12, 31).toordinal() - base
    for i in range(people):
        eid = f"E{i:06d}"
        dob = date.fromordinal(base + int(rng.integers(0, span)))
        sex = "F" if rng.random() < 0.52 else "M"
        county = COUNTIES[int(rng.choice(len(COUNTIES), p=COUNTY_WEIGHTS))]
        used = {p for p, r in RATES.items() if rng.random() < r} or {"MEDICAID"}
        services = []
        for agency in sorted({PROGRAMS[p] for p in used}):
            key = f"{agency}:{eid}"
            for c, v in zip(records, (key, agency, dob, sex, county), strict=True):
                records[c].append(v)
            for c, v in zip(index, (key, agency, eid), strict=True):
                index[c].append(v)
        for program in sorted(used):
            agency = PROGRAMS[program]
            start = _month(FIRST_MONTH, int(rng.integers(0, MONTHS)))
            end = (
                None
                if rng.random() < 0.2
                else _month(start, int(rng.integers(3, 37))) - timedelta(days=1)
            )
            services.append((program, start, end))
            values = (f"{agency}:V{eid}{program}", agency, f"{agency}:{eid}", program, start, end)
            for c, v in zip(events, (*values, county), strict=True):
                events[c].append(v)
        truth.append(Person(eid, dob, sex, county, tuple(services)))
    con.register("r", pa.table(records))
    con.execute(
        "INSERT INTO person_record (record_key, agency, source_record_id, batch_id, source_row, "
        "dob, sex, county) SELECT record_key, agency, record_key, 'B1', 1, dob, sex, county FROM r"
    )
    con.register("i", pa.table(index))
    con.execute(
        "INSERT INTO person_index SELECT record_key, agency, record_key, enterprise_id, 'L1', 1.0 "
        "FROM i"
    )
    con.register("e", pa.table(events))
    con.execute(
        "INSERT INTO service_event (event_key, agency, source_event_id, record_key, batch_id, "
        "source_row, program, start_date, end_date, amount, county) SELECT event_key, agency, "
        "event_key, record_key, 'B1', 1, program, start_date, end_date, 100, county FROM e"
    )
    linked.refresh(con)
    con.close()
    return truth
