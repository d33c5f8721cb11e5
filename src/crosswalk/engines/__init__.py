"""The data plane's engines: where the hub's tables live and how a read runs there.

Everything engine-specific about reading sits here, in a few hooks each engine fills
(as Splink's database API classes do): naming the relations a read can see, making a
temporary view, running a query with the cell-key secret bound, and the SQL dialect
questions are rendered for. The gate and the questions are the same on every engine.

- ``DuckDBEngine`` (``crosswalk.hub``): the hub's DuckDB file, the default.
- ``SparkEngine``: the hub's analytic tables as Parquet in a warehouse folder, read by
  a Spark session (local mode on one machine, or a cluster's master URL). PySpark is an
  optional extra (``pip install 'crosswalk[spark]'``), imported only when used.

``CROSSWALK_ENGINE`` chooses the engine of a hub opened by name (``engine_for``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from crosswalk import settings
from crosswalk.engines.base import CELL_KEY_SECRET, Batch, BatchEngine, Reader, reader, to_dialect
from crosswalk.engines.warehouse import export_warehouse, warehouse_tables

if TYPE_CHECKING:
    from crosswalk.engines.spark_engine import SparkEngine

__all__ = [
    "CELL_KEY_SECRET",
    "Batch",
    "BatchEngine",
    "Reader",
    "SparkEngine",
    "batch_engine",
    "export_warehouse",
    "reader",
    "to_dialect",
    "warehouse_tables",
]


def batch_engine(hub: str | Path | None = None) -> BatchEngine | None:
    """The engine an ingest batch into ``hub`` (a path) writes through, where it is not
    the DuckDB hub file: with ``CROSSWALK_ENGINE=spark``, the warehouse ``hub`` names
    (default ``$CROSSWALK_WAREHOUSE``)."""
    if settings.ENGINE.value(None).strip().lower() != "spark":
        return None
    from crosswalk.engines.spark_engine import SparkEngine

    return SparkEngine(hub)


def __getattr__(name: str) -> Any:
    # The Spark engine's module imports nothing of PySpark at import time either, but is
    # loaded only by those who ask for it.
    if name == "SparkEngine":
        from crosswalk.engines.spark_engine import SparkEngine

        return SparkEngine
    raise AttributeError(name)
