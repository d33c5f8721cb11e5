"""How well linkage worked, against the synthetic state's ground truth.

Pairwise precision/recall/F1 count record pairs placed in one person; B-cubed scores
each record by how much its predicted cluster and its true person overlap. Blocking
recall is the share of true pairs that at least one blocking rule compares. Misses are
broken down by the errors the generator injected (false negatives) and by the kind of
lookalike (false positives).
"""

from __future__ import annotations

import csv
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
    reach a file), every column as text for a CSV and an empty value as null."""
    try:
        if path.suffix.lower() == ".parquet":
            return pq.read_table(path)
        names = _header(path)
        return pv.read_csv(
            path,
            convert_options=pv.ConvertOptions(
                column_types={n: pa.string() for n in names}, strings_can_be_null=True
            ),
        )
    except (pa.ArrowException, OSError) as error:
        located = _misshapen_row(path)
        if located is not None:
            raise InputFileError("the truth file cannot be read", [located]) from None
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise InputFileError(
            "the truth file cannot be read", [Problem(first, file=str(path))]
        ) from None


def _header(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8-sig") as f:
        return next(csv.reader(f), [])


def _misshapen_row(path: Path) -> Problem | None:
    """The first row of a CSV whose fields do not match its header (rows numbered as in
    ingest: 1 is the first after the header), if that is why it could not be read."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            rows = csv.reader(f)
            header = next(rows, [])
            for n, row in enumerate(rows, start=1):
                if row and len(row) != len(header):
                    return Problem(
                        f"{len(row)} fields where the header has {len(header)}"
                        f" ({', '.join(header)})",
                        file=str(path),
                        row=n,
                    )
    except (OSError, UnicodeDecodeError, csv.Error):
        return None
    return None


# At most this many problems of one kind are listed; the rest are counted.
_SHOWN = 20


def check_truth(truth: str | Path) -> pa.Table | None:
    """A ground truth checked whole before anything is scored against it: a synthetic
    state's truth folder (None: the generator's own files), or a plain file whose rows
    are returned (agency, source_record_id, entity_id as text). Every problem names the
    file, the row (1 = the first after the header) and the field: a row that does not
    split into the header's fields, a missing column, an empty value, a record given
    twice."""
    path = Path(truth)
    if path.is_dir():
        records_path, _ = _truth_path(path)
        if not records_path.exists():
            raise InputFileError(
                "no ground truth there",
                [Problem("expected truth/records.parquet", file=str(truth))],
            )
        return None
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
    table = table.select(list(TRUTH_COLUMNS)).cast(
        pa.schema([(c, pa.string()) for c in TRUTH_COLUMNS])
    )
    con = duckdb.connect()
    try:
        # Row numbers from the file's order, not from a scan (which may run in parallel).
        numbered = table.append_column("row", pa.array(range(1, table.num_rows + 1), pa.int64()))
        con.register("t", numbered)
        problems = [
            Problem(
                "empty: every row needs an agency, a source_record_id and an entity_id",
                file=str(path),
                row=int(row),
                field=name,
            )
            for row, name in con.execute(
                "SELECT row, name FROM t, (SELECT unnest(?::VARCHAR[]) AS name)"
                " WHERE coalesce(trim(CASE name WHEN 'agency' THEN agency"
                " WHEN 'source_record_id' THEN source_record_id ELSE entity_id END), '') = ''"
                " ORDER BY row, name",
                [list(TRUTH_COLUMNS)],
            ).fetchall()
        ]
        twice = con.execute(
            "SELECT row, agency, source_record_id, first FROM (SELECT row, agency,"
            " source_record_id, min(row) OVER (PARTITION BY agency, source_record_id) AS first"
            " FROM t WHERE coalesce(trim(agency), '') <> ''"
            " AND coalesce(trim(source_record_id), '') <> '') WHERE row > first ORDER BY row"
        ).fetchall()
    finally:
        con.close()
    problems += [
        Problem(
            f"record {agency}:{record} is given twice (first in row {first})",
            file=str(path),
            row=int(row),
            field="source_record_id",
        )
        for row, agency, record, first in twice
    ]
    if problems:
        shown = sorted(problems, key=lambda p: p.row or 0)[:_SHOWN]
        if len(problems) > _SHOWN:
            shown.append(Problem(f"and {len(problems) - _SHOWN:,} more problems", file=str(path)))
        raise InputFileError("the truth file has rows that cannot be scored", shown)
    return table


def _load_truth(con: duckdb.DuckDBPyConnection, truth: str | Path) -> pa.Table | None:
    """Create the temporary table ``truth`` (record_key, person, errors); return the
    lookalikes, if any.

    ``truth`` is a synthetic state's truth folder, or a plain file (CSV or Parquet) with
    one row per record: agency, source_record_id, entity_id (the true person).
    """
    table = check_truth(truth)
    if table is None:
        records_path, lookalikes = _truth_path(Path(truth))
        con.register("_truth_file", _read_table(records_path))
        con.execute(
            "CREATE OR REPLACE TEMP TABLE truth AS SELECT record_key, person_id::VARCHAR AS person,"
            " errors FROM _truth_file"
        )
        con.unregister("_truth_file")
        return _read_table(lookalikes) if lookalikes is not None else None
    con.register("_truth_file", table)
    con.execute(
        """CREATE OR REPLACE TEMP TABLE truth AS
        SELECT agency || ':' || source_record_id AS record_key,
               entity_id AS person, []::VARCHAR[] AS errors
        FROM _truth_file"""
    )
    con.unregister("_truth_file")
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
