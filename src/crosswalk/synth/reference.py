"""Reference tables the generator draws from: US name frequencies, nicknames, geography.

Names come from the US Census Bureau's 1990 frequency tables shipped by the ``names``
package (first names by sex, surnames), and nicknames from the maintained ``nicknames``
list. The census tables carry no birth year, so first names are drawn by sex only: the
state's mix of names reflects the whole 1990 population rather than each birth decade.
"""

from __future__ import annotations

import csv
import importlib.resources
from dataclasses import dataclass
from functools import cache

import numpy as np


@dataclass(frozen=True)
class NameTable:
    names: np.ndarray  # object array of upper-case names
    weights: np.ndarray  # float64, sums to 1


def _census(filename: str, limit: int | None = None) -> NameTable:
    text = importlib.resources.files("names").joinpath(filename).read_text(encoding="ascii")
    names: list[str] = []
    weights: list[float] = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        names.append(parts[0])
        weights.append(float(parts[1]))
        if limit is not None and len(names) >= limit:
            break
    w = np.asarray(weights, dtype=np.float64)
    w = np.where(w > 0, w, w[w > 0].min() / 2)
    return NameTable(np.asarray(names, dtype=object), w / w.sum())


@cache
def first_names(sex: str) -> NameTable:
    """First names of one sex ('M' or 'F') with their census frequencies."""
    return _census("dist.male.first" if sex == "M" else "dist.female.first")


@cache
def surnames() -> NameTable:
    """The 20,000 most frequent surnames (over 90% of the population)."""
    return _census("dist.all.last", limit=20_000)


@cache
def nicknames_of() -> dict[str, tuple[str, ...]]:
    """Formal first name -> its nicknames, both upper case, from the ``nicknames`` package."""
    path = importlib.resources.files("nicknames").joinpath("names.csv")
    table: dict[str, list[str]] = {}
    with path.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["relationship"] == "has_nickname":
                table.setdefault(row["name1"].upper(), []).append(row["name2"].upper())
    return {k: tuple(sorted(set(v))) for k, v in table.items()}


# Spanish names as clerks with a Spanish keyboard type them: the accents are what makes an
# extract's encoding (UTF-8 vs Latin-1) matter.
ACCENTED: dict[str, str] = {
    "JOSE": "JOSÉ",
    "MARIA": "MARÍA",
    "JESUS": "JESÚS",
    "RAUL": "RAÚL",
    "ANDRES": "ANDRÉS",
    "RAMON": "RAMÓN",
    "SOFIA": "SOFÍA",
    "LUCIA": "LUCÍA",
    "ANGEL": "ÁNGEL",
    "HERNANDEZ": "HERNÁNDEZ",
    "RAMIREZ": "RAMÍREZ",
    "GONZALEZ": "GONZÁLEZ",
    "PEREZ": "PÉREZ",
    "LOPEZ": "LÓPEZ",
    "MARTINEZ": "MARTÍNEZ",
    "RODRIGUEZ": "RODRÍGUEZ",
    "SANCHEZ": "SÁNCHEZ",
    "GOMEZ": "GÓMEZ",
    "DIAZ": "DÍAZ",
    "NUNEZ": "NÚÑEZ",
    "MUNOZ": "MUÑOZ",
    "JIMENEZ": "JIMÉNEZ",
    "FERNANDEZ": "FERNÁNDEZ",
}

# A fictional state: counties with their population weight, ZIP prefix and phone area code.
STATE_CODE = "IL"
COUNTIES: tuple[tuple[str, float, int, str], ...] = (
    ("ADAMS", 0.04, 623, "217"),
    ("BOONE", 0.03, 610, "815"),
    ("CHAMPAIGN", 0.07, 618, "217"),
    ("CLARK", 0.02, 624, "217"),
    ("COLES", 0.03, 619, "217"),
    ("DE WITT", 0.02, 617, "217"),
    ("FRANKLIN", 0.03, 628, "618"),
    ("GREENE", 0.02, 620, "618"),
    ("HANCOCK", 0.02, 613, "309"),
    ("JACKSON", 0.04, 629, "618"),
    ("KNOX", 0.03, 614, "309"),
    ("LAKE", 0.12, 600, "847"),
    ("LOGAN", 0.02, 626, "217"),
    ("MACON", 0.05, 625, "217"),
    ("MADISON", 0.08, 620, "618"),
    ("MARION", 0.03, 628, "618"),
    ("PEORIA", 0.07, 616, "309"),
    ("SANGAMON", 0.08, 627, "217"),
    ("UNION", 0.02, 629, "618"),
    ("WINNEBAGO", 0.13, 611, "815"),
)

STREET_SUFFIXES = np.array(["ST", "AVE", "RD", "DR", "LN", "CT", "BLVD", "WAY", "PL"], dtype=object)
STREET_SUFFIX_WEIGHTS = np.array([0.3, 0.2, 0.15, 0.12, 0.08, 0.06, 0.04, 0.03, 0.02])
CITY_WORDS = np.array(
    ["SPRING", "OAK", "CEDAR", "MAPLE", "RIVER", "LAKE", "HILL", "GREEN", "FAIR", "WEST", "NORTH"],
    dtype=object,
)
CITY_ENDINGS = np.array(["FIELD", "VILLE", " CITY", "WOOD", "TON", " GROVE", "DALE"], dtype=object)

PLACEHOLDER_SSNS = ("000000000", "999999999", "123456789", "111111111")
