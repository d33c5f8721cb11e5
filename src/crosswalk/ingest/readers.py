"""Readers: any extract becomes a DuckDB table of text columns plus its row number.

Every reader keeps values as text (types are decided later, by validation) and numbers
rows from 1 for the first data row, so quarantine can point at the exact row of the file.
Large files are streamed by DuckDB; nothing here loads a CSV or Parquet file into Python.
"""

from __future__ import annotations

import codecs
import csv
import re
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TextIO

import duckdb
import pyarrow as pa

from crosswalk.errors import InputFileError, Problem
from crosswalk.ingest.mapping import RESERVED_COLUMNS, TABLE_NAME, FileSpec

_CHUNK = 1 << 20
MAX_COLUMNS = 4096
"""Columns an extract may have: a header of more is refused before anything is read."""


def _fail(path: str, message: str, row: int | None = None) -> InputFileError:
    return InputFileError(f"cannot read {path}", [Problem(message, file=path, row=row)])


def _first_bad(path: Path, encoding: str = "utf-8") -> tuple[int, int] | None:
    """(line, byte offset) of the first byte not valid in ``encoding``, or None if all is.

    The line is counted in newline bytes, so it is exact for the one-byte encodings and
    UTF-8 (a UTF-16 file has no bad bytes of its own to place: only a lone surrogate).
    """
    decoder = codecs.getincrementaldecoder(_PY_ENCODING[encoding])()
    offset, line = 0, 1
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as e:
                return line + chunk[: e.start].count(b"\n"), offset + e.start
            line += chunk.count(b"\n")
            offset += len(chunk)
    return None


def _has_nul(path: Path) -> int | None:
    line = 1
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            at = chunk.find(b"\x00")
            if at >= 0:
                return line + chunk[:at].count(b"\n")
            line += chunk.count(b"\n")
    return None


# A character of two to four bytes as UTF-8 writes it: a file holding such characters and
# a few bytes that are not UTF-8 is UTF-8 with a damaged row, not Windows-1252 text (where
# an accented letter is one byte, almost never followed by the continuation bytes UTF-8
# needs).
_UTF8_WIDE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)
_HIGH = re.compile(rb"[\x80-\xff]")


def _mostly_utf8(path: Path) -> bool:
    """Whether most bytes above ASCII form UTF-8 characters (the rest: stray bad bytes)."""
    wide = high = 0
    tail = b""
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            data = tail + chunk
            # Keep the last bytes (a character cut between two chunks) for the next round.
            cut = max(0, len(data) - 3) if len(chunk) == _CHUNK else len(data)
            while 0 < cut < len(data) and data[cut] & 0xC0 == 0x80:
                cut -= 1
            body, tail = data[:cut], data[cut:]
            wide += sum(len(m) for m in _UTF8_WIDE.findall(body))
            high += len(_HIGH.findall(body))
    return wide > 0 and wide * 2 > high


def _encoding(path: Path, declared: str) -> str:
    """The encoding to read ``path`` in: the mapping's, or detected.

    Detected: a byte-order mark says UTF-8 or UTF-16; else a file that is valid UTF-8 is
    UTF-8, and so is one whose bytes above ASCII are mostly UTF-8 characters (its bad
    bytes are then an error naming the row and field, never read as other letters);
    else it is Windows-1252 (Latin-1 with the curly quotes, dashes and euro sign that
    Windows programs write at 0x80-0x9F), or Latin-1 where a byte has no Windows-1252
    meaning. (A file with no byte at 0x80-0x9F reads the same in both: it is read as
    Latin-1, which DuckDB streams.)
    """
    with path.open("rb") as f:
        head = f.read(4)
    if declared != "detect":
        return declared
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if _first_bad(path, "utf-8") is None or _mostly_utf8(path):
        return "utf-8"
    if not _has_c1(path):
        return "latin-1"  # the same letters as Windows-1252, and DuckDB streams it
    return "windows-1252" if _first_bad(path, "windows-1252") is None else "latin-1"


def _has_c1(path: Path) -> bool:
    """Whether a byte is 0x80-0x9F: where Windows-1252 and Latin-1 differ."""
    c1 = re.compile(rb"[\x80-\x9f]")
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            if c1.search(chunk):
                return True
    return False


@dataclass(frozen=True)
class Rejected:
    """A row the reader could not split into the header's fields: it goes to quarantine."""

    row: int  # data row (1 = the first row after the header)
    message: str  # what is wrong, with the counts and the file lines
    values: tuple[str, ...]


def _misfit(fields: list[str], first: int, last: int, expected: int, delimiter: str) -> str | None:
    """Why a parsed row cannot be trusted to hold the header's fields, or None."""
    lines = f"line {first}" if first == last else f"lines {first}-{last}"
    if len(fields) != expected:
        return f"{len(fields)} fields, the header has {expected} ({lines} of the file)"
    if last > first and any("\n" in f and delimiter in f for f in fields):
        # A value over several lines holding the delimiter: almost always a missing quote
        # that swallowed the rows after it, which happen to add up to the right count.
        return (
            f"a quoted value runs over {lines} of the file and holds the delimiter:"
            " a missing closing quote?"
        )
    return None


@dataclass(frozen=True)
class Extract:
    """What a reader loaded: the file's columns, those typed as dates, the rows it refused."""

    columns: list[str]
    typed_dates: frozenset[str] = frozenset()
    rejected: tuple[Rejected, ...] = ()


def read_into(con: duckdb.DuckDBPyConnection, table: str, source: str, spec: FileSpec) -> Extract:
    """Load ``source`` into temp table ``table`` (text columns + ``_row``).

    Rows are numbered as data rows (1 = the first row after the header) in the table, in
    quarantine and in every error message; a file line is given beside it where it differs.
    """
    extract = _read(con, table, source, spec)
    extract = _drop_unnamed(con, table, source, spec, extract)
    extract = _match_names(con, table, spec, extract)
    if not con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0] and not extract.rejected:
        raise _fail(source, "the file has a header but no data rows")
    return extract


# A column with no name in the header is read under this name and its number (from 1),
# which no mapping can name (a mapping's column names hold no control character).
_UNNAMED = "\x01column "


def _unblank(names: list[str]) -> list[str]:
    """The header's names, a blank one as ``_UNNAMED`` and its position."""
    return [n if n.strip() else f"{_UNNAMED}{i + 1}" for i, n in enumerate(names)]


def _drop_unnamed(
    con: duckdb.DuckDBPyConnection, table: str, source: str, spec: FileSpec, extract: Extract
) -> Extract:
    """Drop the columns with no name in the header and no value in any row (the empty
    columns a spreadsheet exports after the last one); one that holds a value is an error
    naming its position and the first row that holds one."""
    unnamed = [c for c in extract.columns if c.startswith(_UNNAMED)]
    problems = []
    for column in unnamed:
        quoted = '"' + column.replace('"', '""') + '"'
        held = con.execute(
            f"SELECT _row, {quoted} FROM {table} WHERE nullif(trim({quoted}), '') IS NOT NULL"
            " ORDER BY _row LIMIT 1"
        ).fetchall()
        name = column.removeprefix("\x01")
        if held:
            problems.append(
                Problem(
                    f"{name} has no name in the header (row 0, line {spec.header_row} of the"
                    f" file), but row {held[0][0]} holds {held[0][1]!r} in it: name the column"
                    " in the file, or name the line that holds the header (header_row in the"
                    " mapping)",
                    file=source,
                    row=held[0][0],
                    field=name,
                )
            )
        else:
            con.execute(f"ALTER TABLE {table} DROP COLUMN {quoted}")
    if problems:
        raise InputFileError(f"cannot read {source}: a column has no name", problems)
    if not unnamed:
        return extract
    return Extract(
        [c for c in extract.columns if c not in unnamed], extract.typed_dates, extract.rejected
    )


def _folded(name: str) -> str:
    return " ".join(name.split()).casefold()


def _match_names(
    con: duckdb.DuckDBPyConnection, table: str, spec: FileSpec, extract: Extract
) -> Extract:
    """Read a column whose name differs from the mapping's only in case or spaces
    (``CLIENT  ID `` for ``Client ID``) as the mapping's, where that pairing is the only
    one: no other column of the file or the mapping folds to the same name."""
    known = [*spec.mapped_columns(), *spec.ignore_columns]
    present = set(extract.columns)
    by_fold: dict[str, list[str]] = {}
    for name in known:
        by_fold.setdefault(_folded(name), []).append(name)
    file_folds = Counter(_folded(c) for c in extract.columns)
    renamed: dict[str, str] = {}
    for column in extract.columns:
        if column in known:
            continue
        fold = _folded(column)
        targets = by_fold.get(fold, [])
        if len(targets) == 1 and file_folds[fold] == 1 and targets[0] not in present:
            renamed[column] = targets[0]
    for old, new in renamed.items():
        quote = lambda n: '"' + n.replace('"', '""') + '"'  # noqa: E731
        con.execute(f"ALTER TABLE {table} RENAME COLUMN {quote(old)} TO {quote(new)}")
    if not renamed:
        return extract
    typed = frozenset(renamed.get(c, c) for c in extract.typed_dates)
    return Extract([renamed.get(c, c) for c in extract.columns], typed, extract.rejected)


def _read(con: duckdb.DuckDBPyConnection, table: str, source: str, spec: FileSpec) -> Extract:
    if spec.format == "sql":
        arrow, dates = _read_sql(source, spec), frozenset[str]()
    else:
        path = check_file(source)
        if path.stat().st_size == 0:
            raise _fail(source, "the file is empty")
        if spec.format == "csv":
            rejected = _read_csv(con, table, path, spec)
            return Extract(_columns(con, table), frozenset(), rejected)
        if spec.format == "parquet":
            _check_parquet(path)
            try:
                con.execute(
                    f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM read_parquet(?)",
                    [source],
                )
            except duckdb.Error as e:
                raise _fail(
                    source, f"not a readable Parquet file ({type(e).__name__}): {e}"
                ) from None
            _check_header(source, _columns(con, table, numbered=False))
            dates = _date_columns(con, table)
            _add_row_numbers(con, table)
            return Extract(_columns(con, table), dates)
        arrow, dates = _read_xlsx(path, spec)
    _check_header(source, arrow.column_names)
    con.register("_arrow_in", arrow)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM _arrow_in")
    con.unregister("_arrow_in")
    _add_row_numbers(con, table)
    return Extract(_columns(con, table), dates)


PARQUET_EXPANSION = 64
"""Times its own size a Parquet file's values may take once read (the synthetic state's
take 2 to 5 times), in bytes of text and in cells; whatever its size, a file may take
``PARQUET_MIN_TEXT`` bytes and ``PARQUET_MIN_CELLS`` cells."""
PARQUET_MIN_TEXT = 256 << 20
PARQUET_MIN_CELLS = 50_000_000  # as many as a workbook may span (XLSX_MAX_CELLS)


def _check_parquet(path: Path) -> None:
    """Refuse a Parquet file whose values are not one scalar per cell, or that would expand
    far past its own size, before DuckDB reads it.

    A column of one value repeated (dictionary and run-length encoded) takes a few bytes
    for millions of rows, and a long text in it is held once: a 27 kB file read as
    200,000 rows of a 1,000-character name took 2.3 GB and 30 s of CPU. The rows and
    columns are counted from the footer; the text is measured as a stream, a batch at a
    time, with each dictionary's lengths taken once.
    """
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    size = path.stat().st_size
    allowance = max(PARQUET_MIN_TEXT, PARQUET_EXPANSION * size)
    bomb = (
        f"its values expand to more than {allowance:,} bytes ({PARQUET_EXPANSION} times the"
        f" file, and at least {PARQUET_MIN_TEXT:,}): refused as a possible decompression"
        " bomb; export it as CSV"
    )
    try:
        parquet = pq.ParquetFile(path)
        meta, schema = parquet.metadata, parquet.schema_arrow
        if meta.num_columns > MAX_COLUMNS:
            raise _fail(
                str(path),
                f"the file has {meta.num_columns:,} columns; an extract has at most {MAX_COLUMNS:,}",
            )
        nested = [f for f in schema if pa.types.is_nested(f.type)]
        if nested:
            raise InputFileError(
                f"cannot read {path}",
                [
                    Problem(
                        f"column {f.name!r} holds {f.type} values: an extract's column holds"
                        " one value a row (text, a number or a date)",
                        file=str(path),
                        row=0,
                        field=f.name,
                    )
                    for f in nested
                ],
            )
        cells = meta.num_rows * max(meta.num_columns, 1)
        if cells > max(PARQUET_MIN_CELLS, PARQUET_EXPANSION * size):
            raise _fail(
                str(path),
                f"{meta.num_rows:,} rows of {meta.num_columns:,} columns in {size:,} bytes: "
                + bomb,
            )
        stored = sum(
            meta.row_group(g).column(c).total_uncompressed_size
            for g in range(meta.num_row_groups)
            for c in range(meta.num_columns)
        )
        if stored > allowance:
            raise _fail(str(path), bomb)
        text = [f.name for f in schema if _is_text(f.type)]
        total = 0
        batches = pq.ParquetFile(path, read_dictionary=text).iter_batches(batch_size=65_536)
        for batch in batches:
            for column in batch.columns:
                if pa.types.is_dictionary(column.type) and _is_text(column.type.value_type):
                    lengths = pc.binary_length(column.dictionary).take(column.indices)
                elif _is_text(column.type):
                    lengths = pc.binary_length(column)
                else:
                    continue
                total += pc.sum(lengths).as_py() or 0
            if total > allowance:
                raise _fail(str(path), bomb)
    except (pa.ArrowException, OSError) as e:
        raise _fail(str(path), f"not a readable Parquet file ({type(e).__name__}): {e}") from None


def _is_text(kind: pa.DataType) -> bool:
    return (
        pa.types.is_string(kind)
        or pa.types.is_large_string(kind)
        or pa.types.is_binary(kind)
        or pa.types.is_large_binary(kind)
    )


def check_file(source: str) -> Path:
    """The path of an extract file that exists, or an error that says what it is instead."""
    path = Path(source)
    if path.is_dir():
        raise _fail(
            source,
            "is a directory, not a file: name the extract files in it"
            " (a synthetic state's folder loads with crosswalk ingest-state)",
        )
    if not path.is_file():
        raise _fail(source, "no such file")
    return path


def _date_columns(con: duckdb.DuckDBPyConnection, table: str) -> frozenset[str]:
    """Columns the file itself types as dates or timestamps: used as they are."""
    rows = con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ? AND database_name = 'temp'",
        [table],
    ).fetchall()
    return frozenset(n for n, t in rows if t == "DATE" or t.startswith("TIMESTAMP"))


_PY_ENCODING = {
    "utf-8": "utf-8",
    "utf-8-sig": "utf-8-sig",
    "latin-1": "latin-1",
    "windows-1252": "cp1252",
    "utf-16": "utf-16",
}
# What DuckDB's reader reads itself; a file in another encoding is read row by row.
_DUCKDB_ENCODING = {"utf-8": "utf-8", "utf-8-sig": "utf-8", "latin-1": "latin-1"}
_NOT_DECODED = re.compile("[\udc80-\udcff]")


def _records(
    path: Path, spec: FileSpec, encoding: str
) -> Iterator[tuple[int, int, int, list[str]]]:
    """(data row, first line, last line, fields) of every row after the header.

    Blank lines (empty, or holding only spaces or tabs) are not rows; the lines before
    the mapping's ``header_row`` are not read.

    Bytes that are not valid in ``encoding`` come through as surrogate escapes, so the
    caller can say which row and field hold them.
    """
    with path.open(encoding=_PY_ENCODING[encoding], errors="surrogateescape", newline="") as f:
        skip = _skip_lines(f, spec)
        reader = csv.reader(f, delimiter=spec.delimiter, quotechar=spec.quote, doublequote=True)
        row, line = 0, skip + 1
        try:
            next(reader, None)
            line = skip + reader.line_num + 1
            for fields in reader:
                start, line = line, skip + reader.line_num + 1
                if not fields or (len(fields) == 1 and not fields[0].strip()):
                    continue  # a blank (or only blank-space) line is not a row
                row += 1
                yield row, start, line - 1, fields
        except csv.Error as e:
            raise _fail(
                str(path),
                f"row {row + 1} (line {line} of the file) cannot be read as CSV: {e}",
                row + 1,
            ) from None


def _skip_lines(f: TextIO, spec: FileSpec) -> int:
    """Read past the lines above the header (a report's title, a run date): how many."""
    for _ in range(spec.header_row - 1):
        f.readline(HEADER_LIMIT + 1)
    return spec.header_row - 1


def _scan_csv(
    path: Path, spec: FileSpec, encoding: str, names: list[str]
) -> tuple[int, list[Rejected]]:
    """Rows and the rows whose field count differs from the header's, in one pass.

    Bytes not valid in the encoding and NUL bytes are located first by fast byte scans;
    only then are the rows parsed to name the row and field that hold them (in UTF-16,
    where every other byte of plain text is NUL, every value is looked at).
    """
    bad_bytes = encoding != "latin-1" and _first_bad(path, encoding) is not None
    nul = encoding == "utf-16" or _has_nul(path) is not None
    rows, rejected = 0, []
    for row, line, last, fields in _records(path, spec, encoding):
        rows = row
        if bad_bytes or nul:
            for name, value in zip(
                [*names, *(f"#{i + 1}" for i in range(len(fields)))], fields, strict=False
            ):
                name = name.removeprefix("\x01")
                where = f"row {row} (line {line} of the file), field {name!r}"
                if bad_bytes and _NOT_DECODED.search(value):
                    hint = (
                        "the rest of the file is UTF-8: correct that value, or declare the"
                        " file's encoding (windows-1252, latin-1) in the mapping"
                        if encoding.startswith("utf-8")
                        else "declare the file's encoding in the mapping"
                    )
                    raise InputFileError(
                        f"cannot read {path}",
                        [
                            Problem(
                                f"bytes that are not {_ENCODING_NAME[encoding]} in {where}: {hint}",
                                file=str(path),
                                row=row,
                                field=name,
                            )
                        ],
                    )
                if nul and "\x00" in value:
                    raise InputFileError(
                        f"cannot read {path}",
                        [Problem(f"a NUL byte in {where}", file=str(path), row=row, field=name)],
                    )
        why = _misfit(fields, line, last, len(names), spec.delimiter)
        if why is not None:
            rejected.append(Rejected(row, why, tuple(fields)))
    if bad_bytes or (nul and encoding != "utf-16"):  # in the header
        what = f"bytes that are not {_ENCODING_NAME[encoding]}" if bad_bytes else "a NUL byte"
        raise _fail(str(path), f"{what} in the header line", 0)
    return rows, rejected


_ENCODING_NAME = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8",
    "latin-1": "Latin-1",
    "windows-1252": "Windows-1252",
    "utf-16": "UTF-16",
}


def _read_csv(
    con: duckdb.DuckDBPyConnection, table: str, path: Path, spec: FileSpec
) -> tuple[Rejected, ...]:
    encoding = _encoding(path, spec.encoding)
    names = _csv_columns(path, spec, encoding)
    rows, rejected = _scan_csv(path, spec, encoding, list(names))
    if (
        rows
        and len(rejected) == rows
        and all(len(r.values) == len(names) + 1 and r.values[-1] == "" for r in rejected)
    ):
        raise _fail(
            str(path),
            f"every row has {len(names) + 1} fields, the last one empty, and the header"
            f" {len(names)}: the rows end with a delimiter the header does not; export the"
            " file again, or add the delimiter to the end of the header line",
        )
    duck_encoding = _DUCKDB_ENCODING.get(encoding)
    if not rejected and duck_encoding is not None:
        # The fast path: DuckDB streams a file whose every row has the header's fields.
        try:
            con.execute(
                f"""CREATE OR REPLACE TEMP TABLE {table} AS
                SELECT * FROM read_csv(?, delim = ?, quote = ?, escape = ?, header = true,
                    all_varchar = true, encoding = ?, strict_mode = true, null_padding = false,
                    auto_detect = false, columns = ?, skip = ?)""",
                [
                    str(path),
                    spec.delimiter,
                    spec.quote,
                    spec.quote,
                    duck_encoding,
                    names,
                    spec.header_row - 1,
                ],
            )
            _add_row_numbers(con, table)
            if con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0] == rows:
                return ()
        except duckdb.Error:
            pass  # read it row by row below, where each row's problem can be named
    _read_csv_rows(con, table, path, spec, encoding, list(names))
    return tuple(rejected)


def _read_csv_rows(
    con: duckdb.DuckDBPyConnection,
    table: str,
    path: Path,
    spec: FileSpec,
    encoding: str,
    names: list[str],
) -> None:
    """Read the rows that have the header's fields, keeping each one's data row number.

    Rows go to DuckDB in chunks, so memory stays bounded whatever the file's size.
    """
    columns_sql = ", ".join(f'"{n.replace(chr(34), chr(34) * 2)}" VARCHAR' for n in names)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} (_row BIGINT, {columns_sql})")
    numbers: list[int] = []
    columns: list[list[str | None]] = [[] for _ in names]

    def flush() -> None:
        chunk = pa.table(
            {"_row": pa.array(numbers, type=pa.int64())}
            | {f"c{i}": pa.array(c, type=pa.string()) for i, c in enumerate(columns)}
        )
        con.register("_arrow_in", chunk)
        con.execute(f"INSERT INTO {table} SELECT * FROM _arrow_in")
        con.unregister("_arrow_in")
        numbers.clear()
        for c in columns:
            c.clear()

    for row, first, last, fields in _records(path, spec, encoding):
        if _misfit(fields, first, last, len(names), spec.delimiter) is not None:
            continue
        numbers.append(row)
        for column, value in zip(columns, fields, strict=True):
            column.append(value if value != "" else None)
        if len(numbers) >= _ROWS_PER_CHUNK:
            flush()
    flush()


_ROWS_PER_CHUNK = 100_000


HEADER_LIMIT = 1 << 20  # bytes: a header line longer than this is not a header


def _csv_columns(path: Path, spec: FileSpec, encoding: str) -> dict[str, str]:
    """The header, read as declared: column name -> VARCHAR (bound as a parameter).

    The first line ends at a line feed, a carriage return (as older Mac programs end
    lines) or both."""
    with path.open(encoding=_PY_ENCODING[encoding], errors="replace", newline="") as f:
        skip = _skip_lines(f, spec)
        line = f.readline(HEADER_LIMIT + 1)
    which = "the first line" if not skip else f"line {skip + 1} (header_row)"
    if len(line) > HEADER_LIMIT and not line.endswith(("\n", "\r")):
        raise _fail(
            str(path),
            f"{which} is longer than {HEADER_LIMIT:,} characters, so it is not a"
            " header: is this a CSV file with one record per line (not compressed, not JSON)?",
            1,
        )
    line = line.lstrip("\ufeff").rstrip("\r\n")
    if not line.strip():
        raise _fail(
            str(path),
            f"{which} is blank: the file has no header line there (a header on a later line"
            " is named by header_row in the mapping)",
            skip + 1,
        )
    names = _unblank(_split_header(line, spec.delimiter, spec.quote))
    _check_header(str(path), names)
    return dict.fromkeys(names, "VARCHAR")


def _check_header(source: str, names: list[str]) -> None:
    if len(names) > MAX_COLUMNS:
        raise _fail(
            source,
            f"the header has {len(names):,} columns; an extract has at most {MAX_COLUMNS:,}",
        )
    counts = Counter(names)  # counted once: a header of n names is checked in linear time
    dupes = sorted(n for n, k in counts.items() if k > 1)
    problems = [
        Problem(
            f"column {n!r} appears {counts[n]} times in the header",
            file=source,
            row=0,
            field=n,
        )
        for n in dupes
    ]
    # Column names are compared ignoring case by the tables that hold them: two that
    # differ only in case cannot both be read.
    cased: dict[str, list[str]] = {}
    for n in counts:
        cased.setdefault(n.lower(), []).append(n)
    problems += [
        Problem(
            f"columns {', '.join(map(repr, group))} differ only in case: a table cannot hold"
            " both (rename one in the file)",
            file=source,
            row=0,
            field=group[0],
        )
        for group in cased.values()
        if len(group) > 1
    ]
    problems += [
        Problem(
            f"column name {n!r} is reserved by the reader (rename the column in the file)",
            file=source,
            row=0,
            field=n,
        )
        for n in RESERVED_COLUMNS
        if n in names
    ]
    if problems:
        raise InputFileError(
            f"cannot read {source}: the header has duplicate or reserved names", problems
        )


def _split_header(line: str, delimiter: str, quote: str) -> list[str]:
    return next(csv.reader([line], delimiter=delimiter, quotechar=quote))


XLSX_MAX_UNCOMPRESSED = 256 << 20  # bytes a workbook may expand to; export larger ones as CSV
XLSX_MAX_CELLS = 50_000_000
"""Cells a sheet's extent (its last column times its last row) may span: the reader
fills every cell of it, so one cell far away (XFD1048576) would fill 17 billion."""
# A cell's or a row's position in a sheet's XML: r="XFD1048576" or r="1048576".
_POSITION = re.compile(rb'\sr="([A-Z]{0,3})([0-9]{1,7})"')
# A cell of a sheet and the number it holds (<c ...><v>N</v>, any namespace prefix). The
# runs stop at the next "<" or ">", so a tag of the file's choosing costs its own length
# once, never its square (a tag repeating t="s" a million times).
_CELL = re.compile(rb"<(?:\w+:)?c(\s[^<>]*)?>\s*<(?:\w+:)?v(?:\s[^<>]*)?>\s*([0-9]{1,10})\s*<")
_SHARED = re.compile(rb"""\bt\s*=\s*["']s["']""")  # its type: a shared string


def _check_workbook_size(path: Path) -> None:
    """Refuse a workbook that expands beyond the limit, before any of it is parsed.

    The declared sizes are summed first; then the members are decompressed in a stream
    (never held whole), so a member that lies about its size fails its CRC or the limit.
    """
    limit = XLSX_MAX_UNCOMPRESSED
    too_big = (
        f"the workbook expands to more than {limit >> 20} MiB: refused as a possible"
        " decompression bomb; export a sheet this large as CSV or Parquet"
    )
    try:
        with zipfile.ZipFile(path) as book:
            members = book.infolist()
            if sum(m.file_size for m in members) > limit:
                raise _fail(str(path), too_big)
            strings = _shared_string_sizes(path, book, members)
            total = text = 0
            for member in members:
                sheet = member.filename.startswith("xl/worksheets/")
                last_row = last_column = 0
                tail = cells = b""
                with book.open(member) as stream:
                    while chunk := stream.read(1 << 20):
                        total += len(chunk)
                        if total > limit:
                            raise _fail(str(path), too_big)
                        if sheet:
                            # The tail carries a position cut between two chunks.
                            for letters, row in _POSITION.findall(tail + chunk):
                                last_row = max(last_row, int(row))
                                last_column = max(last_column, _column_number(letters))
                            tail = chunk[-32:]
                            # A cell showing a shared string is that string's text again:
                            # one long string shown in every cell expands far past the XML.
                            cells += chunk
                            end = 0
                            for m in _CELL.finditer(cells):
                                index = int(m.group(2))
                                if m.group(1) and _SHARED.search(m.group(1)):
                                    text += strings[index] if index < len(strings) else 0
                                end = m.end()
                            if text > limit:
                                raise _fail(
                                    str(path),
                                    f"the cells of {member.filename} show more than"
                                    f" {limit >> 20} MiB of text (a shared string repeated"
                                    " in cell after cell): refused as a possible decompression"
                                    " bomb; export a sheet this large as CSV or Parquet",
                                )
                            cells = cells[max(end, len(cells) - 4096) :]
                if last_column > MAX_COLUMNS or last_row * max(last_column, 1) > XLSX_MAX_CELLS:
                    raise _fail(
                        str(path),
                        f"a sheet reaches column {last_column:,} and row {last_row:,}: more"
                        f" than {MAX_COLUMNS:,} columns or {XLSX_MAX_CELLS:,} cells; export"
                        " it as CSV or Parquet",
                    )
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as e:
        raise _fail(str(path), f"not a readable Excel workbook: {e}") from None


def _shared_string_sizes(
    path: Path, book: zipfile.ZipFile, members: list[zipfile.ZipInfo]
) -> list[int]:
    """The length of each shared string's text, in index order, read as a stream by an
    XML parser (whose entity expansion is bounded): what a cell showing it expands to."""
    from typing import cast
    from xml.etree.ElementTree import Element, ParseError, XMLPullParser

    member = next(
        (m for m in members if m.filename.lower().lstrip("/") == "xl/sharedstrings.xml"), None
    )
    sizes: list[int] = []
    if member is None:
        return sizes
    parser: XMLPullParser[Element] = XMLPullParser(events=("start", "end"))
    root: Element | None = None
    try:
        with book.open(member) as stream:
            while chunk := stream.read(1 << 20):
                parser.feed(chunk)
                events = cast(Iterator[tuple[str, object]], parser.read_events())
                for event, element in events:
                    if not isinstance(element, Element):
                        continue
                    if root is None:
                        root = element
                    if event == "end" and str(element.tag).rsplit("}", 1)[-1] == "si":
                        sizes.append(sum(len(t) for t in element.itertext()))
                        root.clear()  # what is counted is let go of
        parser.close()
    except ParseError as e:
        raise _fail(str(path), f"not a readable Excel workbook: its shared strings: {e}") from None
    return sizes


def _column_number(letters: bytes) -> int:
    """A column's number from its letters (A: 1, XFD: 16384); 0 for none."""
    n = 0
    for c in letters:
        n = n * 26 + c - ord("A") + 1
    return n


def _read_xlsx(path: Path, spec: FileSpec) -> tuple[pa.Table, frozenset[str]]:
    from python_calamine import CalamineError, CalamineWorkbook

    _check_workbook_size(path)
    try:
        book = CalamineWorkbook.from_path(str(path))
    except (CalamineError, OSError, ValueError) as e:
        raise _fail(str(path), f"not a readable Excel workbook: {e}") from None
    names = book.sheet_names
    if spec.sheet is None and len(names) > 1:
        raise _fail(
            str(path),
            f"the workbook has {len(names)} sheets {names}; name one with 'sheet' in the mapping",
        )
    sheet = spec.sheet or names[0]
    if sheet not in names:
        raise _fail(str(path), f"no sheet {sheet!r}; the workbook has {names}")
    try:
        rows = book.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
    except (CalamineError, ValueError) as e:
        raise _fail(str(path), f"sheet {sheet!r} cannot be read: {e}") from None
    if len(rows) < spec.header_row:
        where = "" if spec.header_row == 1 else f" above row {spec.header_row} (header_row)"
        raise _fail(str(path), f"sheet {sheet!r} is empty{where}")
    rows = rows[spec.header_row - 1 :]
    header = _unblank(["" if c is None else str(c) for c in rows[0]])
    _check_header(f"{path} (sheet {sheet!r})", header)
    columns = list(zip(*rows[1:], strict=True)) if len(rows) > 1 else [() for _ in header]
    # A column whose cells Excel holds as dates is used as dates, whatever the mapping's
    # formats (they apply to text).
    dates = frozenset(
        h for h, col in zip(header, columns, strict=True) if any(isinstance(v, date) for v in col)
    )
    table = pa.table(
        {
            h: pa.array([_cell(v) for v in col], type=pa.string())
            for h, col in zip(header, columns, strict=True)
        }
    )
    return table, dates


def _cell(value: object) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return str(value)


def _read_sql(url: str, spec: FileSpec) -> pa.Table:
    import sqlalchemy as sa

    if not spec.query:
        raise _fail(url, "format sql needs 'query' (a table name or a SELECT) in the mapping")
    # A table name becomes a quoted identifier; anything else was checked, when the mapping
    # was loaded, to be one read-only SELECT. Either runs in a transaction never committed.
    query: sa.Executable
    if TABLE_NAME.match(spec.query):
        schema, _, table = spec.query.rpartition(".")
        query = sa.select(sa.text("*")).select_from(sa.table(table, schema=schema or None))
    else:
        query = sa.text(spec.query)
    try:
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            result = conn.execute(query)
            names = list(result.keys())
            rows = result.fetchall()
    except (sa.exc.SQLAlchemyError, ValueError) as e:
        raise _fail(url, f"cannot read from the database: {str(e).splitlines()[0]}") from None
    cols = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    return pa.table(
        {
            n: pa.array([None if v is None else str(v) for v in c], type=pa.string())
            for n, c in zip(names, cols, strict=True)
        }
    )


def _add_row_numbers(con: duckdb.DuckDBPyConnection, table: str) -> None:
    # Tables keep insertion order, which is file order: rowid + 1 is the file's data row.
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {table}_n AS "
        f"SELECT rowid + 1 AS _row, COLUMNS(*)::VARCHAR FROM {table}"
    )
    con.execute(f"DROP TABLE {table}")
    con.execute(f"ALTER TABLE {table}_n RENAME TO {table}")


def _columns(con: duckdb.DuckDBPyConnection, table: str, numbered: bool = True) -> list[str]:
    """The file's columns (``numbered``: less the row number the reader added)."""
    rows = con.execute(f"SELECT name FROM pragma_table_info('{table}')").fetchall()
    return [r[0] for r in rows if not numbered or r[0] != "_row"]
