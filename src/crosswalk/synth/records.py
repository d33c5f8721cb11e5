"""Agency client records: what each agency knows of a person, with realistic errors.

A client record is a snapshot of the person on the day the agency first saw them (their
name before or after marriage, their address before or after a move), then damaged by
data-entry errors at the configured rates. Every error applied is tagged on the record
so the ground truth can explain what linkage got wrong.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from crosswalk.synth import reference as ref
from crosswalk.synth.config import ErrorRates

# Days after a marriage at which a divorce that reverts the surname takes effect.
DIVORCE_AFTER_DAYS = 2000


def client_records(
    people: pl.DataFrame,
    events: pl.DataFrame,
    rates: ErrorRates,
    rng: np.random.Generator,
    without_events: pl.DataFrame | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Client records (one per person and agency, plus duplicates) and events pointing at
    them; ``without_events`` (person_id, agency, record_day) adds records of people an
    agency knows without serving them (a foster home's resource parents)."""
    clients = events.group_by("person_id", "agency").agg(
        pl.col("start_day").min().alias("record_day")
    )
    if without_events is not None and len(without_events):
        clients = pl.concat(
            [clients, without_events.join(clients, on=["person_id", "agency"], how="anti")],
            how="vertical_relaxed",
        )
    clients = clients.sort("agency", "person_id")
    n = len(clients)
    dup = rng.random(n) < rates.duplicate_client
    dups = clients.filter(pl.Series(dup)).with_columns(
        (pl.col("record_day") + pl.Series(rng.integers(30, 1500, int(dup.sum())))).alias(
            "record_day"
        ),
        pl.lit(True).alias("duplicate"),
    )
    clients = pl.concat([clients.with_columns(pl.lit(False).alias("duplicate")), dups])
    # Agency client ids: sequential after a shuffle, so ids carry no order of the truth.
    clients = clients.with_columns(pl.Series("shuffle", rng.permutation(len(clients))))
    clients = (
        clients.sort("agency", "shuffle")
        .with_columns((pl.int_range(pl.len()).over("agency") + 1).alias("client_seq"))
        .drop("shuffle")
    )
    # Events after a duplicate's creation day belong to the duplicate id.
    dup_days = clients.filter("duplicate").select(
        "person_id",
        "agency",
        pl.col("client_seq").alias("dup_seq"),
        pl.col("record_day").alias("dup_day"),
    )
    main = clients.filter(~pl.col("duplicate")).select("person_id", "agency", "client_seq")
    events = events.join(main, on=["person_id", "agency"]).join(
        dup_days, on=["person_id", "agency"], how="left"
    )
    events = events.with_columns(
        pl.when(pl.col("dup_day").is_not_null() & (pl.col("start_day") >= pl.col("dup_day")))
        .then(pl.col("dup_seq"))
        .otherwise(pl.col("client_seq"))
        .alias("client_seq")
    ).drop("dup_seq", "dup_day")
    records = clients.join(people, on="person_id", how="left")
    records = _snapshot(records, rates, rng)
    records = _damage(records, rates, rng)
    return records, events


def _snapshot(records: pl.DataFrame, rates: ErrorRates, rng: np.random.Generator) -> pl.DataFrame:
    """The person as the agency saw them on the record day (names and address then)."""
    before_marriage = pl.col("record_day") < pl.col("marriage_day")
    after_divorce = pl.col("divorce_reverts") & (
        pl.col("record_day") >= pl.col("marriage_day") + DIVORCE_AFTER_DAYS
    )
    before_move = pl.col("moved") & (pl.col("record_day") < pl.col("move_day"))
    stale = (
        pl.col("moved") & ~before_move & pl.Series(rng.random(len(records)) < rates.stale_address)
    )
    old = before_move | stale
    return records.with_columns(
        pl.when(before_marriage | after_divorce)
        .then("birth_last_name")
        .otherwise("last_name")
        .alias("last_name"),
        *(
            pl.when(old).then(f"prev_{c}").otherwise(c).alias(c)
            for c in ("address_line", "zip", "city", "county")
        ),
        stale.alias("_stale"),
    )


def _pick(u: np.ndarray, rates: list[float]) -> np.ndarray:
    """Mutually exclusive choice: 0 = none, i = the i-th error, from one uniform draw."""
    edges = np.cumsum(rates)
    return np.where(u < edges[-1], np.searchsorted(edges, u, side="right") + 1, 0)


def _typo(col: str, pos: pl.Expr, letter: pl.Expr) -> pl.Expr:
    s = pl.col(col)
    return s.str.slice(0, pos) + letter + s.str.slice(pos + 1)


_PHONETIC = (
    ("PH", "F"),
    ("CK", "K"),
    ("EI", "IE"),
    ("LL", "L"),
    ("TT", "T"),
    ("SS", "S"),
    ("Y", "I"),
    ("C", "K"),
)


def _damage(records: pl.DataFrame, rates: ErrorRates, rng: np.random.Generator) -> pl.DataFrame:
    n = len(records)
    r = rates
    letters = np.array(list("ABCDEFGHIJKLMNOPRSTUVWY"), dtype=object)
    u = {
        k: rng.random(n)
        for k in (
            "typo",
            "typo_which",
            "typo_pos",
            "phon",
            "nick",
            "nick_pick",
            "swap",
            "dob",
            "sex",
            "sex_how",
            "ssn",
            "ssn_pos",
            "addr",
            "phone",
            "middle",
            "given",
            "suffix",
            "county",
        )
    }
    nick_table = pl.DataFrame(
        {"first_name": list(ref.nicknames_of()), "_nicks": list(ref.nicknames_of().values())},
        schema={"first_name": pl.String, "_nicks": pl.List(pl.String)},
    )
    df = records.join(nick_table, on="first_name", how="left").with_columns(
        pl.Series("_u_typo", u["typo"]),
        pl.Series("_u_which", u["typo_which"]),
        pl.Series("_u_pos", u["typo_pos"]),
        pl.Series("_letter", letters[rng.integers(0, len(letters), n)], dtype=pl.String),
        pl.Series("_u_phon", u["phon"]),
        pl.Series("_u_nick", u["nick"]),
        pl.Series("_u_pick", u["nick_pick"]),
        pl.Series(
            "_dob_err",
            _pick(
                u["dob"],
                [
                    r.dob_day_month_swap,
                    r.dob_year_off,
                    r.dob_digit_typo,
                    r.dob_default,
                    r.dob_missing,
                ],
            ),
        ),
        pl.Series(
            "_ssn_err",
            _pick(u["ssn"], [r.ssn_transposed, r.ssn_digit_typo, r.ssn_placeholder, r.ssn_missing]),
        ),
        pl.Series("_ssn_pos", (u["ssn_pos"] * 8).astype(np.int64)),
        pl.Series(
            "_placeholder",
            np.asarray(ref.PLACEHOLDER_SSNS, dtype=object)[
                rng.integers(0, len(ref.PLACEHOLDER_SSNS), n)
            ],
            dtype=pl.String,
        ),
    )
    tags: list[pl.Expr | pl.Series] = []
    # Names: nickname first (it replaces the name), then typo, phonetic, swap.
    nick = (pl.col("_u_nick") < r.nickname) & pl.col("_nicks").is_not_null()
    df = df.with_columns(
        pl.when(nick)
        .then(
            pl.col("_nicks").list.get(
                (pl.col("_u_pick") * pl.col("_nicks").list.len()).cast(pl.Int64).clip(0, None),
                null_on_oob=True,
            )
        )
        .otherwise("first_name")
        .alias("first_name"),
        nick.alias("_t_nickname"),
    )
    typo = pl.col("_u_typo") < r.name_typo
    on_first = pl.col("_u_which") < 0.5
    for col, cond in (("first_name", on_first), ("last_name", ~on_first)):
        pos = (pl.col("_u_pos") * pl.col(col).str.len_chars()).cast(pl.Int64)
        df = df.with_columns(
            pl.when(typo & cond & (pl.col(col).str.len_chars() > 2))
            .then(_typo(col, pos, pl.col("_letter")))
            .otherwise(col)
            .alias(col)
        )
    phon_target = pl.col("last_name")
    for a, b in _PHONETIC:
        phon_target = phon_target.str.replace(a, b, literal=True)
    phon = (pl.col("_u_phon") < r.name_phonetic) & (phon_target != pl.col("last_name"))
    df = df.with_columns(
        pl.when(phon).then(phon_target).otherwise("last_name").alias("last_name"),
        phon.alias("_t_name_phonetic"),
    )
    swap = pl.Series(u["swap"] < r.name_swap)
    df = df.with_columns(
        pl.when(swap).then("last_name").otherwise("first_name").alias("first_name"),
        pl.when(swap).then("first_name").otherwise("last_name").alias("last_name"),
        swap.alias("_t_name_swap"),
        (typo & on_first).alias("_t_first_name_typo"),
        (typo & ~on_first).alias("_t_last_name_typo"),
    )
    tags += [
        pl.col(c)
        for c in (
            "_t_nickname",
            "_t_name_phonetic",
            "_t_name_swap",
            "_t_first_name_typo",
            "_t_last_name_typo",
        )
    ]
    # Dates of birth.
    dob = pl.from_epoch(pl.col("dob_day"), time_unit="d")
    y, m, d = dob.dt.year(), dob.dt.month(), dob.dt.day()
    swapped = pl.date(y, d, m)
    dm_ok = (d <= 12) & (d != m)
    df = df.with_columns(
        pl.when((pl.col("_dob_err") == 1) & dm_ok)
        .then(swapped)
        .when(pl.col("_dob_err") == 2)
        .then(
            pl.date(
                y + pl.when(pl.col("_u_pos") < 0.5).then(-1).otherwise(1),
                m,
                pl.min_horizontal(d, 28),
            )
        )
        .when(pl.col("_dob_err") == 3)
        .then(pl.date(y, m, pl.when(d <= 18).then(d + 10).otherwise(d - 10)))
        .when(pl.col("_dob_err") == 4)
        .then(pl.date(1900, 1, 1))
        .when(pl.col("_dob_err") == 5)
        .then(None)
        .otherwise(dob)
        .alias("dob"),
    )
    dob_tags = {
        1: "dob_day_month_swap",
        2: "dob_year_off",
        3: "dob_digit_typo",
        4: "dob_default",
        5: "dob_missing",
    }
    for k, name in dob_tags.items():
        cond = pl.col("_dob_err") == k
        tags.append((cond & dm_ok if k == 1 else cond).alias(f"_t_{name}"))
    # Sex.
    miscoded = pl.Series(u["sex"] < r.sex_miscoded)
    df = df.with_columns(
        pl.when(miscoded)
        .then(
            pl.when(pl.Series(u["sex_how"] < 0.5))
            .then(pl.lit("U"))
            .otherwise(pl.when(pl.col("sex") == "M").then(pl.lit("F")).otherwise(pl.lit("M")))
        )
        .otherwise("sex")
        .alias("sex"),
    )
    tags.append(miscoded.alias("_t_sex_miscoded"))
    # SSN.
    s, p = pl.col("ssn"), pl.col("_ssn_pos")
    transposed = s.str.slice(0, p) + s.str.slice(p + 1, 1) + s.str.slice(p, 1) + s.str.slice(p + 2)
    digit = (
        s.str.slice(0, p)
        + ((s.str.slice(p, 1).cast(pl.Int64) + 3) % 10).cast(pl.String)
        + s.str.slice(p + 1)
    )
    has = s.is_not_null()
    err = pl.col("_ssn_err")
    really_transposed = (err == 1) & has & (s.str.slice(p, 1) != s.str.slice(p + 1, 1))
    df = df.with_columns(
        pl.when(really_transposed)
        .then(transposed)
        .when((err == 2) & has)
        .then(digit)
        .when((err == 3) & has)
        .then(pl.col("_placeholder"))
        .when(err == 4)
        .then(None)
        .otherwise(s)
        .alias("ssn_recorded"),
    )
    tags += [
        really_transposed.alias("_t_ssn_transposed"),
        ((err == 2) & has).alias("_t_ssn_digit_typo"),
        ((err == 3) & has).alias("_t_ssn_placeholder"),
        ((err == 4) & has).alias("_t_ssn_missing"),
    ]
    # Missing address, phone, middle name; stale address was decided in the snapshot.
    addr_missing = pl.Series(u["addr"] < r.address_missing)
    phone_missing = pl.Series(u["phone"] < r.phone_missing) & pl.col("phone").is_not_null()
    middle_missing = pl.Series(u["middle"] < r.middle_missing)
    df = df.with_columns(
        *(
            pl.when(addr_missing).then(None).otherwise(c).alias(c)
            for c in ("address_line", "zip", "city")
        ),
        pl.when(phone_missing).then(None).otherwise("phone").alias("phone"),
        pl.when(middle_missing).then(None).otherwise("middle_name").alias("middle_name"),
    )
    tags += [
        pl.col("_stale").alias("_t_stale_address"),
        addr_missing.alias("_t_address_missing"),
        phone_missing.alias("_t_phone_missing"),
        middle_missing.alias("_t_middle_missing"),
        pl.col("duplicate").alias("_t_duplicate_client"),
    ]
    # Given names as some agencies hold them: the middle name used as first, or first and
    # middle together in the first-name field; a suffix left off; no county kept.
    has_middle = pl.col("middle_name").is_not_null()
    as_first = pl.Series(u["given"] < r.middle_as_first) & has_middle
    compound = (
        pl.Series(
            (u["given"] >= r.middle_as_first) & (u["given"] < r.middle_as_first + r.compound_given)
        )
        & has_middle
        & (pl.col("middle_name").str.len_chars() > 1)
    )
    suffix_missing = pl.Series(u["suffix"] < r.suffix_missing) & pl.col("name_suffix").is_not_null()
    county_missing = pl.Series(u["county"] < r.county_missing) & pl.col("county").is_not_null()
    df = df.with_columns(
        pl.when(as_first)
        .then("middle_name")
        .when(compound)
        .then(pl.col("first_name") + " " + pl.col("middle_name"))
        .otherwise("first_name")
        .alias("first_name"),
        pl.when(as_first | compound).then(None).otherwise("middle_name").alias("middle_name"),
        pl.when(suffix_missing).then(None).otherwise("name_suffix").alias("name_suffix"),
        pl.when(county_missing).then(None).otherwise("county").alias("county"),
        # Tags from the values before the change (evaluated together with it).
        as_first.alias("_t_middle_as_first"),
        compound.alias("_t_compound_given"),
        suffix_missing.alias("_t_suffix_missing"),
        county_missing.alias("_t_county_missing"),
    )
    tags += [
        pl.col(c)
        for c in (
            "_t_middle_as_first",
            "_t_compound_given",
            "_t_suffix_missing",
            "_t_county_missing",
        )
    ]
    df = df.with_columns(*tags)
    tag_cols = [c for c in df.columns if c.startswith("_t_")]
    df = df.with_columns(
        pl.concat_list([pl.when(pl.col(c)).then(pl.lit(c[3:])).otherwise(None) for c in tag_cols])
        .list.drop_nulls()
        .alias("errors")
    )
    return df.drop([c for c in df.columns if c.startswith("_")] + ["_nicks"], strict=False)
