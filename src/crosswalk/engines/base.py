"""What a read of the data plane can do, whatever the engine (the ``Reader`` hooks)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from functools import lru_cache
from typing import Any, Protocol, runtime_checkable

import duckdb
import pyarrow as pa
import sqlglot

from crosswalk.disclosure import for_dialect
from crosswalk.errors import ConfigError

# The secret behind cell keys is bound by the engine when a question runs (a DuckDB
# session variable, a Spark named parameter); it never appears in SQL text.
CELL_KEY_SECRET = "crosswalk_cell_key_secret"


@runtime_checkable
class Reader(Protocol):
    """One read of the data plane: what the gate asks of an engine.

    Queries given to ``temp_view`` are written in DuckDB SQL (as every question is) and
    rendered by the reader for its engine; ``arrow`` runs SQL already rendered for
    ``dialect`` (the gate checks that text before it runs).
    """

    dialect: str

    @property
    def secret(self) -> str:
        """The SQL expression (DuckDB form) that reads the cell-key secret on this engine."""
        ...

    def relations(self) -> set[str]:
        """Every table and view name this read can see (lower case)."""
        ...

    def sources(self) -> dict[str, str]:
        """Per analytic table, the relation to read it from (a name or a subquery)."""
        ...

    def temp_view(self, name: str, select: str) -> None:
        """Create (or replace) the temporary view ``name``, visible to this read only."""
        ...

    def arrow(self, sql: str, secret: bytes | None = None) -> pa.Table:
        """Run one query, with the cell-key secret bound if given."""
        ...


@lru_cache(maxsize=512)
def to_dialect(sql: str, dialect: str) -> str:
    """DuckDB SQL written for ``dialect`` through SQLGlot (record keys computed alike);
    kept per statement, since the same questions are rendered again and again."""
    try:
        tree = for_dialect(sqlglot.parse_one(sql, read="duckdb"), dialect)
        return tree.sql(dialect=dialect, pretty=True, unsupported_level=sqlglot.ErrorLevel.RAISE)
    except (sqlglot.errors.ParseError, sqlglot.errors.UnsupportedError) as e:
        raise ConfigError(f"the query cannot be written for {dialect}: {e}") from None


def reader(con: Any) -> Reader:
    """The reader of a connection handed out by an engine's ``read()``.

    DuckDB reads are plain connections (cursors), which the identity and oversight
    readers use directly; every other engine hands out a ``Reader`` of its own.
    """
    if isinstance(con, duckdb.DuckDBPyConnection):
        from crosswalk.engines.duckdb_engine import DuckDBRead

        return DuckDBRead(con)
    if isinstance(con, Reader):
        return con
    raise ConfigError(f"not a read of the hub: {type(con).__name__}")


@runtime_checkable
class Batch(Protocol):
    """One ingest batch on an engine: what ``crosswalk.ingest`` asks of it.

    SQL given to a batch is written in DuckDB SQL with named parameters (``$p0``) and
    rendered by the batch for its engine; parameter values are bound, never pasted. The
    hub's tables (``person_record``, ``service_event``, ``batch`` ...) are relations of
    the batch by name; what the batch adds to them is seen by its later statements and
    by nothing else until ``commit``, and ``rollback`` leaves the hub as it was.
    """

    dialect: str
    # The DuckDB connection extract files are read on (``crosswalk.ingest.readers``);
    # ``adopt`` makes a table read there a relation of the batch.
    files: duckdb.DuckDBPyConnection

    def adopt(self, name: str) -> None:
        """Make the table ``name`` of ``files`` a relation of the batch."""
        ...

    def relation(self, name: str, sql: str, params: dict[str, object] | None = None) -> None:
        """Materialise a query as the batch's relation ``name`` (replacing one so named)."""
        ...

    def register(self, name: str, table: pa.Table) -> None:
        """An Arrow table (values computed in Python) as the batch's relation ``name``."""
        ...

    def drop(self, name: str) -> None:
        """Forget the batch's relation ``name``."""
        ...

    def columns(self, name: str) -> list[str]:
        """The columns of a relation, in order."""
        ...

    def rows(self, sql: str, params: dict[str, object] | None = None) -> list[tuple[Any, ...]]:
        """Run a query and fetch its rows."""
        ...

    def append(self, table: str, sql: str, params: dict[str, object] | None = None) -> int:
        """Add the rows of a query (the table's columns, by name) to a hub table; how many."""
        ...

    def insert(self, table: str, rows: list[dict[str, Any]]) -> None:
        """Add rows given as values (column -> value) to a hub table."""
        ...

    def delete(self, table: str, where: str, params: dict[str, object] | None = None) -> None:
        """Remove the rows of a hub table that match ``where``."""
        ...

    def update(
        self,
        table: str,
        values: dict[str, str],
        where: str,
        params: dict[str, object] | None = None,
    ) -> None:
        """Set columns (column -> SQL expression) of the rows of a hub table matching ``where``."""
        ...

    def bind(self, values: dict[str, object], formats: set[str]) -> dict[str, object]:
        """Parameter values as this engine takes them (``formats``: the date formats)."""
        ...

    def begin(self) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


@runtime_checkable
class BatchEngine(Protocol):
    """An engine that keeps the hub's ingest tables itself (the Spark warehouse)."""

    def batch(self, tables: dict[str, list[tuple[str, str]]]) -> AbstractContextManager[Batch]:
        """An ingest batch, the engine's one writer while it lasts; ``tables``: the hub
        tables it writes, name -> (column, DuckDB type)."""
        ...

    def close(self) -> None: ...
