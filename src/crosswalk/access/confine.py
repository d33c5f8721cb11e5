"""Confining a question's SQL to the views its decision granted.

A question is an intent object that renders its own SQL, so the gate treats that SQL as
untrusted text. Two independent walls stand between it and anything not granted:

1. **The statement is checked before it runs** (``check_question_sql``): it must parse
   (SQLGlot, DuckDB dialect) as exactly one query (SELECT, UNION ...; no SET, ATTACH,
   COPY, PRAGMA or DDL), and every table it names must be one of the granted views or a
   common table expression of its own, unqualified (no ``schema.table``, no attached
   database). A table function (``read_csv``, ``read_parquet``, ``query_table``,
   ``range`` ...), a file name used as a table and a CTE that shadows a real relation of
   the hub are refused. ``getvariable`` may read only the cell-key secret, and only where
   the gate set it (aggregates).
2. **The connection cannot reach outside the hub** (``crosswalk.hub.READ_CONFIG``): the
   hub opens its read connection read-only with external access disabled (no files, no
   ATTACH, no extensions, no Python replacement scans) and locks its configuration before
   any question runs, so a statement cannot turn these back on.

The first wall is what keeps a question from naming ``person_record`` (a table the hub
does hold); the second keeps it from reading anything outside the hub even if a future
SQL form slipped past the first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

import sqlglot
from sqlglot import exp

from crosswalk.engines import reader
from crosswalk.errors import AccessDenied

# Functions that call out of SQL into the engine's host language (Spark: any static Java
# method); no question needs them, on any engine.
HOST_CALLS = frozenset({"reflect", "java_method", "try_reflect"})


def relations(con: Any) -> set[str]:
    """Every table and view name a read of any engine can see (lower case)."""
    return reader(con).relations()


def check_question_sql(
    sql: str,
    granted: Iterable[str],
    existing: Iterable[str],
    *,
    variables: Iterable[str] = (),
    dialect: str = "duckdb",
) -> None:
    """Refuse ``sql`` unless it is one query reading only ``granted`` relations.

    ``existing`` are the relations the connection holds (a CTE may not shadow one);
    ``variables`` the session variables the statement may read with ``getvariable`` (on
    Spark: the named parameters it may use). ``dialect`` is the engine's the SQL is
    written for. Raises AccessDenied naming what was refused.
    """
    allowed = frozenset(g.lower() for g in granted)
    real = frozenset(e.lower() for e in existing)
    readable = frozenset(v.lower() for v in variables)
    # The verdict is a pure function of these: a statement that passed once against the
    # same relations passes again without being parsed again (the service asks the same
    # few questions all day, and parsing is most of what a repeated question costs).
    # Only passes are kept; a refused statement is checked, and refused, every time.
    seen = (sql, allowed, real, readable, dialect)
    with _PASSED_LOCK:
        if seen in _PASSED:
            _PASSED.move_to_end(seen)
            return
    _check(sql, allowed, real, readable, dialect)
    with _PASSED_LOCK:
        _PASSED[seen] = None
        while len(_PASSED) > _PASSED_KEPT:
            _PASSED.popitem(last=False)


_PASSED: OrderedDict[tuple[str, frozenset[str], frozenset[str], frozenset[str], str], None]
_PASSED = OrderedDict()
_PASSED_KEPT = 512
_PASSED_LOCK = threading.Lock()


def _check(
    sql: str,
    allowed: frozenset[str],
    real: frozenset[str],
    readable: frozenset[str],
    dialect: str,
) -> None:
    try:
        statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except sqlglot.errors.ParseError as e:
        raise AccessDenied(f"the question's SQL cannot be checked: {e}") from None
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        raise AccessDenied("a question is exactly one query (SELECT); nothing else runs")
    tree = statements[0]
    ctes = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
    if shadowing := sorted(ctes & (real - allowed)):
        raise AccessDenied(
            f"the question defines {', '.join(shadowing)}, which names a table of the hub"
        )
    for table in tree.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier):
            raise AccessDenied(
                f"the question calls a table function ({table.this.sql(dialect)[:60]}); "
                "it may read only the views the decision granted"
            )
        if table.args.get("db") or table.args.get("catalog"):
            raise AccessDenied(
                f"the question names {table.sql(dialect)}; "
                "it may read only the views the decision granted"
            )
        if table.name.lower() not in allowed | ctes:
            raise AccessDenied(
                f"the question reads {table.name!r}, which the decision did not grant"
            )
    for marker in tree.find_all(exp.Placeholder, exp.Parameter):
        if marker.name.lower() not in readable:
            raise AccessDenied("the question reads a parameter it was not given")
    for call in tree.find_all(exp.Func):
        called = (call.name if isinstance(call, exp.Anonymous) else call.sql_name()).lower()
        if called in HOST_CALLS:
            raise AccessDenied(f"the question calls {called}, which reaches outside SQL")
    for call in tree.find_all(exp.Anonymous):
        if call.name.lower() != "getvariable":
            continue
        args = call.expressions
        if not (
            len(args) == 1
            and isinstance(args[0], exp.Literal)
            and args[0].is_string
            and args[0].name.lower() in readable
        ):
            raise AccessDenied("the question reads a session variable it was not given")
