"""A linkage run on the Spark engine: the warehouse's standardised records in, its person
index out, by the same steps as a run on the hub.

The steps are the hub's own functions on a ``SparkSql`` session (linkage's DuckDB SQL
rendered for Spark): the features, the coverage and the model's plan, Splink's training
and scoring through its Spark backend, the threshold chosen from the data, clustering
with the same conflict checks and the stewards' decisions, and the one rule of stable
ids against the snapshot's person index; then the enterprise households of the new
index by the hub's steps (``crosswalk.identity.household_steps``), their ids stable
against the snapshot's households. What differs is only the store: the records come
from the current snapshot (``person_record``, ``service_event``, ``review_decision``)
and the person index, the counter of ids, the retired ids and the household tables
(``household_member``, ``household_index``, ``household_id_event``,
``household_id_counter``, ``household_key`` and the analytic ``linked_household``) are
written to a new snapshot committed by one atomic rename
(``crosswalk.engines.warehouse.commit_snapshot``).

Every run on the warehouse is a full run (the model is trained again, every household
built again). The id history, link evidence and review queue stay with the hub's runs.
"""

from __future__ import annotations

import getpass
import json
import logging
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
from splink import Linker
from splink.internals.exceptions import SplinkException

from crosswalk import redact
from crosswalk.audit import AuditLog, LinkageFailed, LinkageRun, LinkageStarted
from crosswalk.errors import LinkageError, Problem
from crosswalk.identity import household_steps, linked, model, profile
from crosswalk.identity.cluster import (
    allot_ids,
    cannot_link_sql,
    choose_threshold,
    cluster,
    new_index_sql,
    retired_sql,
    unless_decided_match,
)
from crosswalk.identity.features import build_features
from crosswalk.identity.link import (
    LINK_RECORDS,
    RECORD_STRENGTH,
    LinkResult,
    Progress,
    accepted_sql,
    decided_sql,
)

if TYPE_CHECKING:
    from crosswalk.engines.spark_engine import SparkEngine
    from crosswalk.engines.spark_sql import SparkSql

log = redact.logger(__name__)

# A table the snapshot may not hold yet, as an empty view of its columns.
EMPTY = {
    "review_decision": "SELECT CAST(NULL AS VARCHAR) AS record_key_l, CAST(NULL AS VARCHAR) "
    "AS record_key_r, CAST(NULL AS VARCHAR) AS decision",
    "person_index": "SELECT CAST(NULL AS VARCHAR) AS record_key, "
    "CAST(NULL AS VARCHAR) AS enterprise_id",
    "enterprise_id_counter": "SELECT CAST(NULL AS BIGINT) AS next_value",
    "enterprise_id_retired": "SELECT CAST(NULL AS VARCHAR) AS enterprise_id, "
    "CAST(NULL AS VARCHAR) AS merged_into, CAST(NULL AS VARCHAR) AS run_id",
    # What the households are built from besides the records (a warehouse of records
    # alone has no events), and the earlier households their ids stay stable against.
    "service_event": "SELECT CAST(NULL AS VARCHAR) AS record_key, CAST(NULL AS VARCHAR) "
    "AS agency, CAST(NULL AS VARCHAR) AS program, CAST(NULL AS VARCHAR) AS household_id, "
    "CAST(NULL AS DATE) AS start_date, CAST(NULL AS DATE) AS end_date",
    "household_index": "SELECT CAST(NULL AS VARCHAR) AS member_key, CAST(NULL AS VARCHAR) "
    "AS household_id, CAST(NULL AS VARCHAR) AS link_run_id",
    "household_id_counter": "SELECT CAST(NULL AS BIGINT) AS next_value",
    "household_id_event": "SELECT CAST(NULL AS VARCHAR) AS household_id, CAST(NULL AS VARCHAR) "
    "AS event, CAST(NULL AS VARCHAR) AS successor, CAST(NULL AS VARCHAR) AS link_run_id, "
    "CAST(NULL AS TIMESTAMP) AS happened_at",
}


def inputs(sql: SparkSql, tables: dict[str, Path]) -> None:
    """The snapshot's tables a run reads, as temporary views of ``sql``; a table the
    snapshot does not hold yet (``EMPTY``) as an empty view of its columns."""
    if "person_record" not in tables:
        raise LinkageError(
            "linkage cannot proceed: the warehouse holds no person records",
            [Problem("ingest on Spark, or export a hub (crosswalk export-warehouse)")],
        )
    for name in ("person_record", *EMPTY):
        if name in tables:  # service_event: the analytic tables are rebuilt only with it
            sql.session.read.parquet(str(tables[name])).createOrReplaceTempView(name)
        elif name in EMPTY:
            sql.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {EMPTY[name]} WHERE false")


# The household tables a run writes (the hub's names) -> the relation holding their rows.
HOUSEHOLD_TABLES = {
    "household_member": "hh_member_out",
    "household_index": "hh_index_out",
    "household_id_event": "household_id_event_out",
    "household_id_counter": "household_id_counter_out",
    "household_key": "hh_new_key",
    "linked_household": "linked_household_out",
}


def households(sql: SparkSql, run_id: str, index: str = "person_index_out") -> dict[str, int]:
    """Build the enterprise households of the person index ``index`` (the run's new one)
    by the hub's steps, with ids stable against the snapshot's households (``inputs``);
    the rows of each table of ``HOUSEHOLD_TABLES`` as a relation, and their counts."""
    household_steps.new_keys(sql)
    derived = household_steps.derive(sql, run_id, index=index, keys="hh_new_key")
    sql.execute(
        """CREATE OR REPLACE TEMP TABLE household_id_event_out AS
        SELECT household_id, event, successor, link_run_id, CAST(happened_at AS TIMESTAMP)
               AS happened_at
        FROM household_id_event
        UNION ALL SELECT * FROM hh_event_out"""
    )
    sql.execute(
        "CREATE OR REPLACE TEMP TABLE household_id_counter_out AS "
        f"SELECT CAST({derived.next_value} AS BIGINT) AS next_value"
    )
    sql.execute(
        "CREATE OR REPLACE TEMP TABLE linked_household_out AS "
        f"{household_steps.select_sql('hh_member_out')} ORDER BY person"
    )
    return {
        table: int(sql.execute(f"SELECT count(*) FROM {relation}").fetchall()[0][0])
        for table, relation in HOUSEHOLD_TABLES.items()
    }


def link_warehouse(
    engine: SparkEngine | None = None,
    *,
    seed: int = 1,
    run_by: str | None = None,
    control: str | None = None,
    secrets: str | Path | None = None,
    progress: Progress | None = None,
) -> LinkResult:
    """Link the warehouse's person records on Spark and commit its new person index.

    ``engine`` is the Spark engine of the warehouse (default: ``$CROSSWALK_WAREHOUSE`` at
    ``$CROSSWALK_SPARK_MASTER``). Audited as a hub run is: the intent before the commit,
    the outcome after it.

    Example:
        >>> link_warehouse(SparkEngine("warehouse", session=spark))  # doctest: +SKIP
    """
    from crosswalk.engines.spark_engine import SparkEngine
    from crosswalk.engines.warehouse import commit_snapshot, warehouse_tables

    spark = engine or SparkEngine()
    report = progress or (lambda stage, done: None)
    user = run_by or getpass.getuser()
    audit = AuditLog(control, secrets=secrets)
    run_id = "L" + uuid.uuid4().hex[:12]
    tables = warehouse_tables(spark.warehouse)
    with spark.linkage() as sql:
        inputs(sql, tables)
        report("features", 0.05)
        records = build_features(sql)
        coverage = profile.measure(sql)
        chosen = model.plan(sql, coverage)
        for message in chosen.messages:
            log.info(message)
        report(f"training the model on {records:,} records", 0.15)
        linker = Linker(
            sql.splink_api().register("link_input"), chosen.settings(), log_level=logging.ERROR
        )
        try:
            training = model.train(
                linker,
                chosen,
                seed=seed,
                step=lambda what, share: report(f"training: {what}", 0.15 + 0.35 * share),
            )
        except SplinkException as error:
            raise LinkageError(
                f"linkage cannot proceed: training failed ({error})",
                [Problem(m) for m in chosen.messages],
            ) from error
        report(f"scoring the candidate pairs of {records:,} records", 0.5)
        scored = linker.inference.predict(threshold_match_weight=-5).physical_name
        candidate_pairs = int(sql.execute(f"SELECT count(*) FROM {scored}").fetchall()[0][0])
        threshold = choose_threshold(sql, scored)
        report(f"clustering {records:,} records by {candidate_pairs:,} scored pairs", 0.7)
        sql.execute(decided_sql(scored, threshold.review_floor))
        sql.execute(accepted_sql(threshold.weight))
        sql.execute(LINK_RECORDS)
        clusters, split = cluster(
            sql, "link_records", "accepted", unless_decided_match(cannot_link_sql())
        )
        sql.register("_clusters", clusters)
        sql.execute("CREATE OR REPLACE TEMP TABLE clusters AS SELECT * FROM _clusters")
        report("writing the person index", 0.85)
        start = int(
            sql.execute(
                "SELECT coalesce(max(next_value), 1) FROM enterprise_id_counter"
            ).fetchall()[0][0]
        )
        new_ids = allot_ids(sql, "clusters", "person_index", start)
        sql.execute(new_index_sql("clusters", run_id))
        sql.execute(RECORD_STRENGTH)
        sql.execute(
            """CREATE OR REPLACE TEMP TABLE person_index_out AS
            SELECT i.record_key, i.agency, i.source_record_id, i.enterprise_id, i.link_run_id,
                   coalesce(s.p, 1.0) AS match_probability
            FROM new_index i LEFT JOIN record_strength s USING (record_key)"""
        )
        sql.execute(
            "CREATE OR REPLACE TEMP TABLE retired_out AS SELECT * FROM enterprise_id_retired "
            f"UNION ALL {retired_sql('clusters', 'person_index', run_id)}"
        )
        n_clusters = int(
            sql.execute("SELECT count(DISTINCT enterprise_id) FROM person_index_out").fetchall()[0][
                0
            ]
        )
        by_agency = {
            str(a): int(n)
            for a, n in sql.execute(
                "SELECT agency, count(DISTINCT enterprise_id) FROM person_index_out GROUP BY 1 ORDER BY 1"
            ).fetchall()
        }

        # The analytic tables questions read, for the new index (with the events held);
        # the households' table is the households' build, below.
        analytic = [
            t
            for t, (source, _) in linked.TABLES.items()
            if source in tables and t != "linked_household"
        ]
        for table in analytic:
            sql.execute(
                f"CREATE OR REPLACE TEMP TABLE {table}_out AS "
                + linked.select_sql(table, "person_index_out")
            )
        counts = {
            table: int(sql.execute(f"SELECT count(*) FROM {table}_out").fetchall()[0][0])
            for table in analytic
        }
        retired = int(sql.execute("SELECT count(*) FROM retired_out").fetchall()[0][0])
        report("building the enterprise households", 0.9)
        household_counts = households(sql, run_id)

        def write(staging: Path) -> dict[str, int]:
            sql.table("person_index_out").write.parquet(str(staging / "person_index"))
            sql.table("retired_out").write.parquet(str(staging / "enterprise_id_retired"))
            for table in analytic:
                sql.table(f"{table}_out").write.parquet(str(staging / table))
            counter = pa.table({"next_value": pa.array([start + new_ids], pa.int64())})
            # The model as the hub keeps it (settings and training summary, as JSON).
            saved = pa.table(
                {
                    "run_id": [run_id],
                    "settings": [json.dumps(linker.misc.save_model_to_json(), default=str)],
                    "training": [json.dumps(training, default=str)],
                }
            )
            sql.session.createDataFrame(saved).write.parquet(str(staging / "link_model"))
            sql.session.createDataFrame(counter).write.parquet(
                str(staging / "enterprise_id_counter")
            )
            for table, relation in HOUSEHOLD_TABLES.items():
                sql.table(relation).write.parquet(str(staging / table))
            return {
                **counts,
                **household_counts,
                "person_index": records,
                "enterprise_id_retired": retired,
                "enterprise_id_counter": 1,
                "link_model": 1,
            }

        audit.record(LinkageStarted(user, objects={"link_run": run_id}, rows=records))
        try:
            snapshot = commit_snapshot(spark.warehouse, write)
        except BaseException:
            audit.record_failed(LinkageFailed(user, objects={"link_run": run_id}, rows=records))
            raise
    audit.record_committed(
        LinkageRun(user, objects={"link_run": run_id, "snapshot": snapshot}, rows=records)
    )
    report("done", 1.0)
    return LinkResult(
        run_id,
        records,
        candidate_pairs,
        threshold,
        n_clusters,
        split,
        0,
        by_agency,
        0,
        coverage.to_dict(),
        chosen.messages,
        changes={"new": new_ids},
    )
