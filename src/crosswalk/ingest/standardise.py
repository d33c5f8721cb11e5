"""Standardisation and validation as SQL over a raw extract table.

Each common-model field is one SQL expression over the agency's raw text columns. Raw
values stay beside standardised ones. An optional value that fails a rule is nulled and
its rule added to ``flags`` (the person's services still count); a row whose required
field fails is quarantined with the field, value and rule. The few values that need a
Python library (unusual phone numbers, addresses the SQL pattern cannot split) are done
once per distinct value, never once per row.
"""

from __future__ import annotations

import importlib.resources
import unicodedata
from collections import Counter
from collections.abc import Iterable
from functools import cache
from typing import TYPE_CHECKING

import phonenumbers
import pyarrow as pa
import usaddress

from crosswalk import clock
from crosswalk.ingest.mapping import EXCEL_SERIAL, ClientSpec, ColumnRef, EventSpec, FileSpec
from crosswalk.ingest.postcodes import NANP, POSTCODES
from crosswalk.model import PROGRAMS

if TYPE_CHECKING:
    from crosswalk.engines.base import Batch

SUFFIXES = ("JR", "SR", "II", "III", "IV")
# Range checks on events: a start before 1900 or more than a year ahead is refused (the
# row is quarantined); an end outside 1900-2100 (9999-12-31 "open") or an amount below
# zero or above ten million is nulled and flagged.
MIN_DATE = "1900-01-01"
MAX_START_AHEAD = "'1 year'"
MAX_END_DATE = "2100-12-31"
MAX_AMOUNT = 10_000_000
PLACEHOLDER_SSNS = (
    "123456789",
    "111111111",
    "222222222",
    "333333333",
    "444444444",
    "555555555",
    "777777777",
    "888888888",
    "078051120",
    "219099999",
)


# Latin letters with no decomposition (Jørgensen, Łukasz, Straße, Æsir): what they are
# written as in ASCII. The one-letter ones join the table below; the others are replaced.
_OWN_LETTERS = {"Ø": "O", "ø": "o", "Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Ð": "D",
                "ð": "d", "Ħ": "H", "ħ": "h", "ı": "i", "Ŧ": "T", "ŧ": "t"}  # fmt: skip
_OWN_DIGRAPHS = {"ß": "SS", "Æ": "AE", "æ": "ae", "Œ": "OE", "œ": "oe", "Þ": "TH", "þ": "th"}


# The standardising functions, written as SQL expressions over an argument (as a macro
# would be) in the SQL both engines share: DuckDB's own and, through SQLGlot, Spark's.
# Accents are stripped by a fixed table (every Latin letter whose canonical decomposition
# is an ASCII letter and combining marks, and the marks themselves), so both engines
# strip the same characters.
def _accent_table() -> tuple[str, str]:
    accented, plain = [], []
    for cp in [*range(0xC0, 0x250), *range(0x1E00, 0x1F00)]:
        parts = unicodedata.normalize("NFD", chr(cp))
        base, marks = parts[0], parts[1:]
        if marks and base.isascii() and base.isalpha() and all(map(unicodedata.combining, marks)):
            accented.append(chr(cp))
            plain.append(base)
    accented += _OWN_LETTERS
    plain += _OWN_LETTERS.values()
    # Combining marks themselves (decomposed input) are deleted: they have no counterpart.
    return "".join(accented) + "".join(map(chr, range(0x300, 0x370))), "".join(plain)


_ACCENTED, _PLAIN = _accent_table()
_SUFFIX = f"' ({'|'.join(SUFFIXES)})$'"


# Words that begin a surname of several words ("Jan van der Berg", "María de la Cruz",
# "Luc St Pierre"): in a "FIRST M LAST" name they belong to the surname, not the middle.
SURNAME_PARTICLES = ("VAN", "VON", "DER", "DEN", "DE", "DEL", "DELLA", "DA", "DI", "DU", "DOS",
                     "DAS", "LA", "LE", "ST", "STE", "SAINT", "TER", "TEN", "BIN", "BINT", "AL",
                     "EL")  # fmt: skip


def _unaccented(x: str) -> str:
    for letter, plain in _OWN_DIGRAPHS.items():
        x = f"replace({x}, '{letter}', '{plain}')"
    return f"translate({x}, '{_ACCENTED}', '{_PLAIN}')"


def _name(x: str) -> str:
    """Upper case, ASCII letters, spaces and hyphens only; runs of them one space."""
    return (
        f"nullif(trim(regexp_replace(regexp_replace(upper({_unaccented(x)}), "
        "'[^A-Z \\-]', '', 'g'), '[\\s\\-]+', ' ', 'g')), '')"
    )


def _name_words(x: str) -> str:
    """As ``_name``, but a hyphen stays inside its word (GARCIA-LOPEZ is one surname),
    so a name can be split into words before hyphens become spaces."""
    return (
        "nullif(trim(regexp_replace(regexp_replace(regexp_replace(regexp_replace("
        f"upper({_unaccented(x)}), '[^A-Z \\-]', '', 'g'), '\\s*-[\\s\\-]*', '-', 'g'),"
        " '^-+|-+$', '', 'g'), '\\s+', ' ', 'g')), '')"
    )


def _unhyphened(x: str) -> str:
    return f"nullif(trim(replace({x}, '-', ' ')), '')"


def _suffix(x: str) -> str:
    """The generational suffix ending a standardised name of several words, or NULL."""
    return f"nullif(regexp_extract({x}, {_SUFFIX}, 1), '')"


def _unsuffixed(x: str) -> str:
    return f"regexp_replace({x}, {_SUFFIX}, '')"


def _word(x: str, n: int) -> str:
    """The ``n``-th word (from 1) of a standardised name, or NULL."""
    return f"nullif(regexp_extract({x}, '^{'[^ ]+ ' * (n - 1)}([^ ]+)', 1), '')"


def _words_from(x: str, n: int) -> str:
    """Words ``n`` (from 1) to the last of a standardised name, or NULL."""
    return f"nullif(regexp_extract({x}, '^{'[^ ]+ ' * (n - 1)}(.+)$', 1), '')"


def _alnum(x: str) -> str:
    return f"nullif(regexp_replace(upper({_unaccented(x)}), '[^A-Z0-9]', '', 'g'), '')"


def _placeholder(x: str) -> str:
    """One character repeated (000000, XXXX): a placeholder, not an identifier."""
    return f"({x} IS NOT NULL AND replace({x}, left({x}, 1), '') = '')"


def _digits(x: str) -> str:
    return f"nullif(regexp_replace({x}, '[^0-9]', '', 'g'), '')"


def _whole_number(x: str, digits: int) -> str:
    """``x`` when it is, spaces aside, a whole number of 1 to ``digits`` digits; else NULL.

    An anchored ``regexp_matches`` (Spark: ``RLIKE``), not DuckDB's ``regexp_full_match``,
    which Spark lacks."""
    return f"CASE WHEN regexp_matches(trim({x}), '^[0-9]{{1,{digits}}}$') THEN trim({x}) END"


def _ssn_valid(d: str) -> str:
    return (
        f"(length({d}) = 9 AND substr({d}, 1, 3) NOT IN ('000', '666')"
        f" AND substr({d}, 1, 1) <> '9' AND substr({d}, 4, 2) <> '00'"
        f" AND substr({d}, 6, 4) <> '0000' AND {d} NOT IN {PLACEHOLDER_SSNS})"
    )


# Street suffixes written out, and their USPS abbreviations (Publication 28): agencies
# write "Elm Drive" and "ELM DR", "Rio Grande Boulevard" and "RIO GRANDE BLVD".
STREET_SUFFIXES = {"STREET": "ST", "AVENUE": "AVE", "BOULEVARD": "BLVD", "DRIVE": "DR",
                   "ROAD": "RD", "LANE": "LN", "COURT": "CT", "PLACE": "PL",
                   "PARKWAY": "PKWY", "HIGHWAY": "HWY", "CIRCLE": "CIR", "TERRACE": "TER",
                   "TRAIL": "TRL", "SQUARE": "SQ"}  # fmt: skip


def _street(x: str) -> str:
    """A street line standardised: APT for a unit however written (Apartment, Unit, #,
    APT #), PO BOX for a post-office box (P.O. Box, P O Box, Post Office Box), street
    suffixes abbreviated, single spaces."""
    line = f"regexp_replace(upper({_unaccented(x)}), '[.,]', ' ', 'g')"
    line = f"regexp_replace({line}, '\\b(POST OFFICE|P *O) *BOX\\b', 'PO BOX', 'g')"
    line = f"regexp_replace({line}, '(\\b(APARTMENT|UNIT|APT)\\b *#?|#) *', ' APT ', 'g')"
    for word, short in STREET_SUFFIXES.items():
        line = f"regexp_replace({line}, '\\b{word}\\b', '{short}', 'g')"
    return f"nullif(trim(regexp_replace({line}, '\\s+', ' ', 'g')), '')"


# Names that say the name is unknown (first, last, middle name unknown; no first name).
PLACEHOLDER_NAMES = ("FNU", "LNU", "MNU", "NFN", "NLN", "NMN", "UNKNOWN", "UNK")
NAME_COLUMNS = ("first_name", "middle_name", "last_name")

# The nickname lookup, a relation of the batch (``nickname_table``).
NICKNAMES = "cw_nickname"


@cache
def nickname_table() -> pa.Table:
    """Name -> canonical formal name, from the ``nicknames`` list (English), the project's
    own ``given_names.csv`` (Spanish, Portuguese and Italian hypocorisms, romanisations
    of Arabic and Somali names) and census frequencies.

    A nickname with several formal names (AL: ALBERT, ALAN, ALFRED) maps to the most
    frequent of them in the census tables, so the mapping is deterministic. A variant of
    the project's own list maps to its formal name there (MOHAMMED, MUHAMMAD: MOHAMED)
    even where the census ranks the variant higher.
    """
    import csv

    freq: dict[str, float] = {}
    for table in ("dist.male.first", "dist.female.first"):
        text = importlib.resources.files("names").joinpath(table).read_text(encoding="ascii")
        for line in text.splitlines():
            parts = line.split()
            if len(parts) >= 2:
                freq[parts[0]] = max(freq.get(parts[0], 0.0), float(parts[1]))
    formals: dict[str, set[str]] = {}
    path = importlib.resources.files("nicknames").joinpath("names.csv")
    with path.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["relationship"] == "has_nickname":
                formals.setdefault(row["name2"].upper(), set()).add(row["name1"].upper())
    ours: dict[str, set[str]] = {}
    own = importlib.resources.files("crosswalk.ingest").joinpath("given_names.csv")
    with own.open(encoding="ascii") as f:
        lines = (line for line in f if not line.startswith("#"))
        for row in csv.DictReader(lines):
            ours.setdefault(row["variant"], set()).add(row["formal"])
    # A name that is common in its own right (JAMES) stays itself even where the list also
    # has it as a nickname (of JAMIE); a rare one (BILL) maps to its most frequent formal name.
    best = {
        name: max({name, *options}, key=lambda o: (freq.get(o, 0.0), o == name, o))
        for name, options in formals.items()
    }
    # Our own list names the written form a variant stands for (MOHAMMED and MUHAMMAD for
    # MOHAMED, however the census ranks them): its most frequent formal name, as that
    # name is itself read.
    for name, options in ours.items():
        formal = max(options, key=lambda o: (freq.get(o, 0.0), o))
        best[name] = best.get(formal, formal)
    names = sorted(best)
    return pa.table({"name": names, "canonical": [best[n] for n in names]})


class Binds:
    """Values from a mapping, bound as query parameters (``$p0``, ``$p1``...), never pasted.

    Code values, date formats, labels, the agency and the batch id all reach DuckDB as
    parameters; only column names enter the SQL text, as quoted identifiers.
    """

    def __init__(self) -> None:
        self.values: dict[str, object] = {}
        # The parameters holding a date format (strptime's form): each engine binds them
        # in its own form (``crosswalk.engines.Batch.bind``).
        self.formats: set[str] = set()

    def __call__(self, value: object) -> str:
        return self._bind(value, False)

    def time_format(self, value: str) -> str:
        """A date format of the mapping (``%m/%d/%Y``), bound as a parameter."""
        return self._bind(value, True)

    def _bind(self, value: object, is_format: bool) -> str:
        for name, bound in self.values.items():
            if (
                (name in self.formats) is is_format
                and type(bound) is type(value)
                and bound == value
            ):
                return f"${name}"
        name = f"p{len(self.values)}"
        self.values[name] = value
        if is_format:
            self.formats.add(name)
        return f"${name}"


def _ident(name: str) -> str:
    """A source column as a quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def _ref(ref: ColumnRef, nulls: str = "") -> str:
    """One source column as a quoted identifier; several joined with a space, blanks skipped.

    A value that is blank, or one of ``nulls`` (SQL of bound upper-case tokens, such as
    ``($p3, $p4)``) once trimmed and upper-cased, is no value."""

    def part(column: str) -> str:
        x = _ident(column)
        token = f" OR upper(trim({x})) IN {nulls}" if nulls else ""
        return f"CASE WHEN trim({x}) = ''{token} THEN NULL ELSE {x} END"

    if isinstance(ref, str):
        return part(ref)
    parts = ", ".join(f"nullif(trim({part(c)}), '')" for c in ref)
    return f"nullif(concat_ws(' ', {parts}), '')"


def null_tokens(values: Iterable[str], b: Binds) -> str:
    """The mapping's null values as SQL of bound parameters, or "" for none."""
    tokens = sorted({v.strip().upper() for v in values})
    return "(" + ", ".join(f"{b(t)}::VARCHAR" for t in tokens) + ")" if tokens else ""


def _nulls_of(spec: FileSpec, field: str, b: Binds, nulls: str) -> str:
    """The null values of one field: a value the mapping names as one of the field's
    codes (a sex code ``?``) is that code, not a null."""
    codes = {k.strip().upper() for k in spec.codes.get(field, {})}
    if not codes & {v.strip().upper() for v in spec.null_values}:
        return nulls
    return null_tokens((v for v in spec.null_values if v.strip().upper() not in codes), b)


def _unfloated(x: str) -> str:
    """A whole number a spreadsheet wrote as a decimal (``123456789.0``) without the
    fraction; any other value as it is. (``split_part``, not a back-reference, which the
    engines write differently.)"""
    return (
        f"CASE WHEN regexp_matches(trim({x}), '^[0-9]+[.]0+$')"
        f" THEN split_part(trim({x}), '.', 1) ELSE {x} END"
    )


def _label(ref: ColumnRef) -> str:
    """How a mapped field's source column(s) are named in quarantine and messages."""
    return ref if isinstance(ref, str) else " + ".join(ref)


def label(ref: ColumnRef) -> str:
    """How a mapped field's source column(s) are named in quarantine and messages."""
    return _label(ref)


def _col(columns: dict[str, ColumnRef], field: str, nulls: str = "") -> str:
    """The raw value of a field as SQL over quoted identifiers, or NULL when not mapped
    (or blank, or a null value)."""
    ref = columns.get(field)
    return "NULL::VARCHAR" if ref is None else _ref(ref, nulls)


OTHER_IDS_TYPE = "STRUCT(kind VARCHAR, value VARCHAR)[]"


def _other_ids(spec: ClientSpec, b: Binds, nulls: str = "") -> tuple[str, str]:
    """(other_ids, placeholder flag) expressions: every typed identifier, standardised.

    A Medicaid id mapped as ``columns.medicaid_id`` is also an identifier of kind
    medicaid_id, so linkage finds every typed identifier in one place.
    """
    ids = dict(spec.identifiers)
    if "medicaid_id" in spec.columns and "medicaid_id" not in ids:
        ids["medicaid_id"] = spec.columns["medicaid_id"]
    if not ids:
        return f"NULL::{OTHER_IDS_TYPE}", "NULL::VARCHAR"
    digits = set(spec.identifier_digits_only)
    values = {
        kind: _digits(_unfloated(_ref(ref, nulls)))
        if kind in digits
        else _alnum(_unfloated(_ref(ref, nulls)))
        for kind, ref in sorted(ids.items())
    }
    entries = ", ".join(
        f"{{'kind': {b(kind)}::VARCHAR, 'value': CASE WHEN NOT {_placeholder(v)} THEN {v} END}}"
        for kind, v in values.items()
    )
    kept = f"list_filter([{entries}], lambda _cw_x: _cw_x.value IS NOT NULL)"
    flag = " OR ".join(_placeholder(v) for v in values.values())
    return (
        f"CASE WHEN array_length({kept}) > 0 THEN {kept} END",
        f"CASE WHEN {flag} THEN 'identifier_placeholder' END",
    )


def _date(
    columns: dict[str, ColumnRef],
    field: str,
    formats: Iterable[str],
    b: Binds,
    typed: frozenset[str],
    past_before: str | None = None,
    nulls: str = "",
) -> str:
    """A date from the mapping's formats; a column the file types as a date is used as it is.

    With ``past_before`` (SQL for a date: a date of birth cannot be later), a date read
    with a two-digit year (``%y``) that falls after it is of the century before: a DOB
    written 03/01/64 is 1964, not 2064 (strptime reads 00-68 as 20xx)."""
    expr = _col(columns, field, nulls)
    # Trimmed first: DuckDB's strptime skips surrounding blanks, Spark's parser does not.
    tries = []
    for f in formats:
        if f == EXCEL_SERIAL:
            # Day 1 is 1900-01-01 and the count includes a 29 February 1900 that never
            # was, so from 1 March 1900 (day 61) the date is 1899-12-30 plus the number.
            # A whole number (a ".0" a spreadsheet may add aside) of 61 to 99999 days.
            days = f"split_part(trim({expr}), '.', 1)"
            serial = f"regexp_matches(trim({expr}), '^[0-9]{{2,5}}([.]0*)?$')"
            tries.append(
                f"CASE WHEN {serial} AND CAST({days} AS INTEGER) >= 61"
                f" THEN CAST(DATE '1899-12-30' + CAST({days} AS INTEGER) AS TIMESTAMP) END"
            )
            continue
        parsed = f"try_strptime(trim({expr}), {b.time_format(f)}::VARCHAR)"
        if past_before is not None and "%y" in f:
            parsed = (
                f"CASE WHEN CAST({parsed} AS DATE) > {past_before}"
                f" THEN {parsed} - INTERVAL 100 YEAR ELSE {parsed} END"
            )
        tries.append(parsed)
    ref = columns.get(field)
    if isinstance(ref, str) and ref in typed:
        tries.insert(0, f"TRY_CAST({expr} AS TIMESTAMP)")
    return f"CAST(coalesce({', '.join(tries)}) AS DATE)"


def _codes(expr: str, codes: dict[str, str], b: Binds) -> str:
    """An agency's code as the common one: as written, else ignoring case (``m`` as
    ``M``), where no two of the mapping's codes differ only in case."""
    if not codes:
        return expr
    whens = " ".join(f"WHEN {b(k)}::VARCHAR THEN {b(v)}::VARCHAR" for k, v in codes.items())
    folded = Counter(k.strip().upper() for k in codes)
    loose = " ".join(
        f"WHEN {b(k.strip().upper())}::VARCHAR THEN {b(v)}::VARCHAR"
        for k, v in codes.items()
        if folded[k.strip().upper()] == 1
    )
    exact = f"CASE trim({expr}) {whens} END"
    return f"coalesce({exact}, CASE upper(trim({expr})) {loose} END)" if loose else exact


def _own_program(expr: str, agency: str, b: Binds) -> str:
    """The program, only where it is one of ``agency``'s own in the common list: a value
    sent as is (a mapping without program codes) may not file events under another
    agency's program (e.g. Part 2 treatment), nor under a program outside the list."""
    own = [p for p, owner in PROGRAMS.items() if owner == agency]
    if not own:
        return "NULL::VARCHAR"
    allowed = ", ".join(f"{b(p)}::VARCHAR" for p in own)
    return f"CASE WHEN trim({expr}) IN ({allowed}) THEN trim({expr}) END"


def client_sql(
    spec: ClientSpec,
    agency: str,
    batch_id: str,
    raw: str,
    b: Binds,
    typed_dates: frozenset[str] = frozenset(),
    updates: bool = False,
) -> str:
    """SELECT producing person_record columns plus quarantine columns from a raw table.

    A client the hub already holds (in ``person_record``) is a duplicate source id,
    unless the batch sends ``updates``. Values from the mapping are bound through ``b``;
    execute with ``b.values``.
    """
    c = spec.columns
    nulls = null_tokens(spec.null_values, b)
    col = lambda f: _col(c, f, _nulls_of(spec, f, b, nulls))  # noqa: E731
    if "full_name" in c:
        whole = col("full_name")
        if spec.name_format == "last_first":
            last_part = _name(f"split_part({whole}, ',', 1)")
            rest = _name_words(f"nullif(substr({whole}, strpos({whole}, ',') + 1), {whole})")
            # Family name first with no comma ("NGUYEN VAN AN", "DE LA CRUZ JUAN C"): the
            # surname is the first word with the particles before it, the next word the
            # first name, the words after it the middle name. Read as one surname, such a
            # name shared no name with the person's records elsewhere.
            t = _unsuffixed(_name_words(whole))
            particles = "|".join(SURNAME_PARTICLES)
            lead = f"regexp_extract({t}, '^((?:(?:{particles}) )*[^ ]+)', 1)"
            # A particle that is a surname of its own (LE, DU, DA) before the only other
            # word: "LE MINH" is surname LE, first name MINH.
            lead = f"CASE WHEN {lead} = {t} THEN {_word(t, 1)} ELSE {lead} END"
            after = f"nullif(trim(substr({t}, length({lead}) + 1)), '')"
            no_comma = f"strpos({whole}, ',') = 0 AND {_word(t, 2)} IS NOT NULL"
            names = {
                "last": f"CASE WHEN {no_comma} THEN {_unhyphened(lead)}"
                f" ELSE {_unsuffixed(last_part)} END",
                "suffix": f"CASE WHEN {no_comma} THEN {_suffix(_name(whole))}"
                f" ELSE {_suffix(last_part)} END",
                "first": f"CASE WHEN {no_comma} THEN {_unhyphened(_word(after, 1))}"
                f" ELSE {_unhyphened(_word(rest, 1))} END",
                "middle": f"CASE WHEN {no_comma} THEN {_unhyphened(_words_from(after, 2))}"
                f" ELSE {_unhyphened(_words_from(rest, 2))} END",
            }
        else:
            # "FIRST MIDDLE... LAST": words are split before hyphens become spaces, so a
            # hyphenated surname stays the surname; particles before the last word
            # (VAN DER, DE LA, ST) are the surname's too; every word between is the middle.
            t = _unsuffixed(_name_words(whole))
            rest = _words_from(t, 2)
            particles = "|".join(SURNAME_PARTICLES)
            last = (
                f"CASE WHEN length({_word(t, 2)}) = 1 AND {_word(t, 3)} IS NOT NULL"
                f" THEN {_words_from(t, 3)}"  # after a middle initial, all is the surname
                f" ELSE regexp_extract({rest}, '(?:^| )((?:(?:{particles}) )*[^ ]+)$', 1) END"
            )
            middle = f"trim(left({rest}, length({rest}) - length({last})))"
            names = {
                "first": _unhyphened(_word(t, 1)),
                "middle": _unhyphened(middle),
                "last": _unhyphened(last),
                "suffix": _suffix(_name(whole)),
            }
        first_raw, last_raw = whole, "NULL::VARCHAR"
    else:
        last_clean = _name(col("last_name"))
        names = {
            "first": _name(col("first_name")),
            "middle": _name(col("middle_name")),
            "last": _unsuffixed(last_clean),
            "suffix": f"coalesce({_name(col('name_suffix'))}, {_suffix(last_clean)})",
        }
        first_raw, last_raw = col("first_name"), col("last_name")
    ssn_digits = _digits(_unfloated(col("ssn")))
    if spec.ssn_form == "last4":
        ssn = "NULL::VARCHAR"
        last4 = (
            f"CASE WHEN length({ssn_digits}) = 4 AND {ssn_digits} <> '0000' THEN {ssn_digits} END"
        )
        ssn_flag = f"CASE WHEN {col('ssn')} IS NOT NULL AND {last4} IS NULL THEN 'ssn_invalid' END"
    else:
        ssn = f"CASE WHEN {_ssn_valid(ssn_digits)} THEN {ssn_digits} END"
        last4 = f"right({ssn}, 4)"
        ssn_flag = (
            f"CASE WHEN {ssn_digits} IN {PLACEHOLDER_SSNS} OR {ssn_digits} IN ('000000000', '999999999') THEN 'ssn_placeholder'"
            f" WHEN {col('ssn')} IS NOT NULL AND {ssn} IS NULL THEN 'ssn_invalid' END"
        )
    today = (
        f"{b(clock.today())}::DATE"  # bound, never the keyword: a column may be named CURRENT_DATE
    )
    dob = _date(c, "dob", spec.date_formats, b, typed_dates, past_before=today, nulls=nulls)
    sex = _codes(col("sex"), spec.codes.get("sex", {}), b)
    if "full_address" in c:
        addr = col("full_address")
        pattern = "'^(.*), *([^,]*), *([A-Za-z]{2}) +([0-9]{5})'"
        line = f"regexp_extract({addr}, {pattern}, 1)"
        city, state, zip_ = (
            f"nullif(regexp_extract({addr}, {pattern}, {i}), '')" for i in (2, 3, 4)
        )
        street = _street(f"nullif({line}, '')")
        address_raw = addr
    else:
        street = _street(col("address_line"))
        city, state, zip_ = col("city"), col("state"), col("zip")
        address_raw = f"nullif(concat_ws(', ', {col('address_line')}, {col('city')}, {col('state')}, {col('zip')}), '')"
    if spec.country == "US":
        # A ZIP of four digits (or ZIP+4 with four) lost its leading zero in a spreadsheet,
        # as every ZIP of New England and New Jersey does: no ZIP has four digits.
        z = f"trim({_unfloated(zip_)})"
        zip5 = (
            f"CASE WHEN regexp_matches({z}, '^[0-9]{{4}}([- ][0-9]{{4}})?$') THEN '0' || left({z}, 4)"
            f" WHEN regexp_matches(left({_digits(z)}, 5), '^[0-9]{{5}}$') THEN left({_digits(z)}, 5) END"
        )
    else:
        code = _alnum(zip_)
        zip5 = f"CASE WHEN regexp_matches({code}, {b(POSTCODES[spec.country])}::VARCHAR) THEN {code} END"
    phone_d = _digits(_unfloated(col("phone")))
    if spec.country in NANP:
        phone = (
            f"CASE WHEN length({phone_d}) = 10 AND substr({phone_d}, 1, 1) NOT IN ('0', '1') THEN '+1' || {phone_d}"
            f" WHEN length({phone_d}) = 11 AND substr({phone_d}, 1, 1) = '1' THEN '+' || {phone_d} END"
        )
    else:
        phone = "NULL::VARCHAR"  # parsed once per distinct value with the country's rules
    # An email address: trimmed and lower case (agencies write MAIL@X.COM and mail@x.com);
    # a value with no single @ between a name and a dotted domain is not an address.
    email_t = f"lower(trim({col('email')}))"
    email = f"CASE WHEN regexp_matches({email_t}, '^[^@ ]+@[^@ ]+[.][^@ .]+$') THEN {email_t} END"
    other_ids, id_flag = _other_ids(spec, b, nulls)
    src_id = f"nullif(trim({_unfloated(col('source_record_id'))}), '')"
    flags = [
        f"CASE WHEN {col('dob')} IS NOT NULL AND {dob} IS NULL THEN 'dob_unparseable' END",
        f"CASE WHEN {dob} = DATE '1900-01-01' THEN 'dob_default' END",
        f"CASE WHEN {dob} < DATE '1900-01-01' OR {dob} > {today} THEN 'dob_implausible' END",
        ssn_flag,
        f"CASE WHEN {col('sex')} IS NOT NULL AND {sex} IS NULL THEN 'sex_unknown_code' END",
        f"CASE WHEN {zip_} IS NOT NULL AND {zip5} IS NULL THEN 'zip_invalid' END",
        f"CASE WHEN {col('phone')} IS NOT NULL AND {phone} IS NULL THEN 'phone_nonstandard' END",
        f"CASE WHEN nullif(trim({col('email')}), '') IS NOT NULL AND {email} IS NULL THEN 'email_invalid' END",
        id_flag,
    ]
    dob_ok = f"CASE WHEN {dob} > DATE '1900-01-01' AND {dob} <= {today} THEN {dob} END"
    # A year of birth alone, or an age on a date: the year is all linkage gets of them.
    # The whole value is the number (spaces aside): "-5", "1e2" or "19-90" is no age or
    # year, where keeping only its digits read them as 5, 12 and 1990.
    year_d = _whole_number(col("birth_year"), 4)
    age_d = _whole_number(col("age"), 3)
    ages_on = f"{b(spec.ages_on or clock.today())}::DATE"
    year_given = (
        f"CASE WHEN TRY_CAST({year_d} AS INTEGER) BETWEEN 1900"
        f" AND year({today}) THEN TRY_CAST({year_d} AS INTEGER) END"
    )
    # An ages_on far in the future or the past gives no year after today or before 1900.
    year_of_age = (
        f"CASE WHEN TRY_CAST({age_d} AS INTEGER) <= 125"
        f" AND year({ages_on}) - TRY_CAST({age_d} AS INTEGER) BETWEEN 1900 AND year({today})"
        f" THEN year({ages_on}) - TRY_CAST({age_d} AS INTEGER) END"
    )
    flags += [
        f"CASE WHEN {col('birth_year')} IS NOT NULL AND {year_given} IS NULL THEN 'birth_year_implausible' END",
        f"CASE WHEN {col('age')} IS NOT NULL AND {year_of_age} IS NULL THEN 'age_implausible' END",
    ]
    birth_year = f"coalesce(year({dob_ok}), {year_given}, {year_of_age})"
    # The mother a record names (a birth certificate's): her names and DOB, as the
    # record's own are standardised; an implausible DOB is no DOB.
    mother_dob = _date(c, "mother_dob", spec.date_formats, b, typed_dates, nulls=nulls)
    mother_dob = f"CASE WHEN {mother_dob} > DATE '1900-01-01' AND {mother_dob} <= {today} THEN {mother_dob} END"
    held, held_rule = "", ""
    if not updates:
        held = (
            "LEFT JOIN (SELECT record_key FROM person_record) AS _cw_held"
            f" ON _cw_held.record_key = {b(agency + ':')}::VARCHAR || {src_id}"
        )
        held_rule = "WHEN _cw_held.record_key IS NOT NULL THEN 'duplicate_source_id'"
    return f"""
    SELECT
      {b(agency + ":")}::VARCHAR || {src_id} AS record_key, {b(agency)}::VARCHAR AS agency,
      {src_id} AS source_record_id, {b(batch_id)}::VARCHAR AS batch_id, _row AS source_row,
      ({names["first"]}) AS first_name, ({names["middle"]}) AS middle_name,
      nullif({names["last"]}, '') AS last_name, ({names["suffix"]}) AS name_suffix,
      NULL::VARCHAR AS first_name_canonical,
      {first_raw} AS first_name_raw, {last_raw} AS last_name_raw,
      {dob_ok} AS dob, {col("dob")} AS dob_raw,
      coalesce({sex}, 'U') AS sex, {col("sex")} AS sex_raw,
      {ssn} AS ssn, {last4} AS ssn_last4, {col("ssn")} AS ssn_raw,
      {street} AS address_line, nullif(upper(trim({city})), '') AS city,
      nullif(upper(trim({state})), '') AS state, {zip5} AS zip,
      nullif(upper(trim({col("county")})), '') AS county, {address_raw} AS address_raw,
      {phone} AS phone, {col("phone")} AS phone_raw,
      nullif(trim({_unfloated(col("case_id"))}), '') AS case_id, nullif(trim({_unfloated(col("household_id"))}), '') AS household_id,
      nullif(trim({_unfloated(col("medicaid_id"))}), '') AS medicaid_id,
      {other_ids} AS other_ids, {b(spec.country)}::VARCHAR AS country,
      list_filter([{", ".join(flags)}], lambda _cw_f: _cw_f IS NOT NULL) AS flags,
      {birth_year} AS birth_year, {email} AS email,
      {_name(col("mother_first_name"))} AS mother_first_name,
      {_unsuffixed(_name(col("mother_last_name")))} AS mother_last_name,
      {mother_dob} AS mother_dob,
      CASE WHEN {src_id} IS NULL THEN 'required'
           WHEN row_number() OVER (PARTITION BY {src_id} ORDER BY _row) > 1 THEN 'duplicate_source_id'
           {held_rule} END AS q_rule,
      {b(_label(c["source_record_id"]))}::VARCHAR AS q_field, {col("source_record_id")} AS q_value,
      'source_record_id' AS q_common,
      to_json(_cw_raw) AS q_raw
    FROM {raw} AS _cw_raw {held}
    """


def event_sql(
    spec: EventSpec,
    agency: str,
    batch_id: str,
    raw: str,
    b: Binds,
    typed_dates: frozenset[str] = frozenset(),
    updates: bool = False,
) -> str:
    """SELECT producing service_event columns plus quarantine columns from a raw table.

    Events refer to the agency's clients in ``person_record`` (the hub's and this batch's,
    which are inserted first). Values from the mapping are bound through ``b``.
    """
    c = spec.columns
    nulls = null_tokens(spec.null_values, b)
    col = lambda f: _col(c, f, _nulls_of(spec, f, b, nulls))  # noqa: E731
    src_id = f"nullif(trim({_unfloated(col('source_event_id'))}), '')"
    client = f"nullif(trim({_unfloated(col('source_record_id'))}), '')"
    program = _own_program(_codes(col("program"), spec.codes.get("program", {}), b), agency, b)
    start = _date(c, "start_date", spec.date_formats, b, typed_dates, nulls=nulls)
    end = _date(c, "end_date", spec.date_formats, b, typed_dates, nulls=nulls)
    amount_any = f"TRY_CAST(replace(replace({col('amount')}, '$', ''), ',', '') AS DECIMAL(18,2))"
    amount_ok = f"{amount_any} BETWEEN 0 AND {MAX_AMOUNT}"
    amount = f"CASE WHEN {amount_ok} THEN CAST({amount_any} AS DECIMAL(12,2)) END"
    start_ok = f"{start} BETWEEN DATE '{MIN_DATE}' AND {b(clock.today())}::DATE + INTERVAL {MAX_START_AHEAD}"
    end_ok = f"{end} BETWEEN DATE '{MIN_DATE}' AND DATE '{MAX_END_DATE}'"
    checks = [
        (src_id + " IS NULL", "required", "source_event_id"),
        (client + " IS NULL", "required", "source_record_id"),
        (f"{col('program')} IS NULL", "required", "program"),
        (f"{program} IS NULL", "unknown_code", "program"),
        (f"{col('start_date')} IS NULL", "required", "start_date"),
        (f"{start} IS NULL", "unparseable_date", "start_date"),
        (f"NOT ({start_ok})", "date_out_of_range", "start_date"),
        ("k.source_record_id IS NULL", "unknown_client", "source_record_id"),
        (
            f"row_number() OVER (PARTITION BY {src_id} ORDER BY _row) > 1",
            "duplicate_source_id",
            "source_event_id",
        ),
    ]
    held = ""
    if not updates:  # an update batch sends events the hub holds as new versions of them
        # An event the hub already holds from another batch.
        checks.append(("_cw_held.event_key IS NOT NULL", "duplicate_source_id", "source_event_id"))
        held = (
            "LEFT JOIN (SELECT event_key FROM service_event) AS _cw_held"
            f" ON _cw_held.event_key = {b(agency + ':')}::VARCHAR || {src_id}"
        )
    rule = "CASE " + " ".join(f"WHEN {cond} THEN '{r}'" for cond, r, _ in checks) + " END"
    field = (
        "CASE "
        + " ".join(f"WHEN {cond} THEN {b(_label(c.get(f, f)))}::VARCHAR" for cond, _, f in checks)
        + " END"
    )
    value = (
        "CASE "
        + " ".join(f"WHEN {cond} THEN {col(f) if f in c else 'NULL'}" for cond, _, f in checks)
        + " END"
    )
    flags = [
        f"CASE WHEN {col('end_date')} IS NOT NULL AND {end} IS NULL THEN 'end_date_unparseable' END",
        f"CASE WHEN {end} IS NOT NULL AND NOT ({end_ok}) THEN 'end_date_out_of_range' END",
        f"CASE WHEN {end_ok} AND {end} < {start} THEN 'end_before_start' END",
        f"CASE WHEN {col('amount')} IS NOT NULL AND {amount_any} IS NULL THEN 'amount_not_numeric' END",
        f"CASE WHEN {amount_any} IS NOT NULL AND NOT ({amount_ok}) THEN 'amount_out_of_range' END",
    ]
    common = "CASE " + " ".join(f"WHEN {cond} THEN '{f}'" for cond, _, f in checks) + " END"
    return f"""
    SELECT
      {b(agency + ":")}::VARCHAR || {src_id} AS event_key, {b(agency)}::VARCHAR AS agency,
      {src_id} AS source_event_id, {b(agency + ":")}::VARCHAR || {client} AS record_key,
      {b(batch_id)}::VARCHAR AS batch_id, _row AS source_row,
      {program} AS program, nullif(upper(trim({col("service_type")})), '') AS service_type,
      {start} AS start_date, CASE WHEN {end_ok} THEN {end} END AS end_date, {amount} AS amount,
      nullif(upper(trim({col("county")})), '') AS county,
      nullif(trim({_unfloated(col("household_id"))}), '') AS household_id,
      list_filter([{", ".join(flags)}], lambda _cw_f: _cw_f IS NOT NULL) AS flags,
      {rule} AS q_rule, {field} AS q_field, {value} AS q_value, {common} AS q_common,
      to_json(_cw_raw) AS q_raw
    FROM {raw} AS _cw_raw
    LEFT JOIN (SELECT source_record_id FROM person_record WHERE agency = {b(agency)}::VARCHAR) AS k
      ON k.source_record_id = {client}
    {held}
    """


def finish_people(batch: Batch, table: str, free_text_addresses: bool, country: str = "US") -> str:
    """Per-distinct-value work on a staged person table: nicknames, odd phones, odd
    addresses. Each step makes a new relation of the batch from the one before (no
    engine updates a staged relation in place); returns the name of the last."""
    columns = batch.columns(table)
    steps = 0

    def rewrite(current: str, replaced: dict[str, str], join: str) -> str:
        nonlocal steps
        steps += 1
        name = f"{table}_{steps}"
        select = ", ".join(f"{replaced.get(c, f'p.{c}')} AS {c}" for c in columns)
        batch.relation(name, f"SELECT {select} FROM {current} AS p {join}")
        batch.drop(current)
        return name

    # A name written as "unknown" (FNU: first name unknown) is no name; a person known
    # by one name (a mononym) has it as the surname, whichever column the agency wrote it
    # in, so "FNU NAWAL", "NAWAL" alone in the first-name column and "NAWAL" in the
    # surname column agree (a first name with a surname written "UNKNOWN" stays first).
    unknown = ", ".join(f"'{n}'" for n in PLACEHOLDER_NAMES)
    real = {c: f"CASE WHEN p.{c} NOT IN ({unknown}) THEN p.{c} END" for c in NAME_COLUMNS}
    alone = "p.last_name IS NULL AND p.middle_name IS NULL"  # a surname "UNKNOWN" is none
    placeholder = ", ".join(
        f"CASE WHEN p.{c} IN ({unknown}) THEN '{c}_placeholder' END" for c in NAME_COLUMNS
    )
    current = rewrite(
        table,
        {
            "first_name": f"CASE WHEN {alone} THEN NULL ELSE {real['first_name']} END",
            "middle_name": real["middle_name"],
            "last_name": f"coalesce({real['last_name']}, CASE WHEN {alone} THEN {real['first_name']} END)",
            "flags": f"list_concat(p.flags, list_filter([{placeholder}], lambda _cw_x: _cw_x IS NOT NULL))",
        },
        "",
    )
    current = rewrite(
        current,
        {"first_name_canonical": "coalesce(n.canonical, p.first_name)"},
        f"LEFT JOIN {NICKNAMES} AS n ON n.name = p.first_name",
    )
    odd_phones = [
        r[0]
        for r in batch.rows(
            f"SELECT DISTINCT phone_raw FROM {current} WHERE phone IS NULL AND phone_raw IS NOT NULL"
        )
    ]
    if odd_phones:
        fixed = pa.table(
            {
                "raw": pa.array(odd_phones, pa.string()),
                "e164": pa.array([_e164(p, country) for p in odd_phones], pa.string()),
            }
        )
        batch.register("_cw_phones", fixed)
        current = rewrite(
            current,
            {
                "phone": "CASE WHEN f.raw IS NOT NULL THEN f.e164 ELSE p.phone END",
                "flags": "CASE WHEN f.raw IS NOT NULL THEN list_filter(p.flags, lambda _cw_x:"
                " _cw_x <> 'phone_nonstandard' OR f.e164 IS NULL) ELSE p.flags END",
            },
            "LEFT JOIN _cw_phones AS f ON p.phone_raw = f.raw",
        )
        batch.drop("_cw_phones")
    if not free_text_addresses:
        return current
    odd_addresses = [
        r[0]
        for r in batch.rows(
            f"SELECT DISTINCT address_raw FROM {current} WHERE address_line IS NULL AND address_raw IS NOT NULL"
        )
    ]
    if odd_addresses:
        parts = [_parse_address(a) for a in odd_addresses]
        batch.register(
            "_cw_addr",
            pa.table(
                {
                    "raw": pa.array(odd_addresses, pa.string()),
                    **{
                        key: pa.array([p[i] for p in parts], pa.string())
                        for i, key in enumerate(("line", "city", "state", "zip"))
                    },
                }
            ),
        )
        found = "a.raw IS NOT NULL"
        current = rewrite(
            current,
            {
                "address_line": f"CASE WHEN {found} THEN {_street('a.line')} ELSE p.address_line END",
                "city": f"CASE WHEN {found} THEN coalesce(p.city, upper(a.city)) ELSE p.city END",
                "state": f"CASE WHEN {found} THEN coalesce(p.state, upper(a.state)) ELSE p.state END",
                "zip": f"CASE WHEN {found} THEN coalesce(p.zip, a.zip) ELSE p.zip END",
            },
            "LEFT JOIN _cw_addr AS a ON p.address_raw = a.raw",
        )
        batch.drop("_cw_addr")
    return current


def _e164(raw: str, country: str = "US") -> str | None:
    try:
        number = phonenumbers.parse(raw, country)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _parse_address(raw: str) -> tuple[str | None, str | None, str | None, str | None]:
    """Street line, city, state, ZIP of a free-text US address (usaddress)."""
    try:
        tagged, _ = usaddress.tag(raw)
    except usaddress.RepeatedLabelError:
        return None, None, None, None
    street_keys = [k for k in tagged if k not in ("PlaceName", "StateName", "ZipCode", "Recipient")]
    line = " ".join(tagged[k] for k in street_keys) or None
    zip_code = tagged.get("ZipCode")
    return (
        line,
        tagged.get("PlaceName"),
        tagged.get("StateName"),
        zip_code[:5] if zip_code else None,
    )
