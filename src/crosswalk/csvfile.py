"""CSV for people to open in a spreadsheet: every CSV Crosswalk writes goes through here.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and, in some,
a tab or carriage return) as a formula: a username typed at the sign-in form, a review
note, a county in an agency's extract or a request's justification would otherwise run
on the privacy officer's or analyst's machine when they open an export (CSV injection).
Such a text cell is written with a leading apostrophe, which spreadsheets show as text
and which a reader of the file can strip; numbers, dates and empty cells are unchanged.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from crosswalk import privatefile

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value: str) -> str:
    """A text cell a spreadsheet shows as text, never runs as a formula."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _is_text(kind: pa.DataType) -> bool:
    return bool(
        pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind)
    )


def safe_table(table: pa.Table) -> pa.Table:
    """``table`` with every text cell made safe (``safe_text``); other columns as they are."""
    columns = []
    for column in table.columns:
        # Text however Arrow holds it: dictionary-encoded (Parquet, an ENUM), large or a
        # view, as plain strings.
        if pa.types.is_dictionary(column.type) and _is_text(column.type.value_type):
            column = column.cast(column.type.value_type)
        if _is_text(column.type):
            column = column.cast(pa.string())
            risky = pc.match_substring_regex(column, r"^[=+\-@\t\r]")
            column = pc.if_else(risky, pc.binary_join_element_wise("'", column, ""), column)
        columns.append(column)
    return pa.table(columns, names=table.column_names)


def table_csv(table: pa.Table) -> bytes:
    """``table`` as CSV bytes with a header line, text cells made safe."""
    sink = io.BytesIO()
    pacsv.write_csv(safe_table(table), sink)
    return sink.getvalue()


def write_table_csv(table: pa.Table, path: str | Path) -> Path:
    """Write ``table`` to ``path`` as CSV, text cells made safe, its owner's only
    (``privatefile.write``)."""
    data = table_csv(table)
    return privatefile.write(path, lambda p: p.write_bytes(data))


def write_rows(out: Any, names: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Write a header line and ``rows`` to the text stream ``out``, text cells made safe."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([safe_text(str(n)) for n in names])
    writer.writerows([safe_text(v) if isinstance(v, str) else v for v in r] for r in rows)
