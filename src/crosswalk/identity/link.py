"""A linkage run: features, Splink training and scoring, threshold, clustering, IDs, evidence."""

from __future__ import annotations

import getpass
import json
import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from crosswalk import records, redact, settings, stores
from crosswalk.audit import AuditLog, LinkageFailed, LinkageRun, LinkageStarted
from crosswalk.engines import splink_api
from crosswalk.errors import ConfigError, LinkageError, Problem
from crosswalk.identity import history, households, incremental, linked, profile, store
from crosswalk.identity.cluster import (
    Threshold,
    assign_enterprise_ids,
    cannot_link_sql,
    choose_threshold,
    cluster,
    unless_decided_match,
)
from crosswalk.identity.features import build_features

if TYPE_CHECKING:
    from splink import Linker

    from crosswalk.hub import Hub
    from crosswalk.identity import model

Progress = Callable[[str, float], None]
log = redact.logger(__name__)


@dataclass(frozen=True)
class LinkResult:
    run_id: str
    records: int
    candidate_pairs: int
    threshold: Threshold
    clusters: int
    split_components: int
    review_pairs: int
    persons_by_agency: dict[str, int] = field(default_factory=dict)
    model_version: int = 0
    coverage: dict[str, Any] = field(default_factory=dict)
    messages: tuple[str, ...] = ()
    kind: str = "full"  # or "incremental": only new and changed records, the saved model
    changes: dict[str, int] = field(default_factory=dict)  # history.IdChanges
    deleted_records: int = 0
    # Every id change of the run by kind and cause ("merged: steward decision"): the
    # run's own enterprise_id_event rows, counted.
    by_cause: dict[str, int] = field(default_factory=dict)


class LinkCancelled(LinkageError):
    """A full run whose id changes were not confirmed: nothing was written."""


def _evidence_sql(linker: Linker, pairs: str, records: str) -> str:
    """``pairs`` with a JSON column ``fields``: for each comparison, the level the pair
    falls in and that level's partial match weight.

    Scoring keeps no per-field columns (they would be written for every candidate pair);
    the levels are computed again here from the records, for the decided pairs only, with
    the model's own comparison SQL. Pairs share few distinct combinations of levels, so
    the JSON is built once per combination and joined back.
    """
    comparisons = linker._settings_obj.comparisons
    columns = {
        c.unquote().name: c
        for comparison in comparisons
        for c in comparison._input_columns_used_by_case_statement
    }
    sides = ", ".join(f"{c.l_name_as_l}, {c.r_name_as_r}" for c in columns.values())
    gammas = ", ".join(c._case_statement for c in comparisons)
    levels = ", ".join(c._gamma_column_name for c in comparisons)
    scores = "record_key_l, record_key_r, match_weight, match_probability"
    return f"""
        WITH sides AS (
            SELECT {", ".join(f"p.{c}" for c in scores.split(", "))}, {sides} FROM {pairs} p
            JOIN {records} l ON l.unique_id = p.record_key_l
            JOIN {records} r ON r.unique_id = p.record_key_r),
        gammas AS MATERIALIZED (SELECT {scores}, {gammas} FROM sides),
        combinations AS (SELECT {levels}, {_fields_sql(comparisons)} AS fields
                         FROM (SELECT DISTINCT {levels} FROM gammas))
        SELECT {scores}, fields FROM gammas JOIN combinations USING ({levels})"""


def _fields_sql(comparisons: list[Any]) -> str:
    """The JSON object of one combination of levels: per comparison, its level's label and
    partial match weight."""
    fields = []
    for comparison in comparisons:
        levels = []
        for level in comparison.comparison_levels:
            weight = 0.0 if level.is_null_level else round(float(level._log2_bayes_factor), 3)
            label = level.label_for_charts.replace("'", "''")
            levels.append(
                f"WHEN {level.comparison_vector_value} THEN "
                f"json_object('weight', {weight!r}, 'level', '{label}')"
            )
        gamma = comparison._gamma_column_name
        fields.append(f"'{comparison.output_column_name}', CASE {gamma} {' '.join(levels)} END")
    return f"json_object({', '.join(fields)})"


MIB_PER_MILLION_RECORDS = 1024
MIN_BUDGET_MIB = 1024


def memory_budget(records: int) -> str:
    """DuckDB's memory limit for a linkage run when none is configured: 1 GiB per million
    records, at least 1 GiB (blocking on some twenty rules at once ran out of memory with
    512 MiB at 120k records). DuckDB's own default (80% of the machine) lets its caches
    grow with the machine; a budget keeps peak memory in line with the work, spilling to
    the hub's temporary directory beyond it (measured in docs/benchmarks.md)."""
    return f"{max(MIN_BUDGET_MIB, records * MIB_PER_MILLION_RECORDS // 1_000_000)}MiB"


def link(
    hub: str | Path | Hub | None = None,
    *,
    seed: int = 1,
    charts: str | Path | None = None,
    run_by: str | None = None,
    control: str | None = None,
    secrets: str | Path | None = None,
    progress: Progress | None = None,
    full: bool = False,
    confirm: Callable[[history.IdChanges], bool] | None = None,
) -> LinkResult:
    """Link the hub's person records and update the person index.

    On a hub that already has an index, only the records new or changed since the last
    run are linked, against the index, with the saved model (``incremental``). With
    ``full`` (and on the first run) the model is retrained and every record clustered
    again; ``confirm``, if given, is shown what the run would do to enterprise ids before
    it commits (kept, merged, split, retired) and cancels it by returning False.

    With ``CROSSWALK_ENGINE=spark`` (or a ``Hub`` of a ``SparkEngine``, or the engine
    itself) the run is on Spark over the warehouse (``hub`` names it), always full:
    ``crosswalk.identity.on_warehouse``.

    ``hub`` is the hub's file, or the ``Hub`` object of a process that owns it for
    writing (the service): the run then writes through its writer's cursor, reads go on
    meanwhile (they see the person index of the last run until this one commits), and
    Splink's work tables stay in memory (that connection reaches no file).

    Example:
        >>> link(hub="hub.duckdb")  # doctest: +SKIP
    """
    report = progress or (lambda stage, done: None)
    target: Any = hub
    if isinstance(hub, str | Path | None) and settings.ENGINE.value().strip().lower() != "duckdb":
        from crosswalk.hub import engine_for

        target = engine_for(hub)  # the warehouse's engine
    engine = getattr(target, "engine", target)
    if hasattr(engine, "linkage"):  # an engine that links in its own store (Spark)
        if charts is not None:
            raise ConfigError("charts are written by a run on the hub's file")
        from crosswalk.identity.on_warehouse import link_warehouse

        return link_warehouse(
            engine, seed=seed, run_by=run_by, control=control, secrets=secrets, progress=progress
        )
    if not isinstance(hub, str | Path | None):
        if charts is not None:
            raise ConfigError("charts are written by a run on the hub's file, not its object")
        user = run_by or getpass.getuser()
        with hub.write() as writer:
            records.migrate(writer)
            store.migrate(writer)
            history.migrate(writer)
            households.migrate(writer)
            _reconcile(writer, hub.audit, user)
            return _run(writer, seed, None, report, hub.audit, user, full, confirm)
    con = stores.connect_hub(hub)
    try:
        records.migrate(con)
        store.migrate(con)
        history.migrate(con)
        households.migrate(con)
        audit, user = AuditLog(control, secrets=secrets), run_by or getpass.getuser()
        _reconcile(con, audit, user)
        return _run(con, seed, charts, report, audit, user, full, confirm)
    finally:
        con.close()


def _reconcile(con: duckdb.DuckDBPyConnection, audit: AuditLog, user: str) -> None:
    """Record the outcome of runs whose process died after the hub's commit and before it
    wrote the outcome: the intent names the run, and this hub's ``link_run`` holds it. An
    intent for a run this hub does not hold is left open (it may belong to another hub)."""
    for intent in audit.open_intents(LinkageStarted, (LinkageRun, LinkageFailed), "link_run"):
        run_id = intent["objects"]["link_run"]
        held = con.execute(
            "SELECT model_version FROM link_run WHERE run_id = ?", [run_id]
        ).fetchall()
        if held:
            objects = intent["objects"] | {"model_version": held[0][0], "reconciled_by": user}
            audit.record_committed(LinkageRun(intent["user"], objects=objects, rows=intent["rows"]))


SCRATCH = "link_scratch"
BLOCKED = "link_blocked_pairs"  # the candidate pairs, in the scratch database


@contextmanager
def _scratch(con: duckdb.DuckDBPyConnection, hub_catalog: str) -> Iterator[None]:
    """Splink's work tables go to a scratch database attached for the run, never to the
    hub: a run that stops leaves none of them in it."""
    con.execute(f"USE {SCRATCH}")
    try:
        yield
    finally:
        con.execute(f"USE {_quote(hub_catalog)}")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _run(
    con: duckdb.DuckDBPyConnection,
    seed: int,
    charts: str | Path | None,
    report: Progress,
    audit: AuditLog,
    run_by: str,
    full: bool = True,
    confirm: Callable[[history.IdChanges], bool] | None = None,
) -> LinkResult:
    hub_catalog, hub_path = con.execute(
        "SELECT database_name, path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchall()[0]
    # A file beside the hub (so DuckDB can evict its pages under the memory budget), never
    # a table in the hub; removed after the run, and before it if a killed run left one.
    confined = not con.execute("SELECT current_setting('enable_external_access')").fetchall()[0][0]
    scratch = Path(f"{hub_path}.link-scratch") if hub_path and not confined else None
    if scratch is not None:
        scratch.unlink(missing_ok=True)
    con.execute("ATTACH ? AS " + SCRATCH, [str(scratch) if scratch else ":memory:"])
    try:
        saved = None if full else incremental.saved_model(con)
        if saved is not None:
            return incremental.run(
                con, saved, SCRATCH, lambda: _scratch(con, hub_catalog), report, audit, run_by
            )
        return _link(con, hub_catalog, seed, charts, report, audit, run_by, confirm)
    finally:
        con.execute(f"USE {_quote(hub_catalog)}")
        con.execute(f"DETACH DATABASE IF EXISTS {SCRATCH}")
        if scratch is not None:
            scratch.unlink(missing_ok=True)
            Path(f"{scratch}.wal").unlink(missing_ok=True)


def _link(
    con: duckdb.DuckDBPyConnection,
    hub_catalog: str,
    seed: int,
    charts: str | Path | None,
    report: Progress,
    audit: AuditLog,
    run_by: str,
    confirm: Callable[[history.IdChanges], bool] | None = None,
) -> LinkResult:
    # Splink and the model's comparisons load only for a full run (a few seconds).
    from splink import Linker
    from splink.internals.exceptions import SplinkException

    from crosswalk.identity import model
    from crosswalk.identity.charts import write_charts

    run_id = "L" + uuid.uuid4().hex[:12]
    started = con.execute("SELECT now()::TIMESTAMP").fetchall()[0][0]
    report("features", 0.05)
    if not con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'person_record'"
        " AND table_catalog = ?",
        [hub_catalog],
    ).fetchall()[0][0]:
        raise LinkageError(
            "linkage cannot proceed: the hub holds fewer than two person records",
            [Problem("ingest agency extracts first (crosswalk ingest)", field="person_record")],
        )
    records = build_features(con)
    locked = con.execute("SELECT current_setting('lock_configuration')").fetchall()[0][0]
    if not settings.MEMORY_LIMIT.value() and not locked:
        con.execute(f"SET memory_limit = '{memory_budget(records)}'")
    coverage = profile.measure(con)
    chosen = model.plan(con, coverage)
    for message in chosen.messages:
        log.info(message)
    report(f"training the model on {records:,} records", 0.15)
    with _scratch(con, hub_catalog):
        db = splink_api.duckdb_api(con)
        linker = Linker(db.register("link_input"), chosen.settings(), log_level=logging.ERROR)
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
        if charts is not None:
            write_charts(linker, charts)
        report(f"scoring the candidate pairs of {records:,} records", 0.5)
        con.execute(
            f"CREATE OR REPLACE TABLE {BLOCKED} AS {chosen.blocked_pairs_sql('link_input')}"
        )
        blocked = linker.table_management.register_blocked_pairs_for_predict(db.register(BLOCKED))
        # Scored as Splink scores its own blocking's pairs: its path for pairs made
        # elsewhere (reading only the records they name) cost twice as much at 100k.
        blocked.metadata["registered_for_predict"] = False
        predictions = linker.inference.predict(threshold_match_weight=-5)
        con.execute(f"DROP TABLE {BLOCKED}")
    scored = f"{SCRATCH}.{predictions.physical_name}"
    candidate_pairs = con.execute(f"SELECT count(*) FROM {scored}").fetchall()[0][0]
    threshold = choose_threshold(con, scored)
    training["pairs_by_rule"] = _pairs_by_rule(con, scored, chosen, threshold.weight)
    report(f"clustering {records:,} records by {candidate_pairs:,} scored pairs", 0.7)
    con.execute(decided_sql(scored, threshold.review_floor))
    with _scratch(con, hub_catalog):
        predictions.drop_table_from_database_and_remove_from_cache()
    con.execute(accepted_sql(threshold.weight))
    con.execute(LINK_RECORDS)
    clusters, split = cluster(
        con, "link_records", "accepted", unless_decided_match(cannot_link_sql())
    )
    con.register("_clusters", clusters)
    con.execute("CREATE OR REPLACE TEMP TABLE clusters AS SELECT * FROM _clusters")
    con.unregister("_clusters")
    report("writing the person index", 0.85)
    # Intent before the hub's commit, outcome after it (as for an ingest batch).
    audit.record(LinkageStarted(run_by, objects={"link_run": run_id}, rows=records))
    con.execute("BEGIN TRANSACTION")
    try:
        version = _save_model(con, linker, training)
        con.execute(
            "CREATE OR REPLACE TEMP TABLE previous_index AS SELECT record_key, enterprise_id FROM person_index"
        )
        assign_enterprise_ids(con, "clusters", run_id)
        changes = history.diff(con, "previous_index", "person_index")
        if confirm is not None and not confirm(changes):
            raise LinkCancelled(
                f"the full run was not confirmed ({changes.sentence()}); nothing was written"
            )
        history.record(con, run_id, started, "full run")
        by_cause = history.changes_by_cause(con, [run_id])
        incremental.keep_features(con)
        incremental.keep_edges(con, run_id, version)
        con.execute(RECORD_STRENGTH)
        con.execute(
            """UPDATE person_index SET match_probability = coalesce(s.p, 1.0)
            FROM person_index i LEFT JOIN record_strength s USING (record_key)
            WHERE person_index.record_key = i.record_key"""
        )
        con.execute(
            # Evidence streams straight into the hub table: never held whole in memory.
            f"""INSERT INTO link_evidence SELECT '{run_id}', d.record_key_l, d.record_key_r, d.match_weight,
                d.match_probability, a.record_key_l IS NOT NULL, d.fields
            FROM ({_evidence_sql(linker, "decided", "link_input")}) d
            LEFT JOIN accepted a USING (record_key_l, record_key_r)"""
        )
        report("writing the analytic tables", 0.92)
        linked.refresh(con)
        households.build(con, run_id)
        # Review: pairs from the review floor up that were not accepted, below the threshold
        # or refused as two people of one household (a steward may still decide "match").
        con.execute("DELETE FROM review_queue")
        con.execute(
            f"""INSERT INTO review_queue SELECT '{run_id}', d.record_key_l, d.record_key_r, d.match_weight,
                d.match_probability, d.fields FROM link_evidence d
            WHERE d.run_id = '{run_id}' AND NOT d.accepted
              AND NOT EXISTS (SELECT 1 FROM review_decision r WHERE r.record_key_l = d.record_key_l
                              AND r.record_key_r = d.record_key_r)"""
        )
        n_clusters = con.execute(
            "SELECT count(DISTINCT enterprise_id) FROM person_index"
        ).fetchall()[0][0]
        review = con.execute("SELECT count(*) FROM review_queue").fetchall()[0][0]
        by_agency = dict(
            con.execute(
                "SELECT agency, count(DISTINCT enterprise_id) FROM person_index GROUP BY 1 ORDER BY 1"
            ).fetchall()
        )
        summary: dict[str, Any] = {
            "threshold": threshold.__dict__,
            "persons_by_agency": by_agency,
            "coverage": coverage.to_dict(),
            "messages": list(chosen.messages),
        }
        # The run is recorded in the same transaction: a run that stops records nothing.
        con.execute(
            """INSERT INTO link_run (started_at, finished_at, model_version, records, candidate_pairs,
                threshold_weight, review_floor_weight, clusters, split_components, summary, run_id,
                kind, changes)
            VALUES (?, now()::TIMESTAMP, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'full', ?)""",
            [
                started,
                version,
                records,
                candidate_pairs,
                threshold.weight,
                threshold.review_floor,
                n_clusters,
                split,
                json.dumps(summary),
                run_id,
                json.dumps(changes.to_dict()),
            ],
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        audit.record_failed(LinkageFailed(run_by, objects={"link_run": run_id}, rows=records))
        raise
    audit.record_committed(
        LinkageRun(run_by, objects={"link_run": run_id, "model_version": version}, rows=records)
    )
    report("done", 1.0)
    return LinkResult(
        run_id,
        records,
        candidate_pairs,
        threshold,
        n_clusters,
        split,
        review,
        by_agency,
        version,
        coverage.to_dict(),
        chosen.messages,
        changes=changes.to_dict(),
        by_cause=by_cause,
    )


def decided_sql(scored: str, review_floor: float) -> str:
    """The temporary table ``decided``: scored pairs from the review floor up, each with
    its lower record key on the left."""
    return f"""CREATE OR REPLACE TEMP TABLE decided AS
        SELECT least(unique_id_l, unique_id_r) AS record_key_l, greatest(unique_id_l, unique_id_r) AS record_key_r,
               match_weight, match_probability
        FROM {scored} WHERE match_weight >= {float(review_floor)!r}"""


def accepted_sql(weight: float) -> str:
    """The temporary table ``accepted``: the links clustering follows. A decided pair at
    or above the threshold that the household rules do not refuse, or that a steward
    decided is a match, unless a steward decided it is not; and every pair a steward
    decided is a match, scored or not."""
    return f"""CREATE OR REPLACE TEMP TABLE accepted AS
        SELECT d.record_key_l, d.record_key_r, d.match_weight FROM decided d
        JOIN link_input a ON a.unique_id = d.record_key_l JOIN link_input b ON b.unique_id = d.record_key_r
        WHERE (d.match_weight >= {float(weight)!r} AND NOT {cannot_link_sql()}
               OR EXISTS (SELECT 1 FROM review_decision r WHERE r.decision = 'match'
                          AND r.record_key_l = d.record_key_l AND r.record_key_r = d.record_key_r))
          AND NOT EXISTS (SELECT 1 FROM review_decision r WHERE r.decision = 'no-match'
                          AND r.record_key_l = d.record_key_l AND r.record_key_r = d.record_key_r)
        UNION ALL
        SELECT r.record_key_l, r.record_key_r, 100.0 FROM review_decision r WHERE r.decision = 'match'
          AND r.record_key_l IN (SELECT unique_id FROM link_input) AND r.record_key_r IN (SELECT unique_id FROM link_input)"""


# Per record, the strongest accepted link it is in (its person index row's probability).
RECORD_STRENGTH = """CREATE OR REPLACE TEMP TABLE record_strength AS
    WITH a AS (SELECT d.record_key_l, d.record_key_r, d.match_probability
               FROM decided d JOIN accepted USING (record_key_l, record_key_r))
    SELECT record_key, max(match_probability) AS p FROM (
      SELECT record_key_l AS record_key, match_probability FROM a
      UNION ALL SELECT record_key_r, match_probability FROM a) GROUP BY 1"""

# The records clustering reads: the features, keyed by record.
LINK_RECORDS = (
    "CREATE OR REPLACE TEMP TABLE link_records AS SELECT unique_id AS record_key, * FROM link_input"
)


def _pairs_by_rule(
    con: duckdb.DuckDBPyConnection, scored: str, chosen: model.Plan, weight: float
) -> list[dict[str, Any]]:
    """Per blocking rule (the first that found each pair): candidate pairs, pairs at or
    above the threshold, and the expected true links among its pairs (sum of
    probabilities) — how much each rule adds that earlier rules did not find."""
    rows = {
        int(k): (int(n), int(a), float(e))
        for k, n, a, e in con.execute(
            f"""SELECT CAST(match_key AS INTEGER), count(*),
                   count(*) FILTER (WHERE match_weight >= {weight}), sum(match_probability)
            FROM {scored} GROUP BY 1"""
        ).fetchall()
    }
    return [
        {
            "rule": rule.name,
            "pairs": rows.get(i, (0, 0, 0.0))[0],
            "accepted": rows.get(i, (0, 0, 0.0))[1],
            "expected_links": round(rows.get(i, (0, 0, 0.0))[2], 1),
        }
        for i, rule in enumerate(chosen.rules)
    ]


def _save_model(con: duckdb.DuckDBPyConnection, linker: Linker, training: dict[str, Any]) -> int:
    version = con.execute("SELECT coalesce(max(version), 0) + 1 FROM link_model").fetchall()[0][0]
    settings = linker.misc.save_model_to_json()
    con.execute(
        "INSERT INTO link_model VALUES (?, now()::TIMESTAMP, ?, ?)",
        [version, json.dumps(settings, default=str), json.dumps(training, default=str)],
    )
    return version
