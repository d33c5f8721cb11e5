"""How well linkage worked, against the synthetic state's ground truth.

Pairwise precision/recall/F1 count record pairs placed in one person; B-cubed scores
each record by how much its predicted cluster and its true person overlap. Blocking
recall is the share of true pairs that at least one blocking rule compares. Misses are
broken down by the errors the generator injected (false negatives) and by the kind of
lookalike (false positives).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pv
import pyarrow.parquet as pq

from crosswalk.errors import InputFileError, Problem
from crosswalk.identity.features import build_features


@dataclass(frozen=True)
class Evaluation:
    records: int
    true_pairs: int
    predicted_pairs: int
    true_positive_pairs: int
    pairwise_precision: float
    pairwise_recall: float
    pairwise_f1: float
    bcubed_precision: float
    bcubed_recall: float
    bcubed_f1: float
    blocking_recall: float | None
    false_negatives_by_error: dict[str, int] = field(default_factory=dict)
    false_positives_by_lookalike: dict[str, int] = field(default_factory=dict)


def _f1(p: float, r: float) -> float:
    return 0.0 if p + r == 0 else 2 * p * r / (p + r)


def _truth_path(truth: str | Path) -> tuple[Path, Path | None]:
    path = Path(truth)
    if path.is_dir():
        records = path / "records.parquet"
        if not records.exists():
            records = path / "truth" / "records.parquet"
        lookalikes = records.parent / "lookalikes.parquet"
        return records, lookalikes if lookalikes.exists() else None
    return path, None


def scores(
    con: duckdb.DuckDBPyConnection, predicted: str, truth: str
) -> tuple[int, int, int, int, float, float]:
    """(records, true pairs, predicted pairs, true positive pairs, B-cubed P, B-cubed R).

    ``predicted`` and ``truth`` are relations of (record_key, cluster) and (record_key, person).
    """
    row = con.execute(
        f"""WITH j AS (SELECT p.record_key, p.cluster, t.person FROM {predicted} p JOIN {truth} t USING (record_key)),
        cs AS (SELECT cluster, count(*) AS n FROM j GROUP BY 1),
        ps AS (SELECT person, count(*) AS n FROM j GROUP BY 1),
        both_ AS (SELECT cluster, person, count(*) AS n FROM j GROUP BY 1, 2)
        SELECT (SELECT count(*) FROM j),
               (SELECT coalesce(sum(n * (n - 1) / 2), 0) FROM ps),
               (SELECT coalesce(sum(n * (n - 1) / 2), 0) FROM cs),
               (SELECT coalesce(sum(n * (n - 1) / 2), 0) FROM both_),
               (SELECT sum(b.n * b.n / c.n) FROM both_ b JOIN cs c USING (cluster)) / (SELECT count(*) FROM j),
               (SELECT sum(b.n * b.n / p.n) FROM both_ b JOIN ps p USING (person)) / (SELECT count(*) FROM j)"""
    ).fetchall()[0]
    return int(row[0]), int(row[1]), int(row[2]), int(row[3]), float(row[4]), float(row[5])


TRUTH_COLUMNS = ("agency", "source_record_id", "entity_id")


def _read_table(path: Path) -> pa.Table:
    """A truth file as an Arrow table (read here, in Python: the gate's connection cannot
    reach a file), every column as text for a CSV."""
    try:
        if path.suffix.lower() == ".parquet":
            return pq.read_table(path)
        table = pv.read_csv(path)
        return table.cast(pa.schema([(name, pa.string()) for name in table.column_names]))
    except (pa.ArrowException, OSError) as error:
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise InputFileError(
            "the truth file cannot be read", [Problem(first, file=str(path))]
        ) from None


def _load_truth(con: duckdb.DuckDBPyConnection, truth: str | Path) -> pa.Table | None:
    """Create the temporary table ``truth`` (record_key, person, errors); return the
    lookalikes, if any.

    ``truth`` is a synthetic state's truth folder, or a plain file (CSV or Parquet) with
    one row per record: agency, source_record_id, entity_id (the true person).
    """
    path = Path(truth)
    if path.is_dir():
        records_path, lookalikes = _truth_path(path)
        if not records_path.exists():
            raise InputFileError(
                "no ground truth there",
                [Problem("expected truth/records.parquet", file=str(truth))],
            )
        con.register("_truth_file", _read_table(records_path))
        con.execute(
            "CREATE OR REPLACE TEMP TABLE truth AS SELECT record_key, person_id::VARCHAR AS person,"
            " errors FROM _truth_file"
        )
        con.unregister("_truth_file")
        return _read_table(lookalikes) if lookalikes is not None else None
    if not path.exists():
        raise InputFileError("no truth file there", [Problem("file not found", file=str(truth))])
    table = _read_table(path)
    columns = table.column_names
    missing = [c for c in TRUTH_COLUMNS if c not in columns]
    if missing:
        raise InputFileError(
            "the truth file lacks columns",
            [
                Problem(f"missing column {c!r} (has {columns})", file=str(path), field=c)
                for c in missing
            ],
        )
    con.register("_truth_file", table.select(list(TRUTH_COLUMNS)))
    con.execute(
        """CREATE OR REPLACE TEMP TABLE truth AS
        SELECT agency::VARCHAR || ':' || source_record_id::VARCHAR AS record_key,
               entity_id::VARCHAR AS person, []::VARCHAR[] AS errors,
               row_number() OVER () AS row
        FROM _truth_file"""
    )
    con.unregister("_truth_file")
    bad = con.execute(
        "SELECT row FROM truth WHERE record_key IS NULL OR person IS NULL ORDER BY row LIMIT 1"
    ).fetchall()
    if bad:
        raise InputFileError(
            "the truth file has an empty value",
            [
                Problem(
                    "agency, source_record_id and entity_id are required",
                    file=str(path),
                    row=bad[0][0],
                )
            ],
        )
    return None


# The error "kind" of a missed pair whose records had no error injected, and of every
# missed pair when the truth is a plain file (it records no errors).
NO_ERROR = "no injected error"
ERRORS_NOT_RECORDED = "not recorded"


def evaluation(
    con: duckdb.DuckDBPyConnection, truth: str | Path, agencies: Iterable[str]
) -> Evaluation:
    """Score the person index of ``agencies``' records against ground truth: a synthetic
    state's truth folder, or a plain file (CSV or Parquet: agency, source_record_id,
    entity_id). Reads the hub's records: only the gate calls this
    (``crosswalk.access.Gate.evaluate_linkage``), for the agencies a decision granted."""
    wanted = sorted(agencies)
    lookalikes = _load_truth(con, truth)
    con.execute(
        "DELETE FROM truth WHERE split_part(record_key, ':', 1) NOT IN (SELECT unnest(?::VARCHAR[]))",
        [wanted],
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE predicted AS SELECT record_key, enterprise_id AS cluster"
        " FROM person_index WHERE agency IN (SELECT unnest(?::VARCHAR[]))",
        [wanted],
    )
    n, true_pairs, pred_pairs, tp, bp, br = scores(con, "predicted", "truth")
    p = tp / pred_pairs if pred_pairs else 1.0
    r = tp / true_pairs if true_pairs else 1.0
    blocking = _blocking_recall(con)
    fn = dict(
        con.execute(
            """WITH j AS (SELECT t.record_key, t.person, t.errors, p.cluster FROM truth t JOIN predicted p USING (record_key)),
            missed AS (SELECT a.errors || b.errors AS errs FROM j a JOIN j b ON a.person = b.person
                       AND a.record_key < b.record_key AND a.cluster <> b.cluster)
            SELECT coalesce(e, ?), count(*) FROM (SELECT unnest(CASE WHEN len(errs) = 0 THEN [NULL] ELSE list_distinct(errs) END) AS e FROM missed)
            GROUP BY 1 ORDER BY 2 DESC""",
            # A plain truth file says who is who, not what went wrong in each record.
            [NO_ERROR if lookalikes is not None else ERRORS_NOT_RECORDED],
        ).fetchall()
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE lookalike (person_id_a VARCHAR, person_id_b VARCHAR, kind VARCHAR)"
    )
    if lookalikes is not None:
        con.register("_lookalikes", lookalikes)
        con.execute(
            "INSERT INTO lookalike SELECT person_id_a::VARCHAR, person_id_b::VARCHAR, kind"
            " FROM _lookalikes"
        )
        con.unregister("_lookalikes")
    fp = dict(
        con.execute(
            """WITH j AS (SELECT t.record_key, t.person, p.cluster FROM truth t JOIN predicted p USING (record_key)),
            wrong AS (SELECT DISTINCT least(a.person, b.person) AS x, greatest(a.person, b.person) AS y
                      FROM j a JOIN j b ON a.cluster = b.cluster AND a.record_key < b.record_key AND a.person <> b.person),
            l AS (SELECT * FROM lookalike)
            SELECT coalesce(l.kind, 'other'), count(*) FROM wrong w LEFT JOIN l
              ON least(l.person_id_a, l.person_id_b) = w.x AND greatest(l.person_id_a, l.person_id_b) = w.y
            GROUP BY 1 ORDER BY 2 DESC"""
        ).fetchall()
    )
    return Evaluation(
        n, true_pairs, pred_pairs, tp, p, r, _f1(p, r), bp, br, _f1(bp, br), blocking, fn, fp
    )


def _blocking_recall(con: duckdb.DuckDBPyConnection) -> float | None:
    """Share of true pairs that at least one of the last run's blocking rules compares."""
    if not con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'link_model'"
    ).fetchall()[0][0]:
        return None
    saved = con.execute("SELECT training FROM link_model ORDER BY version DESC LIMIT 1").fetchall()
    if not saved:
        return None
    rules = json.loads(saved[0][0]).get("blocking_rules") or []
    if not rules:
        return None
    build_features(con)
    conditions = " OR ".join(f"({rule['sql']})" for rule in rules)
    row = con.execute(
        f"""WITH t AS (SELECT i.*, tr.person FROM link_input i JOIN truth tr ON tr.record_key = i.unique_id)
        SELECT count(*), count(*) FILTER (WHERE {conditions})
        FROM t AS l JOIN t AS r ON l.person = r.person AND l.unique_id < r.unique_id"""
    ).fetchall()[0]
    return row[1] / row[0] if row[0] else None
