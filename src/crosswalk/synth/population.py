"""People, households, families and their life events, generated in bulk with numpy.

Every column is drawn for all people at once; nothing loops over people. The result is
the *truth*: what agencies' extracts are noisy copies of.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pyarrow as pa

from crosswalk.synth import reference as ref
from crosswalk.synth.config import SynthConfig

EPOCH = date(1970, 1, 1)
WINDOW_START = (date(2010, 1, 1) - EPOCH).days
_HOUSEHOLD_TYPES = np.array(
    ["single", "couple", "couple_kids", "single_parent", "elder_single", "elder_couple"]
)
_HOUSEHOLD_TYPE_P = np.array([0.27, 0.22, 0.27, 0.12, 0.07, 0.05])


def text(name: str, values: np.ndarray) -> pl.Series:
    """A string column from an object array that may hold None."""
    return pl.Series(name, pa.array(values, type=pa.string(), from_pandas=True))


def _days(d: str) -> int:
    return (date.fromisoformat(d) - EPOCH).days


def _draw_names(rng: np.random.Generator, table: ref.NameTable, n: int) -> np.ndarray:
    return table.names[rng.choice(len(table.names), size=n, p=table.weights)]


def _first_names(rng: np.random.Generator, sex: np.ndarray) -> np.ndarray:
    out = np.empty(len(sex), dtype=object)
    for s in ("M", "F"):
        idx = np.flatnonzero(sex == s)
        out[idx] = _draw_names(rng, ref.first_names(s), len(idx))
    return out


def _similar_first_names(rng: np.random.Generator, sex: np.ndarray, like: np.ndarray) -> np.ndarray:
    """A different first name that sorts next to ``like`` (JOHN/JOHNNIE, MARIA/MARIAH)."""
    out = like.copy()
    for s in ("M", "F"):
        idx = np.flatnonzero(sex == s)
        if not len(idx):
            continue
        table = np.sort(ref.first_names(s).names[:1500])
        pos = np.clip(np.searchsorted(table, like[idx].astype(str)), 0, len(table) - 1)
        step = np.where(rng.random(len(idx)) < 0.5, -1, 1)
        pos = np.clip(pos + step, 0, len(table) - 1)
        cand = table[pos]
        same = cand == like[idx]
        cand[same] = table[np.clip(pos[same] + 2, 0, len(table) - 1)]
        out[idx] = cand
    return out


def _ssns(rng: np.random.Generator, n: int) -> np.ndarray:
    """Unique SSNs valid under SSA rules (area 001-899 but 666, group 01-99, serial 0001-9999)."""

    def draw(k: int) -> np.ndarray:
        area = rng.integers(1, 900, size=k)
        area = np.where(area == 666, 667, area)
        group = rng.integers(1, 100, size=k)
        serial = rng.integers(1, 10_000, size=k)
        return area * 1_000_000 + group * 10_000 + serial

    values = draw(n)
    while True:
        _, first = np.unique(values, return_index=True)
        dup = np.ones(n, dtype=bool)
        dup[first] = False
        if not dup.any():
            break
        values[dup] = draw(int(dup.sum()))
    return np.char.zfill(values.astype(str), 9).astype(object)


def households(
    config: SynthConfig, rng: np.random.Generator, first_person: int = 0
) -> pl.DataFrame:
    """Generate ``config.people`` people in households with all their true attributes."""
    n_target = config.people
    ref_day = _days(config.reference_date)
    n_house = int(n_target / 2.2) + 16
    htype = rng.choice(len(_HOUSEHOLD_TYPES), size=n_house, p=_HOUSEHOLD_TYPE_P)
    adults = np.where(np.isin(htype, [1, 2, 5]), 2, 1)
    kids = np.where(
        np.isin(htype, [2, 3]), rng.choice([1, 2, 3, 4], size=n_house, p=[0.4, 0.35, 0.17, 0.08]), 0
    )
    size = adults + kids
    cut = int(np.searchsorted(np.cumsum(size), n_target)) + 1
    htype, adults, kids, size = htype[:cut], adults[:cut], kids[:cut], size[:cut]
    n_house = len(htype)

    # Household-level draws.
    elder = np.isin(htype, [4, 5])
    head_age = np.where(elder, rng.integers(65, 96, n_house), rng.integers(19, 65, n_house))
    head_age = np.where(kids > 0, np.clip(head_age, 22, 60), head_age)
    county_w = np.array([c[1] for c in ref.COUNTIES])
    county = rng.choice(len(ref.COUNTIES), size=n_house, p=county_w / county_w.sum())
    income = rng.choice(3, size=n_house, p=[0.22, 0.28, 0.50])  # 0 low, 1 near, 2 above
    income = np.where(
        htype == 3, np.minimum(income, rng.choice(3, size=n_house, p=[0.5, 0.3, 0.2])), income
    )
    surname = _draw_names(rng, ref.surnames(), n_house)
    compound = rng.random(n_house) < 0.03
    surname = np.where(compound, surname + " " + _draw_names(rng, ref.surnames(), n_house), surname)
    moved = rng.random(n_house) < 0.35
    move_day = rng.integers(_days("2012-01-01"), ref_day, n_house)
    married_in_window = rng.random(n_house) < 0.35
    marriage_day = np.where(
        married_in_window, rng.integers(WINDOW_START, ref_day, n_house), WINDOW_START - 3650
    )
    divorced = rng.random(n_house) < 0.08

    # Expand to people: role 0 head, 1 partner, 2.. children.
    hh = np.repeat(np.arange(n_house), size)
    starts = np.repeat(np.cumsum(size) - size, size)
    pos = np.arange(len(hh)) - starts
    hh, pos = hh[:n_target], pos[:n_target]
    n = len(hh)
    is_partner = (pos == 1) & (adults[hh] == 2)
    is_child = pos >= adults[hh]
    role = np.where(is_child, "child", np.where(is_partner, "partner", "head")).astype(object)

    sex = np.where(rng.random(n) < 0.5, "M", "F").astype(object)
    couple = adults[hh] == 2
    same_sex = rng.random(n) < 0.04
    sex = np.where(couple & (pos == 0), "M", sex)
    sex = np.where(is_partner & ~same_sex, "F", np.where(is_partner, "M", sex))
    sex = np.where((htype[hh] == 3) & (pos == 0), np.where(rng.random(n) < 0.8, "F", "M"), sex)

    age = head_age[hh].astype(np.int64)
    age = np.where(
        is_partner, np.clip(age + np.rint(rng.normal(0, 3, n)).astype(np.int64), 18, 99), age
    )
    child_age = age - rng.integers(18, 41, n)
    child_age = np.where(child_age < 0, rng.integers(0, np.maximum(age - 17, 1)), child_age)
    age = np.where(is_child, np.clip(child_age, 0, 24), age)
    dob = ref_day - age * 365 - rng.integers(0, 365, n)

    first = _first_names(rng, sex)
    middle = _first_names(rng, sex)
    last = surname[hh].copy()
    birth_last = last.copy()
    partner_maiden = _draw_names(rng, ref.surnames(), n)
    takes = rng.random(n)
    birth_last = np.where(is_partner, partner_maiden, birth_last)
    last = np.where(
        is_partner & (sex == "F"),
        np.where(
            takes < 0.75, last, np.where(takes < 0.85, partner_maiden + "-" + last, partner_maiden)
        ),
        np.where(is_partner, partner_maiden, last),
    )
    hyphen_kids = is_child & couple & (rng.random(n) < 0.04)
    last = np.where(hyphen_kids, last + "-" + partner_maiden, last)
    birth_last = np.where(hyphen_kids, last, birth_last)
    suffix = np.full(n, None, dtype=object)

    people = pl.DataFrame(
        {
            "person_id": np.arange(first_person, first_person + n, dtype=np.int64),
            "household_id": hh.astype(np.int64) + first_person,
            "role": role,
            "sex": sex,
            "first_name": first,
            "middle_name": middle,
            "last_name": last,
            "birth_last_name": birth_last,
            "dob_day": dob.astype(np.int64),
            "county_idx": county[hh],
            "income": income[hh],
            "moved": moved[hh],
            "move_day": move_day[hh],
            "marriage_day": np.where(is_partner & (sex == "F"), marriage_day[hh], -(10**6)),
            "divorce_reverts": is_partner & divorced[hh] & (rng.random(n) < 0.5),
            "htype": _HOUSEHOLD_TYPES[htype[hh]],
        }
    )
    people = people.with_columns(text("name_suffix", suffix))
    people = _mothers(people)
    people = _lookalikes(people, config, rng)
    people = _identifiers(people, config, rng)
    if config.lookalikes.twins_without_ssn:
        twins = people["lookalike_kind"] == "twins"
        partners = people.filter(twins)["lookalike_of"]
        no_ssn = twins | people["person_id"].is_in(partners.to_list())
        people = people.with_columns(
            pl.when(no_ssn).then(None).otherwise(pl.col("ssn")).alias("ssn")
        )
    return people


def _mothers(people: pl.DataFrame) -> pl.DataFrame:
    """A child's mother as a birth certificate records her (given name, maiden name, date
    of birth): the woman heading or partnering the child's household; null for adults and
    for children with no woman in the household."""
    women = (
        people.filter(pl.col("role").is_in(["head", "partner"]) & (pl.col("sex") == "F"))
        .sort("household_id", "person_id")
        .unique("household_id", keep="first", maintain_order=True)
        .select(
            "household_id",
            pl.col("first_name").alias("mother_first_name"),
            pl.col("birth_last_name").alias("mother_last_name"),
            pl.col("dob_day").alias("mother_dob_day"),
        )
    )
    joined = people.join(women, on="household_id", how="left")
    child = pl.col("role") == "child"
    return joined.with_columns(
        pl.when(child).then(pl.col(c)).otherwise(None).alias(c)
        for c in ("mother_first_name", "mother_last_name", "mother_dob_day")
    )


def _lookalikes(
    people: pl.DataFrame, config: SynthConfig, rng: np.random.Generator
) -> pl.DataFrame:
    """Make hard lookalikes: twins, JR/SR, similar siblings, common name + same DOB."""
    la = config.lookalikes
    cols = {
        c: people[c].to_numpy().copy()
        for c in ("first_name", "middle_name", "name_suffix", "dob_day", "sex")
    }
    role = people["role"].to_numpy()
    hh = people["household_id"].to_numpy()
    kind = np.full(len(people), None, dtype=object)
    partner = np.full(len(people), -1, dtype=np.int64)
    ids = people["person_id"].to_numpy()
    child = np.flatnonzero(role == "child")
    first_child = child[np.r_[True, hh[child][1:] != hh[child][:-1]]] if len(child) else child
    # Second child of a household sits right after the first.
    second = first_child + 1
    ok = (second < len(people)) & (hh[np.minimum(second, len(people) - 1)] == hh[first_child])
    ok &= role[np.minimum(second, len(people) - 1)] == "child"
    a, b = first_child[ok], second[ok]
    u = rng.random(len(a))
    twins = u < la.twins * 3  # only ~1/3 of households have two children
    sim = (u >= la.twins * 3) & (u < (la.twins + la.similar_siblings) * 3)
    cols["dob_day"][b[twins]] = cols["dob_day"][a[twins]]
    cols["first_name"][b[twins | sim]] = _similar_first_names(
        rng, cols["sex"][b[twins | sim]], cols["first_name"][a[twins | sim]]
    )
    if la.twin_names == "different":
        # Any other first and middle name of the twin's sex.
        tb = b[twins]
        names = _first_names(rng, cols["sex"][tb])
        same = names == cols["first_name"][a[twins]]
        names[same] = _similar_first_names(rng, cols["sex"][tb][same], names[same])
        cols["first_name"][tb] = names
        cols["middle_name"][tb] = _first_names(rng, cols["sex"][tb])
    kind[b[twins]] = "twins"
    kind[b[sim]] = "similar_siblings"
    partner[b[twins | sim]] = ids[a[twins | sim]]
    # Junior: a son named after his father, who lives with him.
    heads = np.flatnonzero((role == "head") & (cols["sex"] == "M"))
    son = heads + np.where(people["htype"].to_numpy()[heads] == "couple_kids", 2, 1)
    son = np.minimum(son, len(people) - 1)
    jr = (hh[son] == hh[heads]) & (role[son] == "child") & (cols["sex"][son] == "M")
    jr &= rng.random(len(heads)) < la.junior_senior * 4
    f, s = heads[jr], son[jr]
    cols["first_name"][s] = cols["first_name"][f]
    cols["middle_name"][s] = cols["middle_name"][f]
    cols["name_suffix"][s] = "JR"
    cols["name_suffix"][f] = "SR"
    kind[s] = "junior_senior"
    partner[s] = ids[f]
    # Common name, same DOB: unrelated adults made to share the most common names and a date.
    adults = np.flatnonzero(role != "child")
    pick = adults[rng.random(len(adults)) < la.common_name_same_dob]
    if len(pick) >= 2:
        pick = pick[: len(pick) // 2 * 2]
        x, y = pick[0::2], pick[1::2]
        cols["sex"][y] = cols["sex"][x]
        cols["first_name"][x] = np.where(cols["sex"][x] == "M", "JAMES", "MARY")
        cols["first_name"][y] = cols["first_name"][x]
        cols["dob_day"][y] = cols["dob_day"][x]
        kind[y] = "common_name_same_dob"
        partner[y] = ids[x]
    last = people["last_name"].to_numpy().copy()
    common = kind == "common_name_same_dob"
    idx = np.flatnonzero(common)
    last[idx] = last[np.searchsorted(ids, partner[idx])]
    return people.with_columns(
        text("first_name", cols["first_name"]),
        text("middle_name", cols["middle_name"]),
        text("name_suffix", cols["name_suffix"]),
        pl.Series("dob_day", cols["dob_day"]),
        text("sex", cols["sex"]),
        text("last_name", last),
        text("lookalike_kind", kind),
        pl.Series("lookalike_of", partner),
    )


def _identifiers(
    people: pl.DataFrame, config: SynthConfig, rng: np.random.Generator
) -> pl.DataFrame:
    """SSNs, addresses, phones, veteran status and death."""
    n = len(people)
    ref_day = _days(config.reference_date)
    age = (ref_day - people["dob_day"].to_numpy()) // 365
    has_ssn = np.where(age < 1, rng.random(n) < 0.4, rng.random(n) < 0.93)
    ssn = _ssns(rng, n)
    ssn[~has_ssn] = None
    hh = people["household_id"].to_numpy()
    uniq, inv = np.unique(hh, return_inverse=True)
    k = len(uniq)
    street = ref.surnames().names[rng.integers(0, 3000, size=(2, k))]
    sfx = ref.STREET_SUFFIXES[
        rng.choice(len(ref.STREET_SUFFIXES), size=(2, k), p=ref.STREET_SUFFIX_WEIGHTS)
    ]
    number = rng.integers(1, 9999, size=(2, k)).astype(str).astype(object)
    unit = np.where(
        rng.random((2, k)) < 0.25,
        " APT " + rng.integers(1, 40, size=(2, k)).astype(str).astype(object),
        "",
    )
    line = number + " " + street + " " + sfx + unit
    county_idx = people["county_idx"].to_numpy()
    prev_county = np.where(
        rng.random(k) < 0.3,
        rng.integers(0, len(ref.COUNTIES), k),
        county_idx[np.searchsorted(hh, uniq)],
    )
    zip_prefix = np.array([c[2] for c in ref.COUNTIES])
    area = np.array([c[3] for c in ref.COUNTIES], dtype=object)
    zip_now = (zip_prefix[county_idx] * 100 + rng.integers(1, 100, k)[inv]).astype(str)
    zip_prev = (zip_prefix[prev_county] * 100 + rng.integers(1, 100, k)).astype(str)
    city_names = (
        ref.CITY_WORDS[zip_prefix % len(ref.CITY_WORDS)]
        + ref.CITY_ENDINGS[(zip_prefix // 7) % len(ref.CITY_ENDINGS)]
    )
    phone = (
        area[county_idx]
        + rng.integers(200, 1000, n).astype(str).astype(object)
        + np.char.zfill(rng.integers(0, 10_000, n).astype(str), 4).astype(object)
    )
    phone[rng.random(n) >= 0.85] = None
    sex = people["sex"].to_numpy()
    veteran = (age >= 30) & (
        rng.random(n) < np.where(sex == "M", np.where(age >= 65, 0.22, 0.08), 0.015)
    )
    die_p = np.where(age >= 80, 0.35, np.where(age >= 65, 0.12, 0.01))
    dies = rng.random(n) < die_p
    death_day = np.maximum(rng.integers(WINDOW_START, ref_day, n), people["dob_day"].to_numpy() + 1)
    county_names = np.array([c[0] for c in ref.COUNTIES], dtype=object)
    return people.with_columns(
        text("ssn", ssn),
        text("address_line", line[0][inv]),
        text("zip", zip_now),
        text("city", city_names[county_idx]),
        text("county", county_names[county_idx]),
        text("prev_address_line", line[1][inv]),
        text("prev_zip", zip_prev[inv]),
        text("prev_city", city_names[prev_county][inv]),
        text("prev_county", county_names[prev_county][inv]),
        text("phone", phone),
        pl.Series("veteran", veteran),
        pl.Series("death_day", death_day).set(pl.Series(~dies), None),
    ).drop("county_idx")
