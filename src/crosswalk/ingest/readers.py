"""Readers: any extract becomes a DuckDB table of text columns plus its row number.

Every reader keeps values as text (types are decided later, by validation) and numbers
rows from 1 for the first data row, so quarantine can point at the exact row of the file.
Large files are streamed by DuckDB; nothing here loads a CSV or Parquet file into Python.
"""

from __future__ import annotations

import codecs
from pathlib import Path

import duckdb
import pyarrow as pa

from crosswalk.errors import InputFileError, Problem
from crosswalk.ingest.mapping import TABLE_NAME, FileSpec

_CHUNK = 1 << 20


def _fail(path: str, message: str, row: int | None = None) -> InputFileError:
    return InputFileError(f"cannot read {path}", [Problem(message, file=path, row=row)])


def _first_bad_utf8(path: Path) -> tuple[int, int] | None:
    """(line, byte offset) of the first byte that is not UTF-8, or None if all is valid."""
    decoder = codecs.getincrementaldecoder("utf-8")()
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


def _encoding(path: Path, declared: str) -> str:
    if declared != "detect":
        return declared
    with path.open("rb") as f:
        if f.read(3) == codecs.BOM_UTF8:
            return "utf-8-sig"
    return "utf-8" if _first_bad_utf8(path) is None else "latin-1"


def read_into(con: duckdb.DuckDBPyConnection, table: str, source: str, spec: FileSpec) -> list[str]:
    """Load ``source`` into temp table ``table`` (text columns + ``_row``); return its columns."""
    columns = _read(con, table, source, spec)
    if not con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]:
        raise _fail(source, "the file has a header but no data rows")
    return columns


def _read(con: duckdb.DuckDBPyConnection, table: str, source: str, spec: FileSpec) -> list[str]:
    if spec.format == "sql":
        arrow = _read_sql(source, spec)
    else:
        path = Path(source)
        if not path.is_file():
            raise _fail(source, "no such file")
        if path.stat().st_size == 0:
            raise _fail(source, "the file is empty")
        if spec.format == "csv":
            _read_csv(con, table, path, spec)
            return _columns(con, table)
        if spec.format == "parquet":
            try:
                con.execute(
                    f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM read_parquet(?)",
                    [source],
                )
            except duckdb.Error as e:
                raise _fail(
                    source, f"not a readable Parquet file ({type(e).__name__}): {e}"
                ) from None
            _add_row_numbers(con, table)
            return _columns(con, table)
        arrow = _read_xlsx(path, spec)
    con.register("_arrow_in", arrow)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM _arrow_in")
    con.unregister("_arrow_in")
    _add_row_numbers(con, table)
    return _columns(con, table)


def _read_csv(con: duckdb.DuckDBPyConnection, table: str, path: Path, spec: FileSpec) -> None:
    encoding = _encoding(path, spec.encoding)
    if encoding in ("utf-8", "utf-8-sig"):
        bad = _first_bad_utf8(path)
        if bad is not None:
            raise _fail(
                str(path),
                f"invalid UTF-8 at byte {bad[1]}; is the file Latin-1? (set encoding)",
                bad[0],
            )
    nul = _has_nul(path)
    if nul is not None:
        raise _fail(str(path), "the file contains a NUL byte", nul)
    duck_encoding = "latin-1" if encoding == "latin-1" else "utf-8"
    try:
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE {table} AS
            SELECT * FROM read_csv(?, delim = ?, quote = ?, escape = ?, header = true,
                all_varchar = true, encoding = ?, strict_mode = true, null_padding = false,
                auto_detect = false, columns = ?)""",
            [
                str(path),
                spec.delimiter,
                spec.quote,
                spec.quote,
                duck_encoding,
                _csv_columns(path, spec, duck_encoding),
            ],
        )
    except duckdb.Error as e:
        raise _fail(str(path), f"malformed CSV: {str(e).splitlines()[0]}") from None
    _add_row_numbers(con, table)


HEADER_LIMIT = 1 << 20  # bytes: a header line longer than this is not a header


def _csv_columns(path: Path, spec: FileSpec, encoding: str) -> dict[str, str]:
    """The header, read as declared: column name -> VARCHAR (bound as a parameter)."""
    with path.open("rb") as f:
        head = f.read(HEADER_LIMIT + 1)
    end = head.find(b"\n")
    if end < 0 and len(head) > HEADER_LIMIT:
        raise _fail(
            str(path),
            f"the first line is longer than {HEADER_LIMIT:,} bytes, so it is not a header:"
            " is this a CSV file with one record per line (not compressed, not JSON)?",
            1,
        )
    line = head[: end if end >= 0 else len(head)].decode(encoding, errors="replace")
    line = line.lstrip("\ufeff").rstrip("\r")
    if not line.strip():
        raise _fail(str(path), "the first line is blank: the file has no header line", 1)
    names = _split_header(line, spec.delimiter, spec.quote)
    if len(set(names)) != len(names):
        raise _fail(str(path), f"duplicate column names in the header: {names}", 1)
    return dict.fromkeys(names, "VARCHAR")


def _split_header(line: str, delimiter: str, quote: str) -> list[str]:
    import csv

    return next(csv.reader([line], delimiter=delimiter, quotechar=quote))


def _read_xlsx(path: Path, spec: FileSpec) -> pa.Table:
    from python_calamine import CalamineError, CalamineWorkbook

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
    rows = book.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
    if not rows:
        raise _fail(str(path), f"sheet {sheet!r} is empty")
    header = [str(c) for c in rows[0]]
    columns = list(zip(*rows[1:], strict=True)) if len(rows) > 1 else [() for _ in header]
    return pa.table(
        {
            h: pa.array([_cell(v) for v in col], type=pa.string())
            for h, col in zip(header, columns, strict=True)
        }
    )


def _cell(value: object) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
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


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    rows = con.execute(f"SELECT name FROM pragma_table_info('{table}')").fetchall()
    return [r[0] for r in rows if r[0] != "_row"]
