"""Lists for people and for programs: a Rich table, or ``--json`` / ``--csv`` on stdout.

Every list command (batches, quarantine, review list, consent list, audit queries,
analytic answers) prints through ``emit``. In the table, columns that hold ids another
command takes (a batch id for ``--replace``, a record key for ``review decide``) are
never cut or wrapped, whatever the terminal's width; other columns wrap rather than end
in an ellipsis. JSON is one array of objects; CSV has a header line; both carry every
column unformatted (dates in ISO form, hidden figures as null / empty).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.cells import cell_len
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from crosswalk import csvfile
from crosswalk.errors import ConfigError

if TYPE_CHECKING:
    import pyarrow as pa

Json = Annotated[bool, typer.Option("--json", help="Print JSON (an array of objects).")]
Csv = Annotated[bool, typer.Option("--csv", help="Print CSV with a header line.")]

# Columns that name a thing another command takes: never cut in a table.
ID_NAMES = frozenset(
    {
        "id",
        "batch",
        "replaces",
        "person",
        "pseudonym",
        "record",
        "record_a",
        "record_b",
        "consent",
        "seq",
    }
)


def is_id(column: str) -> bool:
    return column in ID_NAMES or column.endswith(("_id", "_key", "_ids", "_keys"))


Rows = Sequence[Mapping[str, Any]]


def rows_of(data: pa.Table | Rows) -> tuple[list[str], list[dict[str, Any]]]:
    """Column names and rows of a PyArrow table or a list of mappings."""
    if hasattr(data, "to_pylist") and hasattr(data, "column_names"):
        return list(data.column_names), data.to_pylist()
    rows = [dict(r) for r in data]
    return (list(rows[0]) if rows else []), rows


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Mapping | list | tuple):
        return json.dumps(_plain(value), default=str)
    return str(_plain(value))


def _csv_cell(value: Any) -> Any:
    plain = _plain(value)
    return plain if isinstance(plain, int | float) and not isinstance(plain, bool) else _text(value)


def cell_text(column: str, value: Any) -> str:
    """How a value reads in a table: counts with thousands separators, ids as they are."""
    value = _plain(value)
    if isinstance(value, int) and not isinstance(value, bool) and not is_id(column):
        return f"{value:,}"
    return _text(value)


def _numeric(texts: list[str]) -> bool:
    return bool(texts) and all(
        t.replace(",", "").replace(".", "").lstrip("-").isdigit() for t in texts if t
    )


TEXT_MIN = 12  # narrowest a wrapping text column may become


def table(
    columns: Iterable[str],
    rows: Iterable[Sequence[str]],
    *,
    title: str | None = None,
    ids: Iterable[str] = (),
    width: int | None = None,
) -> RenderableType:
    """A Rich table that never cuts a value: as wide as its content when it fits the
    terminal; else text columns wrap while ids (``is_id`` and ``ids``) and numbers keep
    their width; else one block of ``column: value`` lines per row.

    The widths are chosen here, not by Rich: left to itself, Rich crops the last column
    of a table that could fit by wrapping its text columns further."""
    names = list(columns)
    body = [list(r) for r in rows]
    keep = set(ids)
    available = width or Console().width
    natural = [max([cell_len(n), *(cell_len(r[i]) for r in body)]) for i, n in enumerate(names)]
    content = [max([4, *(cell_len(r[i]) for r in body)]) for i in range(len(names))]
    whole = [n in keep or is_id(n) or _numeric([r[i] for r in body]) for i, n in enumerate(names)]
    # The narrowest each column may become: ids and numbers their values' width (only
    # their header may wrap), text columns TEXT_MIN.
    narrowest = [
        c if w else min(n, TEXT_MIN) for n, c, w in zip(natural, content, whole, strict=True)
    ]
    frame = 3 * len(names) + 1  # borders and one space of padding on each side
    if sum(narrowest) + frame <= available:
        fits = sum(natural) + frame <= available
        widths = natural if fits else _share(natural, narrowest, whole, available - frame)
        out = Table(title=title)
        for name, w in zip(names, widths, strict=True):
            out.add_column(name, width=w, no_wrap=fits, overflow="fold")
        for r in body:
            out.add_row(*r)
        return out
    blocks = Table.grid(padding=(0, 1))
    blocks.add_column(style="bold", no_wrap=True)
    blocks.add_column(overflow="fold")
    for n, r in enumerate(body):
        if n:
            blocks.add_row("", "")
        for name, text in zip(names, r, strict=True):
            blocks.add_row(name, text)
    # The title above the blocks, not in their first column (it would widen it).
    return Group(Text(title, style="italic"), Text(""), blocks) if title else blocks


def _share(natural: list[int], narrowest: list[int], whole: list[bool], room: int) -> list[int]:
    """Column widths within ``room``: each at least its narrowest; the room left over goes
    first to the headers of ids and numbers (so they do not break mid-word), then a cell
    at a time to the text columns furthest from their natural width."""
    widths = list(narrowest)
    spare = room - sum(widths)
    for i, w in enumerate(whole):
        if w and spare > 0:
            grow = min(natural[i] - widths[i], spare)
            widths[i] += grow
            spare -= grow
    while spare > 0:
        short = [i for i, (w, n) in enumerate(zip(widths, natural, strict=True)) if w < n]
        if not short:
            break
        i = max(short, key=lambda j: natural[j] - widths[j])
        widths[i] += 1
        spare -= 1
    return widths


def emit(
    data: pa.Table | Rows,
    *,
    title: str | None = None,
    as_json: bool = False,
    as_csv: bool = False,
    columns: Sequence[str] | None = None,
    cell: Callable[[str, Any], str] | None = None,
    ids: Iterable[str] = (),
) -> None:
    """Print a list: JSON, CSV, or a table (``columns`` to show, ``cell(column, value)``
    to format a value for the table; JSON and CSV always carry every column)."""
    if as_json and as_csv:
        raise ConfigError("give --json or --csv, not both")
    names, rows = rows_of(data)
    if as_json:
        sys.stdout.write(json.dumps([_plain(r) for r in rows], default=str, indent=1) + "\n")
        return
    if as_csv:
        # Numbers stay numbers (a negative one is not a formula); text is made safe.
        cells = ([_csv_cell(r[n]) for n in names] for r in rows)
        csvfile.write_rows(sys.stdout, names or list(columns or ()), cells)
        return
    if not rows:  # an empty table would print only its header, or nothing at all
        Console().print(f"{title or 'the list'}: none")
        return
    shown = list(columns or names)
    show = cell or cell_text
    Console().print(
        table(shown, ([show(n, r[n]) for n in shown] for r in rows), title=title, ids=ids)
    )
