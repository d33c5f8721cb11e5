"""``crosswalk export-warehouse``: the hub's analytic tables for the Spark engine."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from crosswalk.cli.ingest import HubOption

WarehouseOption = Annotated[
    Path | None,
    typer.Option(
        "--warehouse",
        help="Warehouse folder (default: $CROSSWALK_WAREHOUSE or crosswalk-warehouse).",
    ),
]


def export_warehouse(hub: HubOption = None, warehouse: WarehouseOption = None) -> None:
    """Write the hub's analytic tables to the Spark engine's Parquet warehouse (audited).

    Example: crosswalk export-warehouse --hub hub.duckdb --warehouse /data/warehouse
    """
    from crosswalk import engines

    rows = engines.export_warehouse(hub, warehouse)
    summary = Table("table", "rows", title="Warehouse snapshot, now current")
    for name, n in rows.items():
        summary.add_row(name, f"{n:,}")
    Console().print(summary)


def register(app: typer.Typer) -> None:
    app.command("export-warehouse")(export_warehouse)
