"""The Spark engine: the hub's analytic tables in a Parquet warehouse, read by Spark.

Every read is a session of its own (``SparkSession.newSession``: its own temporary
views and settings, the one Spark context shared), holding the warehouse's tables as
temporary views. Questions reach it as SQL rendered for Spark; the cell-key secret is a
named parameter bound when the query runs. PySpark is imported only here, when the
first session starts.

The second wall of ``crosswalk.access.confine`` on Spark: a read's session cannot run
SQL on a file (``spark.sql.runSQLOnFiles`` off, so ``parquet.`/path``` is no table),
and the gate refuses every statement but one query over the granted views, so none can
change that setting back.
"""

from __future__ import annotations

import os
import re
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from crosswalk import settings
from crosswalk.engines.base import CELL_KEY_SECRET, to_dialect
from crosswalk.engines.spark_sql import SparkSql, similarity_jar
from crosswalk.engines.warehouse import EXPORTED, warehouse_tables, writer_lock
from crosswalk.errors import ConfigError, NotFound, ReadTimedOut, StoreUnavailable
from crosswalk.identity import linked

if TYPE_CHECKING:
    from crosswalk.engines.spark_batch import SparkBatch

MISSING = (
    "the Spark engine needs PySpark, an optional extra: pip install 'crosswalk[spark]' "
    "(and Java 17 or 21)"
)

# Settings of every session the engine starts itself (a session passed in keeps its own).
SESSION_CONFIG = {
    "spark.sql.session.timeZone": "UTC",
    "spark.ui.showConsoleProgress": "false",
    # Adaptive execution: shuffle partitions coalesced to what the data needs, joins
    # switched to broadcast once a side turns out small (Spark's defaults, kept explicit).
    "spark.sql.adaptive.enabled": "true",
    "spark.sql.adaptive.coalescePartitions.enabled": "true",
}

# ... and on one machine (local mode): every job's fixed cost paid as few times as can be.
# Spark's 200 shuffle partitions are 200 tasks per shuffle of a few thousand rows; the
# driver is the only executor, so its memory is the whole engine's; the UI's listeners
# and its record of every job cost time and memory that nobody reads.
LOCAL_CONFIG = {
    "spark.sql.shuffle.partitions": "{cores}",
    "spark.default.parallelism": "{cores}",
    "spark.sql.adaptive.coalescePartitions.initialPartitionNum": "{cores}",
    "spark.driver.memory": "4g",
    "spark.ui.enabled": "false",
}
# Not raised: the broadcast threshold (Spark's 10 MB). At 64 MB, a 100k-people state's
# scoring failed in a 4 GB driver ("not enough memory to build and broadcast the table").


def local_cores(master: str) -> int | None:
    """The worker threads of a local master URL (``local``, ``local[4]``, ``local[*]``,
    ``local[4,2]``), or None for a cluster's.

    Example:
        >>> local_cores("local[3]"), local_cores("local"), local_cores("yarn")
        (3, 1, None)
    """
    found = re.fullmatch(r"local(?:\[(\*|\d+)(?:,\d+)?\])?", master.strip())
    if found is None:
        return None
    threads = found.group(1)
    if threads is None:
        return 1
    return os.cpu_count() or 1 if threads == "*" else max(1, int(threads))


def parse_conf(text: str) -> dict[str, str]:
    """``CROSSWALK_SPARK_CONF``: key=value pairs separated by spaces.

    Example:
        >>> parse_conf("spark.driver.memory=8g  spark.sql.shuffle.partitions=64")
        {'spark.driver.memory': '8g', 'spark.sql.shuffle.partitions': '64'}
    """
    out = {}
    for pair in text.split():
        key, sep, value = pair.partition("=")
        if not sep or not key.startswith("spark.") or not value:
            # Name the key only: the value may be a secret (an access key, a password).
            raise ConfigError(
                f"{settings.SPARK_CONF.env}: {key!r} is not a Spark setting as key=value "
                "(such as spark.driver.memory=8g)"
            )
        out[key] = value
    return out


def session_config(master: str, config: dict[str, str] | None = None) -> dict[str, str]:
    """The settings of a session the engine starts at ``master``: ``SESSION_CONFIG``,
    ``LOCAL_CONFIG`` in local mode (shuffle partitions and parallelism the worker
    threads), then ``$CROSSWALK_SPARK_CONF``, then ``config``; each later one wins.

    Example:
        >>> session_config("local[2]")["spark.sql.shuffle.partitions"]
        '2'
        >>> "spark.sql.shuffle.partitions" in session_config("spark://head:7077")
        False
    """
    out = dict(SESSION_CONFIG)
    cores = local_cores(master)
    if cores is not None:
        out.update({k: v.format(cores=cores) for k, v in LOCAL_CONFIG.items()})
    out.update(parse_conf(settings.SPARK_CONF.value(None)))
    out.update(config or {})
    return out


def spark_schema(columns: tuple[Any, ...]) -> str:
    """A Spark DDL schema for common-model columns (so a read infers nothing)."""
    types = {"VARCHAR": "STRING"}
    return ", ".join(f"{c.name} {types.get(c.type, c.type)}" for c in columns)


# The warehouse's tables are read with the model's schema, not one inferred from the files.
SCHEMAS = {table: spark_schema(columns) for table, (_, columns) in linked.TABLES.items()}


def pyspark_sql() -> Any:
    """The ``pyspark.sql`` module, or an error naming the extra to install."""
    try:
        import pyspark.sql
    except ImportError:
        raise ConfigError(MISSING) from None
    return pyspark.sql


class SparkRead:
    """One read: a Spark session of its own over the warehouse's current snapshot."""

    dialect = "spark"
    secret = f"${CELL_KEY_SECRET}"  # written for Spark as the named parameter marker

    def __init__(self, session: Any, tables: dict[str, Path]) -> None:
        self.session = session
        session.conf.set("spark.sql.runSQLOnFiles", "false")
        session.conf.set("spark.sql.session.timeZone", "UTC")
        # The analytic tables only: a snapshot also holds what linkage reads and writes
        # (the standardised records, the person index), which no question may see.
        analytic = {name: folder for name, folder in tables.items() if name in SCHEMAS}
        for name, folder in analytic.items():
            session.read.schema(SCHEMAS[name]).parquet(str(folder)).createOrReplaceTempView(name)
        self._tables = set(analytic)

    def relations(self) -> set[str]:
        return {t.name.lower() for t in self.session.catalog.listTables()}

    def sources(self) -> dict[str, str]:
        # A snapshot written before households were built on Spark (linked there by an
        # earlier version, or exported from a hub without them) holds no enterprise
        # households: a question that reads them is refused by name (``Scope``), not
        # answered as if there were none; the rest are answered.
        missing = sorted(set(EXPORTED) - self._tables - {"linked_household"})
        if missing:
            raise NotFound(
                f"the warehouse holds no {', '.join(missing)}: export the hub after linking"
            )
        return {table: table for table in EXPORTED if table in self._tables}

    def temp_view(self, name: str, select: str) -> None:
        self.session.sql(to_dialect(select, "spark")).createOrReplaceTempView(name)

    def arrow(self, sql: str, secret: bytes | None = None) -> pa.Table:
        args = {CELL_KEY_SECRET: secret.hex()} if secret is not None else None
        table = self.session.sql(sql, args=args).toArrow()
        assert isinstance(table, pa.Table)
        return table

    def close(self) -> None:
        for name in self.relations():
            self.session.catalog.dropTempView(name)


class SparkEngine:
    """The hub's analytic tables in a Parquet warehouse, read by a Spark session.

    Args:
        warehouse: the warehouse folder (default ``$CROSSWALK_WAREHOUSE``), written by
            ``crosswalk.engines.export_warehouse``.
        session: an existing ``SparkSession`` (a notebook's, a cluster job's); without
            one the engine starts its own at ``master`` on the first read.
        master: the Spark master URL (default ``$CROSSWALK_SPARK_MASTER``, ``local[*]``).
        timeout: seconds one read may take before its Spark jobs are cancelled
            (``ReadTimedOut``); 0: no limit.
        config: Spark settings of the session the engine starts, over
            ``session_config``'s (ignored with ``session``).

    Example:
        >>> Hub(SparkEngine("warehouse", session=spark))  # doctest: +SKIP
    """

    dialect = "spark"

    def __init__(
        self,
        warehouse: str | Path | None = None,
        *,
        session: Any = None,
        master: str | None = None,
        timeout: float = 0,
        config: dict[str, str] | None = None,
    ) -> None:
        self.warehouse = Path(
            settings.WAREHOUSE.value(None if warehouse is None else str(warehouse))
        )
        self.master = settings.SPARK_MASTER.value(master)
        self.config = session_config(self.master, config)
        self._session = session
        self._owns_session = session is None
        self.timeout = timeout
        self._starting = threading.Lock()

    def session(self) -> Any:
        """The Spark session reads are made from (started on first use)."""
        with self._starting:
            if self._session is None:
                sql = pyspark_sql()
                builder = sql.SparkSession.builder.master(self.master).appName("crosswalk")
                for key, value in self.config.items():
                    builder = builder.config(key, value)
                # Linkage's similarity functions (Jaro-Winkler, Damerau-Levenshtein): the
                # jar shipped with Splink, so nothing is downloaded.
                builder = builder.config("spark.jars", similarity_jar())
                try:
                    self._session = builder.getOrCreate()
                except Exception as e:  # Spark reports a missing Java as a gateway error
                    first = str(e).splitlines()[0] if str(e) else type(e).__name__
                    raise StoreUnavailable(
                        f"cannot start Spark at {self.master} (Java 17 or 21 needed): {first}"
                    ) from None
            return self._session

    def version(self) -> int | None:
        """None: another process may commit a new snapshot of the warehouse between two
        reads, so nothing read is reused (``ReadEngine.version``)."""
        return None

    @contextmanager
    def read(self) -> Iterator[SparkRead]:
        """A session of its own for one read, over the warehouse's current snapshot; its
        jobs are cancelled once the read has taken longer than ``timeout`` seconds."""
        tables = warehouse_tables(self.warehouse)
        root = self.session()
        context = root.sparkContext
        group = f"crosswalk-read-{uuid.uuid4().hex}"
        context.setJobGroup(group, "a read of the hub", interruptOnCancel=True)
        expired, done = threading.Event(), threading.Event()

        def watch() -> None:
            # Past the limit, cancel the group's jobs until the read ends: one cancel
            # would miss a job the read had not yet started.
            if done.wait(self.timeout):
                return
            expired.set()
            while True:
                context.cancelJobGroup(group)
                if done.wait(0.2):
                    return

        if self.timeout > 0:
            threading.Thread(target=watch, name=group, daemon=True).start()
        read = SparkRead(root.newSession(), tables)
        try:
            yield read
        except Exception:
            if expired.is_set():
                raise ReadTimedOut(
                    f"the question took longer than the {self.timeout:g} s a read may take: "
                    "narrow it (a shorter period, fewer programs) or ask the operator"
                ) from None
            raise
        finally:
            done.set()
            read.close()
            context.setLocalProperty("spark.jobGroup.id", None)

    @contextmanager
    def linkage(self) -> Iterator[SparkSql]:
        """A session of its own for a linkage run (``SparkSql``: linkage's SQL on Spark)."""
        sql = SparkSql(self.session())
        try:
            yield sql
        finally:
            sql.close()

    @contextmanager
    def batch(self, tables: dict[str, list[tuple[str, str]]]) -> Iterator[SparkBatch]:
        """An ingest batch in the warehouse (``crosswalk.engines.spark_batch``), the one
        writer of the warehouse while it lasts; ``tables``: the hub tables it writes,
        name -> (column, DuckDB type)."""
        from crosswalk.engines.spark_batch import SparkBatch

        with writer_lock(self.warehouse):
            batch = SparkBatch(self.session().newSession(), self.warehouse, tables)
            try:
                yield batch
            finally:
                batch.close()

    def close(self) -> None:
        with self._starting:
            if self._session is not None and self._owns_session:
                self._session.stop()
            self._session = None
