"""Incremental linking: only what is new or changed since the last run, against the
existing index, with the saved model and without retraining.

A full run (``crosswalk link --full``, and the first run of a hub) keeps the linkage
features of every record (``link_feature``, with a fingerprint of the fields they come
from) and the decided pairs (``link_edge``). An incremental run then:

1. finds the records that are new or whose fields changed (fingerprint), and those gone
   (deleted by a correction batch), and the review decisions made since the last run;
2. scores the new and changed records against every other record and among themselves
   (Splink's ``predict_between`` and ``predict_within``) with the saved model, at the
   saved threshold;
3. re-clusters the persons the new evidence touches — those holding a changed or deleted
   record, those a new link reaches, those a new decision names — with the same
   conflict rules as a full run, steward decisions overriding the model both ways;
4. keeps ids stable by the same rule as a full run and records every change of id
   (``crosswalk.identity.history``), the analytic tables and the review queue updated
   for those records only, all in one transaction.

Each decided pair records the model version that scored it.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import duckdb
import sqlglot
from sqlglot import exp

from crosswalk.engines import splink_api
from crosswalk.errors import LinkageError, Problem
from crosswalk.identity import history
from crosswalk.identity.cluster import (
    allot_enterprise_ids,
    cannot_link_sql,
    cluster,
    unless_decided_match,
)
from crosswalk.identity.features import build_features

if TYPE_CHECKING:
    from splink import Linker

Progress = Callable[[str, float], None]

# The person_record fields linkage features are built from: a record whose fingerprint
# of these changes is linked again.
FINGERPRINTED = (
    "first_name",
    "middle_name",
    "last_name",
    "name_suffix",
    "first_name_canonical",
    "dob",
    "sex",
    "ssn",
    "ssn_last4",
    "medicaid_id",
    "other_ids",
    "address_line",
    "zip",
    "county",
    "phone",
)


def fingerprint_sql(con: duckdb.DuckDBPyConnection, alias: str = "p") -> str:
    """SQL for the fingerprint of a person_record row ``alias``."""
    present = {
        r[0]
        for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'person_record'"
        ).fetchall()
    }
    base = "hash(" + ", ".join(f"{alias}.{c}" for c in FINGERPRINTED if c in present) + ")"
    if "email" in present:
        # An email is evidence too; records without one keep the fingerprint they had.
        base = f"CASE WHEN {alias}.email IS NULL THEN {base} ELSE hash({base}, {alias}.email) END"
    if "birth_year" not in present:
        return base
    # A year of birth without a DOB is linkage evidence too; with a DOB it is the DOB's
    # year, so the fingerprints of records with a DOB (or neither) stay as they were.
    return (
        f"CASE WHEN {alias}.dob IS NULL AND {alias}.birth_year IS NOT NULL"
        f" THEN hash({base}, {alias}.birth_year) ELSE {base} END"
    )


def keep_features(con: duckdb.DuckDBPyConnection, features: str = "link_input") -> None:
    """Keep every record's features and fingerprint (a full run, in its transaction)."""
    con.execute(
        f"""CREATE OR REPLACE TABLE link_feature AS
        SELECT f.*, {fingerprint_sql(con)} AS fingerprint
        FROM {features} f JOIN person_record p ON p.record_key = f.unique_id"""
    )


def keep_edges(con: duckdb.DuckDBPyConnection, run_id: str, version: int) -> None:
    """Keep a full run's decided pairs, accepted or not (in its transaction)."""
    con.execute("DELETE FROM link_edge")
    con.execute(
        """INSERT INTO link_edge SELECT d.record_key_l, d.record_key_r, d.match_weight,
            d.match_probability, a.record_key_l IS NOT NULL, ?, ?
        FROM decided d LEFT JOIN accepted a USING (record_key_l, record_key_r)""",
        [run_id, version],
    )


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'")
    return {name for (name,) in rows.fetchall()}


def _temp_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute("SELECT table_name FROM duckdb_tables() WHERE temporary")
    return {name for (name,) in rows.fetchall()}


@dataclass(frozen=True)
class SavedModel:
    version: int
    settings: Any  # Splink settings (a dict) as saved; ``check_model`` refuses any other
    threshold_weight: float
    review_floor: float
    expected_precision: float
    expected_recall: float


def saved_model(con: duckdb.DuckDBPyConnection) -> SavedModel | None:
    """The model of the last full run and its threshold; None when the hub has no index
    to link against (no full run yet, or one from before features were kept)."""
    if not {"link_feature", "link_edge", "person_index", "link_model"} <= _tables(con):
        return None
    columns = {
        r[0]
        for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'link_feature'"
        ).fetchall()
    }
    if "fingerprint" not in columns or len(columns) < 3:
        return None
    if not con.execute("SELECT count(*) FROM person_index").fetchall()[0][0]:
        return None
    rows = con.execute(
        """SELECT r.model_version, m.settings, r.threshold_weight, r.review_floor_weight, r.summary
        FROM link_run r JOIN link_model m ON m.version = r.model_version
        WHERE r.kind = 'full' ORDER BY r.started_at DESC LIMIT 1"""
    ).fetchall()
    if not rows:
        return None
    version, settings, weight, floor, summary = rows[0]
    threshold = json.loads(summary).get("threshold", {})
    try:
        read = json.loads(settings)
    except ValueError:
        read = None  # refused by ``check_model``, naming the model
    return SavedModel(
        int(version),
        read,
        float(weight),
        float(floor),
        float(threshold.get("expected_precision", 0.0)),
        float(threshold.get("expected_recall", 0.0)),
    )


def _model_columns(settings: Any, problems: list[Problem] | None = None) -> set[str]:
    """Every feature column the saved model reads: its comparisons and blocking rules.
    What cannot be read as a model (not a settings object, a condition that is not SQL)
    is added to ``problems``."""
    found = [] if problems is None else problems
    if not isinstance(settings, dict) or not isinstance(settings.get("comparisons"), list):
        found.append(Problem("the saved model is not a linkage model's settings (no comparisons)"))
        return set()
    names: set[str] = {str(settings.get("unique_id_column_name", "unique_id"))}
    sqls: list[tuple[str, str]] = []
    for comparison in settings["comparisons"]:
        label = (
            str(comparison.get("output_column_name", "?")) if isinstance(comparison, dict) else "?"
        )
        levels = comparison.get("comparison_levels", []) if isinstance(comparison, dict) else None
        if not isinstance(levels, list):
            found.append(Problem(f"comparison {label!r} has no comparison levels", field=label))
            continue
        for level in levels:
            sqls.append(
                (label, str(level.get("sql_condition", "")) if isinstance(level, dict) else "")
            )
    for rule in settings.get("blocking_rules_to_generate_predictions", []):
        sqls.append(
            ("blocking rule", rule["blocking_rule"] if isinstance(rule, dict) else str(rule))
        )
    # Levels of many comparisons share their SQL: each distinct condition is parsed once.
    read: dict[str, set[str] | None] = {}
    for label, sql in sqls:
        if not sql or sql.strip().upper() == "ELSE":
            continue
        if sql not in read:
            try:
                parsed = sqlglot.parse_one(sql, read="duckdb")
            except sqlglot.errors.ParseError:
                read[sql] = None
            else:
                read[sql] = {_unsided(c.name) for c in parsed.find_all(exp.Column)}
        columns = read[sql]
        if columns is None:
            found.append(Problem(f"{label}: condition {sql!r} is not SQL", field=label, value=sql))
            continue
        names |= columns
    return names


def _unsided(name: str) -> str:
    for side in ("_l", "_r"):
        if name.endswith(side):
            return name[: -len(side)]
    return name


def check_model(con: duckdb.DuckDBPyConnection, model: SavedModel, features: str) -> None:
    """Refuse a saved model that reads columns the hub's features do not have (a model
    from another version of the features, or a hub migrated since): nothing is changed."""
    have = {r[0] for r in con.execute(f"DESCRIBE {features}").fetchall()}
    kept = {r[0] for r in con.execute("DESCRIBE link_feature").fetchall()} - {"fingerprint"}
    unreadable: list[Problem] = []
    missing = sorted(_model_columns(model.settings, unreadable) - have)
    stale = sorted(have ^ kept)
    if missing or stale or unreadable:
        problems = (
            unreadable
            + [
                Problem(f"the model reads column {c!r}, which the records' features lack", field=c)
                for c in missing
            ]
            + [
                Problem(f"column {c!r} is in one of the new and the kept features only", field=c)
                for c in stale
            ]
        )
        raise LinkageError(
            f"the saved model (version {model.version}) does not match the hub's records;"
            " nothing was changed: run `crosswalk link --full` to retrain",
            problems,
        )


def run_id() -> str:
    return "L" + uuid.uuid4().hex[:12]


def score(
    con: duckdb.DuckDBPyConnection,
    model: SavedModel,
    scratch: str,
    use_scratch: Callable[[], Any],
) -> tuple[int, Linker | None]:
    """Score the new and changed records (``link_new``) against the others
    (``link_existing``) and among themselves; create ``new_decided`` (pairs from the
    review floor up). Returns the candidate pairs scored and the linker (for evidence)."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE new_decided (record_key_l VARCHAR, record_key_r VARCHAR,"
        " match_weight DOUBLE, match_probability DOUBLE)"
    )
    con.execute("DROP TABLE IF EXISTS link_nearby")  # a connection's earlier run's
    con.execute("DROP TABLE IF EXISTS link_reach")
    if not con.execute("SELECT count(*) FROM link_new").fetchall()[0][0]:
        return 0, None
    from splink import Linker  # loads only when there is something to score

    # Only the records of the index that some blocking rule pairs with a new record can
    # be scored against one: Splink is given those (it would otherwise copy every record
    # of the index with its term frequencies before blocking). Term frequencies are still
    # those of the whole index.
    rules = _blocking_rules(model.settings)
    if rules:
        # The ids first (one scan of the blocking columns), then the rows of those ids:
        # not every row of the index read whole and tested against the changed ones.
        con.execute(f"CREATE OR REPLACE TEMP TABLE link_nearby_id AS {nearby_sql(rules)}")
        # Read with them, in the same pass, every record of the persons they, the changed
        # and deleted records and the new decisions reach: the records re-clustering can
        # touch (``recluster``), whatever the pairs scored.
        con.execute(
            """CREATE OR REPLACE TEMP TABLE link_reach_id AS
            SELECT unique_id FROM link_nearby_id
            UNION SELECT record_key FROM person_index WHERE enterprise_id IN (
              SELECT enterprise_id FROM person_index WHERE record_key IN (
                SELECT unique_id FROM link_nearby_id UNION ALL SELECT record_key FROM changed_keys
                UNION ALL SELECT record_key FROM deleted_keys
                UNION ALL SELECT record_key_l FROM new_decisions
                UNION ALL SELECT record_key_r FROM new_decisions))"""
        )
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE link_reach AS SELECT * EXCLUDE (fingerprint)
            FROM link_feature WHERE unique_id IN (SELECT unique_id FROM link_reach_id)
              AND unique_id NOT IN (SELECT record_key FROM {_GONE})"""
        )
        con.execute(
            """CREATE OR REPLACE TEMP TABLE link_nearby AS SELECT * FROM link_reach
            WHERE unique_id IN (SELECT unique_id FROM link_nearby_id)"""
        )
    with use_scratch():
        db = splink_api.duckdb_api(con)
        # The saved model was validated when it was trained (and its columns just now).
        linker = Linker(
            db.register("link_all"),
            model.settings,
            log_level=logging.ERROR,
            validate_settings=False,
        )
        for column in linker._settings_obj._term_frequency_columns:
            linker.table_management.compute_tf_table(column.unquote().name)
        new = db.register("link_new")
        existing = db.register("link_nearby" if rules else "link_existing")
        floor = model.review_floor
        between = linker.inference.predict_between(
            new, existing, threshold_match_weight=floor - 1e-9, warning_mode="never"
        )
        within = linker.inference.predict_within(
            new, threshold_match_weight=floor - 1e-9, warning_mode="never"
        )
    scored = [f"{scratch}.{p.physical_name}" for p in (between, within)]
    union = " UNION ALL ".join(
        f"SELECT unique_id_l, unique_id_r, match_weight, match_probability FROM {t}" for t in scored
    )
    pairs = con.execute(f"SELECT count(*) FROM ({union})").fetchall()[0][0]
    con.execute(
        f"""INSERT INTO new_decided
        SELECT least(unique_id_l, unique_id_r), greatest(unique_id_l, unique_id_r),
               max(match_weight), max(match_probability)
        FROM ({union}) WHERE match_weight >= {floor} GROUP BY 1, 2"""
    )
    with use_scratch():
        between.drop_table_from_database_and_remove_from_cache()
        within.drop_table_from_database_and_remove_from_cache()
    return int(pairs), linker


def nearby_sql(rules: list[str], new: str = "link_new", index: str = "link_feature") -> str:
    """SQL for the ids of the records of ``index`` that some blocking rule pairs with a
    record of ``new``, on either side of the rule, in one scan of the index.

    A record of the index qualifies when it is a rule's ``r`` and a new record its ``l``,
    or the reverse; the reverse is the rule with ``l`` and ``r`` swapped, so every test
    reads the index as ``r``. A rule that is its own mirror (equalities of the same
    columns on both sides, the usual kind) is tested once. Each test is a semi-join
    probed from the index's rows, not a join whose pairs are kept, so the work is one
    pass over the index's blocking columns, whatever the number of rules."""
    tests: dict[object, str] = {}
    for rule in rules:
        for condition in (rule, _mirrored(rule)):
            tests.setdefault(_canonical(condition), condition)
    probes = " OR ".join(f"EXISTS (SELECT 1 FROM {new} l WHERE {t})" for t in tests.values())
    return f"SELECT r.unique_id FROM {index} r WHERE {probes}"


def _mirrored(rule: str) -> str:
    """``rule`` with the sides ``l`` and ``r`` swapped."""

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column) and node.table in ("l", "r"):
            node = node.copy()
            node.set("table", exp.to_identifier("r" if node.table == "l" else "l"))
        return node

    return sqlglot.parse_one(rule, read="duckdb").transform(swap).sql(dialect="duckdb")


def _canonical(rule: str) -> object:
    """A form of ``rule`` that is the same for a rule and its mirror when it is a
    conjunction of equalities (each equality's sides in order, the conjuncts sorted);
    any other rule is its own text."""
    tree = sqlglot.parse_one(rule, read="duckdb").unnest()
    conjuncts = list(tree.flatten()) if isinstance(tree, exp.And) else [tree]
    parts = []
    for conjunct in conjuncts:
        conjunct = conjunct.unnest()
        if not isinstance(conjunct, exp.EQ):
            return rule
        parts.append(
            " = ".join(
                sorted(side.sql(dialect="duckdb") for side in (conjunct.left, conjunct.right))
            )
        )
    return tuple(sorted(parts))


def _blocking_rules(settings: Any) -> list[str]:
    """The saved model's blocking rules (SQL over ``l`` and ``r``); [] when one is of a
    kind that is no plain condition (then every record of the index is offered)."""
    rules = []
    for rule in settings.get("blocking_rules_to_generate_predictions", []):
        if isinstance(rule, dict) and set(rule) <= {"blocking_rule", "sql_dialect"}:
            rules.append(f"({rule['blocking_rule']})")
        elif isinstance(rule, str):
            rules.append(f"({rule})")
        else:
            return []
    return rules


def prepare(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Create ``changed_keys``, ``deleted_keys``, ``new_decisions`` and the feature tables
    ``link_new`` (new and changed records), ``link_existing`` and ``link_all``."""
    fingerprint = fingerprint_sql(con)
    # A record's fields change only when a batch loaded since the last run sends it (its
    # batch id is then that batch's), and a record goes only with a batch replaced since:
    # only the records of those batches are fingerprinted, not every record of the hub.
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE since_keys AS SELECT record_key FROM person_record
        WHERE {_not_linked("batch_id")}"""
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE since_fingerprint AS
        SELECT p.record_key, {fingerprint} AS fingerprint FROM person_record p
        WHERE p.record_key IN (SELECT record_key FROM since_keys)"""
    )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE changed_keys AS
        SELECT p.record_key FROM since_fingerprint p
        LEFT JOIN (
          SELECT unique_id, fingerprint FROM link_feature
          WHERE unique_id IN (SELECT record_key FROM since_keys)) f ON f.unique_id = p.record_key
        WHERE f.unique_id IS NULL OR f.fingerprint <> p.fingerprint"""
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE deleted_keys AS
        SELECT unique_id AS record_key FROM link_feature
        WHERE {"TRUE" if _replaced_since(con) else "FALSE"}
          AND unique_id NOT IN (SELECT record_key FROM person_record)"""
    )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE new_decisions AS SELECT * FROM review_decision
        WHERE decided_at > coalesce((SELECT max(finished_at) FROM link_run), TIMESTAMP '1900-01-01')"""
    )
    build_features(
        con,
        "link_new",
        "(SELECT * FROM person_record WHERE record_key IN (SELECT record_key FROM changed_keys))",
    )
    # Qualified: Splink reads the views from its scratch database.
    catalog = con.execute("SELECT current_database()").fetchall()[0][0]
    features = '"' + catalog.replace('"', '""') + '".link_feature'
    con.execute(
        f"""CREATE OR REPLACE TEMP VIEW link_existing AS
        SELECT * EXCLUDE (fingerprint) FROM {features}
        WHERE unique_id NOT IN (SELECT record_key FROM changed_keys)
          AND unique_id NOT IN (SELECT record_key FROM deleted_keys)"""
    )
    con.execute(
        """CREATE OR REPLACE TEMP VIEW link_all AS
        SELECT * FROM link_existing UNION ALL BY NAME SELECT * FROM link_new"""
    )
    return {
        "changed": _count(con, "changed_keys"),
        "deleted": _count(con, "deleted_keys"),
        "decisions": _count(con, "new_decisions"),
    }


def _not_linked(batch: str) -> str:
    """SQL: the batch ``batch`` is none of those the last run linked (``linked_batch``,
    written with the kept features in the run's transaction); a record without a batch
    counts as new."""
    return f"coalesce({batch} NOT IN (SELECT batch_id FROM linked_batch), TRUE)"


def _replaced_since(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether a batch was replaced since the last run (its replacement is not among the
    batches that run linked): the only way a record leaves the hub. Any batch not loaded
    and replaced by none counts too."""
    rows = con.execute(
        f"SELECT count(*) FROM batch WHERE status <> 'loaded' AND {_not_linked('replaced_by')}"
    ).fetchall()
    return bool(rows[0][0])


# The records whose kept features no longer stand: changed (linked again) or deleted.
_GONE = "(SELECT record_key FROM changed_keys UNION ALL SELECT record_key FROM deleted_keys)"


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return int(con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])


def recluster(con: duckdb.DuckDBPyConnection, model: SavedModel) -> int:
    """Accept the new pairs, find the persons the new evidence touches and cluster their
    records again; create ``new_accepted``, ``affected`` (record_key) and ``regrouped``
    (record_key, cluster). Returns the components split by conflict checks."""
    decisions = """EXISTS (SELECT 1 FROM review_decision r WHERE r.decision = '{d}'
                   AND r.record_key_l = d.record_key_l AND r.record_key_r = d.record_key_r)"""
    # The records of the new pairs: each is a new record or one of the index's that the
    # blocking rules offered (``link_nearby``), so only those are read (every read of
    # ``link_all`` scans the whole index).
    offered = (
        "(SELECT * FROM link_nearby UNION ALL BY NAME SELECT * FROM link_new)"
        if "link_nearby" in _temp_tables(con)
        else "link_all"
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE decided_records AS SELECT * FROM {offered}
        WHERE unique_id IN (SELECT record_key_l FROM new_decided UNION SELECT record_key_r FROM new_decided)"""
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE new_accepted AS
        SELECT d.* FROM new_decided d
        JOIN decided_records a ON a.unique_id = d.record_key_l
        JOIN decided_records b ON b.unique_id = d.record_key_r
        WHERE (d.match_weight >= {model.threshold_weight} AND NOT {cannot_link_sql()}
               OR {decisions.format(d="match")})
          AND NOT {decisions.format(d="no-match")}"""
    )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE affected AS
        WITH seeds AS (
          SELECT record_key FROM changed_keys UNION SELECT record_key FROM deleted_keys
          UNION SELECT record_key_l FROM new_accepted UNION SELECT record_key_r FROM new_accepted
          UNION SELECT record_key_l FROM new_decisions UNION SELECT record_key_r FROM new_decisions),
        persons AS (SELECT DISTINCT enterprise_id FROM person_index WHERE record_key IN (SELECT record_key FROM seeds))
        SELECT record_key FROM person_index
        WHERE enterprise_id IN (SELECT enterprise_id FROM persons) AND record_key NOT IN (SELECT record_key FROM deleted_keys)
        UNION SELECT record_key FROM changed_keys"""
    )
    gone = "(SELECT record_key FROM changed_keys UNION ALL SELECT record_key FROM deleted_keys)"
    # Every accepted link of the affected records as it stands now: kept ones not touching
    # a changed or deleted record, the new ones, and the stewards' decisions over both
    # (those naming two affected records: every affected record is in the hub, and only
    # links between two of them are clustered).
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE edges_now AS
        WITH e AS (
          SELECT record_key_l, record_key_r, match_weight, match_probability FROM link_edge
          WHERE accepted AND record_key_l NOT IN {gone} AND record_key_r NOT IN {gone}
            AND record_key_l IN (SELECT record_key FROM affected)
          UNION ALL SELECT record_key_l, record_key_r, match_weight, match_probability FROM new_accepted
          UNION ALL SELECT record_key_l, record_key_r, 100.0, 1.0 FROM review_decision
          WHERE decision = 'match' AND record_key_l IN (SELECT record_key FROM affected)
            AND record_key_r IN (SELECT record_key FROM affected))
        SELECT record_key_l, record_key_r, max(match_weight) AS match_weight,
               max(match_probability) AS match_probability FROM e d
        WHERE NOT {decisions.format(d="no-match")} GROUP BY 1, 2"""
    )
    # The affected records' rows, taken by key: from those scoring read with the records
    # it offered (every affected record of the index is among them), or else from the
    # kept features (not through ``link_all``, which tests every row of the index
    # against the changed ones).
    kept = (
        "link_reach"
        if "link_reach" in _temp_tables(con) and "link_nearby" in _temp_tables(con)
        else f"""(SELECT * EXCLUDE (fingerprint) FROM link_feature
          WHERE unique_id NOT IN (SELECT record_key FROM {_GONE}))"""
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE affected_records AS
        SELECT unique_id AS record_key, * EXCLUDE (unique_id) FROM (
          SELECT * FROM {kept} WHERE unique_id IN (SELECT record_key FROM affected)
          UNION ALL BY NAME SELECT * FROM link_new
          WHERE unique_id IN (SELECT record_key FROM affected))"""
    )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE affected_edges AS SELECT * FROM edges_now
        WHERE record_key_l IN (SELECT record_key FROM affected)
          AND record_key_r IN (SELECT record_key FROM affected)"""
    )
    groups, split = cluster(
        con, "affected_records", "affected_edges", unless_decided_match(cannot_link_sql())
    )
    con.register("_regrouped", groups)
    con.execute("CREATE OR REPLACE TEMP TABLE regrouped AS SELECT * FROM _regrouped")
    con.unregister("_regrouped")
    return split


def reassign(con: duckdb.DuckDBPyConnection, run: str) -> history.IdChanges:
    """Give the regrouped records their ids by the full run's rule (a cluster keeps the
    oldest earlier id among those it holds most records of; an id split across clusters
    stays with the one holding most of its records); write them to person_index; return
    what changed (``history.diff``, for the history)."""
    con.execute(
        """CREATE OR REPLACE TEMP TABLE scope_before AS SELECT record_key, enterprise_id
        FROM person_index WHERE record_key IN (SELECT record_key FROM affected)
           OR record_key IN (SELECT record_key FROM deleted_keys)"""
    )
    allot_enterprise_ids(con, "regrouped", "scope_before")
    con.execute(
        """CREATE OR REPLACE TEMP TABLE record_strength AS
        SELECT record_key, max(match_probability) AS p FROM (
          SELECT record_key_l AS record_key, match_probability FROM affected_edges
          UNION ALL SELECT record_key_r, match_probability FROM affected_edges) GROUP BY 1"""
    )
    con.execute(
        "DELETE FROM person_index WHERE record_key IN (SELECT record_key FROM scope_before)"
    )
    con.execute(
        """INSERT INTO person_index
        SELECT c.record_key, split_part(c.record_key, ':', 1),
               substr(c.record_key, strpos(c.record_key, ':') + 1),
               a.enterprise_id, ?, coalesce(s.p, 1.0)
        FROM regrouped c JOIN assigned a USING (cluster) LEFT JOIN record_strength s USING (record_key)""",
        [run],
    )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE scope_after AS SELECT record_key, enterprise_id
        FROM person_index WHERE record_key IN (SELECT record_key FROM affected)"""
    )
    return history.diff(con, "scope_before", "scope_after")


def write_evidence(
    con: duckdb.DuckDBPyConnection, linker: Linker | None, run: str, version: int
) -> None:
    """The new pairs: into link_edge (replacing those of changed and deleted records),
    link_evidence (with each comparison's level) and the review queue."""
    from crosswalk.identity.link import _evidence_sql  # the full run's evidence, shared

    gone = "(SELECT record_key FROM changed_keys UNION ALL SELECT record_key FROM deleted_keys)"
    con.execute(f"DELETE FROM link_edge WHERE record_key_l IN {gone} OR record_key_r IN {gone}")
    con.execute(
        """INSERT INTO link_edge SELECT d.record_key_l, d.record_key_r, d.match_weight,
            d.match_probability, a.record_key_l IS NOT NULL, ?, ?
        FROM new_decided d LEFT JOIN new_accepted a USING (record_key_l, record_key_r)""",
        [run, version],
    )
    con.execute(
        f"DELETE FROM review_queue WHERE record_key_l IN {gone} OR record_key_r IN {gone}"
        " OR EXISTS (SELECT 1 FROM review_decision r WHERE r.record_key_l = review_queue.record_key_l"
        " AND r.record_key_r = review_queue.record_key_r)"
    )
    if linker is None:
        return
    con.execute(
        f"""INSERT INTO link_evidence SELECT '{run}', d.record_key_l, d.record_key_r, d.match_weight,
            d.match_probability, a.record_key_l IS NOT NULL, d.fields
        FROM ({_evidence_sql(linker, "new_decided", "decided_records")}) d
        LEFT JOIN new_accepted a USING (record_key_l, record_key_r)"""
    )
    con.execute(
        f"""INSERT INTO review_queue SELECT '{run}', d.record_key_l, d.record_key_r, d.match_weight,
            d.match_probability, d.fields FROM link_evidence d
        WHERE d.run_id = '{run}' AND NOT d.accepted
          AND NOT EXISTS (SELECT 1 FROM review_decision r WHERE r.record_key_l = d.record_key_l
                          AND r.record_key_r = d.record_key_r)"""
    )


def households_touched(con: duckdb.DuckDBPyConnection) -> None:
    """``household_touched``: the records whose households may differ since the last run
    (before the analytic tables note the new batches): those linked again or deleted,
    those of batches loaded since (a new case or household id is no linkage field), and
    those with service events new, sent again or gone (a placement, a death)."""
    con.execute(
        """CREATE OR REPLACE TEMP TABLE household_touched AS
        SELECT record_key FROM scope_before UNION SELECT record_key FROM scope_after
        UNION SELECT record_key FROM person_record
        WHERE batch_id NOT IN (SELECT batch_id FROM linked_batch)
        UNION SELECT record_key FROM service_event
        WHERE batch_id NOT IN (SELECT batch_id FROM linked_batch)
        UNION SELECT record_key FROM linked_event
        WHERE batch_id NOT IN (SELECT batch_id FROM batch WHERE status = 'loaded')"""
    )


def keep_new_features(con: duckdb.DuckDBPyConnection) -> None:
    gone = "(SELECT record_key FROM changed_keys UNION ALL SELECT record_key FROM deleted_keys)"
    con.execute(f"DELETE FROM link_feature WHERE unique_id IN {gone}")
    # The fingerprints ``prepare`` took of the same rows, not a scan of every record.
    con.execute(
        """INSERT INTO link_feature BY NAME
        SELECT f.*, p.fingerprint FROM link_new f JOIN since_fingerprint p ON p.record_key = f.unique_id"""
    )


def orphaned_decisions(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Steward decisions naming a record no longer in the hub (a correction batch deleted
    it): kept, but they decide nothing until the record returns."""
    rows = con.execute(
        """SELECT record_key_l, record_key_r, decision FROM review_decision
        WHERE record_key_l IN (SELECT record_key FROM deleted_keys)
           OR record_key_r IN (SELECT record_key FROM deleted_keys) ORDER BY 1, 2"""
    ).fetchall()
    return [
        f"the {d} decision on {a} ~ {b} names a record no longer in the hub (deleted by a"
        " correction batch): kept, it decides nothing while the record is gone"
        for a, b, d in rows
    ]


def decision_conflicts(con: duckdb.DuckDBPyConnection) -> list[Problem]:
    """Records that a batch loaded after a steward's decision changed, where the decision
    names them: the decision was made on the earlier version. It still holds (the records
    stay together or apart as decided, so the index is as it was for them) and the run
    says so, naming the batch's file, the record's row and the fields that changed, so
    that a steward can decide the pair again."""
    if "person_record_version" not in _tables(con):
        return []
    present = _record_columns(con)
    compared = [c for c in FINGERPRINTED if c in present]
    differs = " || ".join(
        f"CASE WHEN p.{c} IS DISTINCT FROM e.v.{c} THEN '{c} ' ELSE '' END" for c in compared
    )
    rows = con.execute(
        f"""WITH named AS (
          SELECT record_key_l AS record_key, record_key_r AS other, decision, decided_by, decided_at
          FROM review_decision
          UNION ALL SELECT record_key_r, record_key_l, decision, decided_by, decided_at FROM review_decision),
        earlier AS (
          SELECT record_key, arg_max(v, v.superseded_at) AS v FROM person_record_version v
          GROUP BY record_key)
        SELECT n.record_key, n.other, n.decision, n.decided_by, n.decided_at, p.batch_id,
               f.file, p.source_row, trim({differs})
        FROM named n
        JOIN changed_keys c ON c.record_key = n.record_key
        JOIN person_record p ON p.record_key = n.record_key
        JOIN batch b ON b.batch_id = p.batch_id AND b.loaded_at > n.decided_at
        JOIN earlier e ON e.record_key = n.record_key
        LEFT JOIN batch_file f ON f.batch_id = p.batch_id AND f.kind = 'clients'
        ORDER BY 1, 2"""
    ).fetchall()
    problems = []
    for key, other, decision, by, at, batch, file, row, fields in rows:
        if not fields:
            continue
        problems.append(
            Problem(
                f"record {key} was changed by batch {batch} ({fields.replace(' ', ', ')}) after"
                f" {by}'s {decision} decision on {key} ~ {other} ({at:%Y-%m-%d %H:%M}), made on"
                " its earlier version: the decision holds; decide the pair again if it no"
                " longer does",
                file=file,
                row=row,
                field=fields.split()[0],
                rule="conflicts_with_decision",
            )
        )
    return problems


def _record_columns(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {
        r[0]
        for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'person_record'"
        ).fetchall()
    }


def run(
    con: duckdb.DuckDBPyConnection,
    model: SavedModel,
    scratch: str,
    use_scratch: Callable[[], Any],
    report: Progress,
    audit: Any,
    run_by: str,
) -> Any:
    """An incremental run (see the module's docstring); returns a ``LinkResult``."""
    from crosswalk.audit import LinkageFailed, LinkageRun, LinkageStarted
    from crosswalk.identity import households, linked
    from crosswalk.identity.cluster import Threshold
    from crosswalk.identity.link import LinkResult

    run = run_id()
    started = con.execute("SELECT now()::TIMESTAMP").fetchall()[0][0]
    report("finding new and changed records", 0.05)
    counts = prepare(con)
    check_model(con, model, "link_new")
    conflicts = decision_conflicts(con)
    messages = orphaned_decisions(con) + [str(p) for p in conflicts]
    report(f"scoring {counts['changed']:,} new and changed records", 0.2)
    pairs, linker = score(con, model, scratch, use_scratch)
    report("re-checking the persons the new evidence touches", 0.6)
    split = recluster(con, model)
    audit.record(LinkageStarted(run_by, objects={"link_run": run}, rows=counts["changed"]))
    con.execute("BEGIN TRANSACTION")
    try:
        report("writing the person index and its history", 0.75)
        changes = reassign(con, run)
        history.record(con, run, started, "incremental run")
        by_cause = history.changes_by_cause(con, [run])
        write_evidence(con, linker, run, model.version)
        keep_new_features(con)
        report("updating the analytic tables", 0.9)
        con.execute("CREATE OR REPLACE TEMP TABLE relinked AS SELECT record_key FROM scope_after")
        households_touched(con)
        # The rows of the records touched, read once for the analytic tables and the
        # households (the records relinked are among them).
        con.execute(
            """CREATE OR REPLACE TEMP TABLE touched_record AS SELECT * FROM person_record
            WHERE record_key IN (SELECT record_key FROM household_touched)"""
        )
        linked.refresh_records(con, "relinked", "deleted_keys", "touched_record")
        households.build_only(con, run, "household_touched", "touched_record")
        n_clusters = con.execute(
            "SELECT count(DISTINCT enterprise_id) FROM person_index"
        ).fetchall()[0][0]
        review = con.execute("SELECT count(*) FROM review_queue").fetchall()[0][0]
        by_agency = dict(
            con.execute(
                "SELECT agency, count(DISTINCT enterprise_id) FROM person_index GROUP BY 1 ORDER BY 1"
            ).fetchall()
        )
        threshold = Threshold(
            model.threshold_weight,
            model.review_floor,
            model.expected_precision,
            model.expected_recall,
        )
        summary = {
            "threshold": threshold.__dict__,
            "persons_by_agency": by_agency,
            "counts": counts,
            "affected_records": _count(con, "affected"),
            "messages": messages,
        }
        con.execute(
            """INSERT INTO link_run (started_at, finished_at, model_version, records, candidate_pairs,
                threshold_weight, review_floor_weight, clusters, split_components, summary, run_id,
                kind, changes)
            VALUES (?, now()::TIMESTAMP, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'incremental', ?)""",
            [
                started,
                model.version,
                counts["changed"],
                pairs,
                model.threshold_weight,
                model.review_floor,
                n_clusters,
                split,
                json.dumps(summary),
                run,
                json.dumps(changes.to_dict()),
            ],
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        audit.record_failed(
            LinkageFailed(run_by, objects={"link_run": run}, rows=counts["changed"])
        )
        raise
    audit.record_committed(
        LinkageRun(
            run_by,
            objects={"link_run": run, "model_version": model.version, "kind": "incremental"},
            rows=counts["changed"],
        )
    )
    report("done", 1.0)
    return LinkResult(
        run,
        counts["changed"],
        pairs,
        threshold,
        n_clusters,
        split,
        review,
        by_agency,
        model.version,
        {},
        tuple(messages),
        kind="incremental",
        changes=changes.to_dict(),
        deleted_records=counts["deleted"],
        by_cause=by_cause,
    )
