"""What a linkage steward reads about the last linkage run: the model's trained m and u
probabilities, the distribution of match weights with the threshold and review floor, and
the run's counts. No record or person is in it; only the gate calls it
(``crosswalk.access.Gate.link_quality``)."""

from __future__ import annotations

import json
import math
from typing import Any

import duckdb


def link_quality(con: duckdb.DuckDBPyConnection) -> dict[str, Any] | None:
    """The last run's quality, or None before any linkage run."""
    tables = {
        name
        for (name,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'"
        ).fetchall()
    }
    if not {"link_run", "link_model", "link_evidence"} <= tables:
        return None
    run = con.execute(
        """SELECT run_id, finished_at, model_version, records, candidate_pairs,
                  threshold_weight, review_floor_weight, clusters, split_components, summary
           FROM link_run WHERE finished_at IS NOT NULL ORDER BY finished_at DESC LIMIT 1"""
    ).fetchone()
    if run is None:
        return None
    names = ("run_id", "finished_at", "model_version", "records", "candidate_pairs",
             "threshold", "review_floor", "clusters", "split_components")  # fmt: skip
    out: dict[str, Any] = dict(zip(names, run[:9], strict=True))
    summary = json.loads(run[9] or "{}")
    out["expected_precision"] = summary.get("threshold", {}).get("expected_precision")
    out["expected_recall"] = summary.get("threshold", {}).get("expected_recall")
    out["messages"] = summary.get("messages", [])
    model = con.execute("SELECT settings FROM link_model WHERE version = ?", [run[2]]).fetchone()
    out["parameters"] = _parameters(json.loads(model[0])) if model else []
    bins = con.execute(
        """SELECT floor(match_weight) AS low, count(*) FILTER (WHERE accepted) AS accepted,
                  count(*) FILTER (WHERE NOT accepted) AS rejected
           FROM link_evidence WHERE run_id = ? GROUP BY 1 ORDER BY 1""",
        [run[0]],
    ).fetchall()
    out["weights"] = [
        {"low": float(low), "high": float(low) + 1, "accepted": a, "rejected": r}
        for low, a, r in bins
    ]
    queued = con.execute("SELECT count(*) FROM review_queue WHERE run_id = ?", [run[0]]).fetchone()
    out["review_queue"] = queued[0] if queued else 0
    return out


def _parameters(settings: dict[str, Any]) -> list[dict[str, Any]]:
    """Each comparison level's trained m and u probability and its match weight."""
    rows = []
    for comparison in settings.get("comparisons", []):
        for level in comparison.get("comparison_levels", []):
            if level.get("is_null_level"):
                continue
            m, u = level.get("m_probability"), level.get("u_probability")
            weight = math.log2(m / u) if m and u else None
            rows.append(
                {
                    "comparison": comparison.get("output_column_name", ""),
                    "level": level.get("label_for_charts", ""),
                    "m": m,
                    "u": u,
                    "weight": weight,
                }
            )
    return rows
