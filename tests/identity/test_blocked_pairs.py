"""The candidate pairs Crosswalk makes for Splink to score are Splink's own: the same
pairs, each under the same (first) rule that makes it."""

import logging
import shutil

import duckdb
from splink import DuckDBAPI, Linker

from crosswalk.identity import model, profile
from crosswalk.identity.features import build_features


def test_blocked_pairs_are_splinks_pairs_under_the_same_rules(linked, tmp_path):
    _, hub, _ = linked
    copy = tmp_path / "hub.duckdb"
    shutil.copy(hub, copy)
    con = duckdb.connect(str(copy))
    build_features(con)
    plan = model.plan(con, profile.measure(con))
    linker = Linker(DuckDBAPI(con).register("link_input"), plan.settings(), log_level=logging.ERROR)
    splinks = linker.inference.compute_blocked_pairs_for_predict().physical_name
    ours = f"({plan.blocked_pairs_sql('link_input')})"
    cols = "match_key, join_key_l, join_key_r"
    counts = [
        con.execute(
            f"SELECT count(*) FROM (SELECT {cols} FROM {a} EXCEPT ALL SELECT {cols} FROM {b})"
        ).fetchall()[0][0]
        for a, b in ((splinks, ours), (ours, splinks))
    ]
    pairs = con.execute(f"SELECT count(*), count(DISTINCT match_key) FROM {ours}").fetchall()[0]
    assert counts == [0, 0]
    assert pairs[0] > 1000 and pairs[1] > 3  # pairs of several rules, not a trivial case
