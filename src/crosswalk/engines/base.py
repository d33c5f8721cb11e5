"""What a read of the data plane can do, whatever the engine (the ``Reader`` hooks)."""

from __future__ import annotations

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


def to_dialect(sql: str, dialect: str) -> str:
    """DuckDB SQL written for ``dialect`` through SQLGlot (record keys computed alike)."""
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
