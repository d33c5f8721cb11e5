"""From scored pairs to persons: an operating threshold chosen from the data, clustering
that does not chain mistakes, and enterprise person IDs that stay stable across runs.

Clustering is connected components over accepted links, followed by a check of every
component for records that cannot be one person (two different full SSNs, a JR and a SR,
a steward's "not a match"). A component with such a conflict is rebuilt greedily from its
strongest links, never joining two groups that conflict, so one wrong link cannot merge
two people and all their records. Two records that look like members of one household
keep their groups apart unless the groups hold an identifier in common, or a record
tied to one of them by an identifier shows it to be a variant of the same person.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa
from jellyfish import damerau_levenshtein_distance

from crosswalk.identity.sql import Sql


@dataclass(frozen=True)
class Threshold:
    weight: float  # accept links at or above this match weight
    review_floor: float  # pairs from here up to ``weight`` go to clerical review
    expected_precision: float
    expected_recall: float


def choose_threshold(con: Sql, pairs: str, review_band: float = 4.0) -> Threshold:
    """The match weight that maximises the model's own expected F1 on the scored pairs.

    With calibrated probabilities p, accepting pairs at or above t expects sum(p) true
    links among count(*) accepted, out of sum(p) over all scored pairs.
    """
    # Pairs per whole-number match weight (those above the grid in its top step), summed
    # from the top down: one pass over the pairs.
    buckets = {
        int(t): (float(p), int(n))
        for t, p, n in con.execute(
            f"""SELECT least(floor(match_weight), 30) AS t,
                   sum(match_probability), count(*)
            FROM {pairs} GROUP BY 1"""
        ).fetchall()
    }
    m = sum(p for p, _ in buckets.values())
    best = (-1.0, 0.0, 1.0, 0.0)
    tp, n = 0.0, 0
    for t in range(30, -11, -1):
        p, k = buckets.get(t, (0.0, 0))
        tp, n = tp + p, n + k
        if not n or not m:
            continue
        f1 = 2 * tp / (n + m)
        if f1 >= best[0]:
            best = (f1, float(t), tp / n, tp / m)
    _, weight, precision, recall = best
    return Threshold(weight, weight - review_band, precision, recall)


GENERATION_YEARS = 12


def middle_initial_as_first_sql(a: str, b: str, suffixed: bool = False) -> str:
    """SQL true when record ``b`` holds only a middle initial and it is the initial of
    ``a``'s first name, with ``a``'s own middle name missing or the initial of ``b``'s
    first name: one person known by the middle name in one record (SCOTT GARCIA and
    RICARDO S GARCIA). Columns are ``a.first_name``, or ``first_name_a`` if ``suffixed``
    (as in Splink's comparison SQL)."""

    def c(side: str, name: str) -> str:
        return f"{name}_{side}" if suffixed else f"{side}.{name}"

    return (
        f"coalesce(length({c(b, 'middle_name')}) = 1"
        f" AND left({c(a, 'first_name')}, 1) = {c(b, 'middle_name')}"
        f" AND coalesce(left({c(a, 'middle_name')}, 1) = left({c(b, 'first_name')}, 1), true), false)"
    )


def transposed_sql(x: str, y: str) -> str:
    """SQL true when ``x`` and ``y`` differ by one transposition of adjacent characters
    (one Damerau-Levenshtein edit that is two Levenshtein edits).

    Such strings differ and have the same length: the distances, which cost most of the
    household rules, are computed only for those (a CASE, since an AND inside an
    expression evaluates all its terms)."""
    return (
        f"CASE WHEN {x} <> {y} AND length({x}) = length({y})"
        f" THEN coalesce(damerau_levenshtein({x}, {y}) = 1 AND levenshtein({x}, {y}) = 2, false)"
        " ELSE false END"
    )


def cannot_link_sql(a: str = "a", b: str = "b") -> str:
    """SQL true when records ``a`` and ``b`` look like two people of one household rather
    than one person recorded twice, unless an identifier agrees (SSN, Medicaid id, a
    typed identifier; equal or one transposition apart):

    - a generation apart: birth years 12 or more apart (a parent and a child given the same
      name, with no JR/SR in the data);
    - twins: the same DOB (or one recording error apart) and surname or address,
      different first names (not a nickname),
      and either first names that no name variant explains (typo, initial, swapped with
      the surname, a middle name or its initial used as first, a part of a compound name
      in common) or
      middle names with different initials;
    - siblings: different first names (not a nickname, nor given and family name swapped)
      and dates of birth that no single recording error (a swap, a year, a month or a day
      wrong) explains;
    - undated household members: one side without a DOB, the same surname and first
      names that no name variant explains.
    """
    # An identifier equal, or one adjacent transposition apart (a typing slip; the
    # identifiers of a household's members, issued in turn, differ otherwise).
    same_id = (
        f"(coalesce({a}.ssn = {b}.ssn, false) OR coalesce({a}.medicaid_id = {b}.medicaid_id, false)"
        f" OR coalesce(list_has_any({a}.other_keys, {b}.other_keys), false)"
        f" OR {transposed_sql(f'{a}.ssn', f'{b}.ssn')}"
        f" OR {transposed_sql(f'{a}.medicaid_id', f'{b}.medicaid_id')}"
        f" OR (coalesce(split_part({a}.other_key_1, ':', 1) = split_part({b}.other_key_1, ':', 1), false)"
        f" AND {transposed_sql(f'{a}.other_key_1', f'{b}.other_key_1')}))"
    )
    first_explained = f"""coalesce({a}.first_canonical = {b}.first_canonical, false)
        OR coalesce(jaro_winkler_similarity({a}.first_name, {b}.first_name) >= 0.8, false)
        OR coalesce(left({a}.first_name, 1) = left({b}.first_name, 1)
                    AND (length({a}.first_name) = 1 OR length({b}.first_name) = 1), false)
        OR coalesce({a}.first_name = {b}.last_name, false) OR coalesce({a}.last_name = {b}.first_name, false)
        OR coalesce({a}.first_name = {b}.middle_name, false) OR coalesce({a}.middle_name = {b}.first_name, false)
        OR {middle_initial_as_first_sql(a, b)} OR {middle_initial_as_first_sql(b, a)}
        OR coalesce(list_has_any({a}.given_tokens, {b}.given_tokens), false)"""
    generations = f"coalesce(abs({a}.dob_year - {b}.dob_year) >= {GENERATION_YEARS}, false)"
    # Twins are often given similar first names: middle names with different initials
    # tell them apart where the first names alone do not.
    middles_differ = (
        f"coalesce(left({a}.middle_name, 1) <> left({b}.middle_name, 1), false)"
        f" AND NOT coalesce({a}.first_name = {b}.middle_name OR {a}.middle_name = {b}.first_name, false)"
    )
    # Dates of birth one recording error apart (or equal).
    dob_close = (
        f"({a}.dob = {b}.dob OR ({a}.dob_year = {b}.dob_year AND {a}.dob_month = {b}.dob_day"
        f" AND {a}.dob_day = {b}.dob_month) OR ({a}.dob_month = {b}.dob_month AND {a}.dob_day = {b}.dob_day)"
        f" OR ({a}.dob_year = {b}.dob_year AND ({a}.dob_month = {b}.dob_month OR {a}.dob_day = {b}.dob_day)))"
    )
    twins = (
        f"(coalesce({dob_close}, false) AND {a}.first_name IS NOT NULL AND {b}.first_name IS NOT NULL"
        f" AND (coalesce({a}.last_name = {b}.last_name, false) OR coalesce({a}.address_line = {b}.address_line, false))"
        f" AND {a}.first_name <> {b}.first_name"
        f" AND coalesce({a}.first_canonical <> {b}.first_canonical, true)"
        f" AND (NOT ({first_explained}) OR ({middles_differ})))"
    )
    # Two disagreements that errors rarely make together: different first names (not a
    # nickname) and dates of birth that no single recording error explains.
    siblings = (
        f"({a}.dob IS NOT NULL AND {b}.dob IS NOT NULL AND NOT {dob_close}"
        f" AND NOT coalesce({a}.first_name = {b}.first_name OR {a}.first_canonical = {b}.first_canonical, true)"
        f" AND NOT coalesce({a}.first_compact = {b}.last_compact AND {a}.last_compact = {b}.first_compact, false))"
    )
    # Without a DOB on one side nothing above can tell two members of a household apart:
    # the same surname and first names that no variant explains are two people.
    undated = (
        f"(({a}.dob IS NULL OR {b}.dob IS NULL) AND {a}.first_name IS NOT NULL"
        f" AND {b}.first_name IS NOT NULL AND coalesce({a}.last_name = {b}.last_name, false)"
        f" AND coalesce({a}.first_canonical <> {b}.first_canonical, true)"
        f" AND NOT ({first_explained}))"
    )
    return f"(({generations} OR {twins} OR {siblings} OR {undated}) AND NOT {same_id})"


def unless_decided_match(pair_rule: str, a: str = "a", b: str = "b") -> str:
    """``pair_rule`` over records ``a`` and ``b`` (with ``record_key``), except for a pair a
    steward decided is one person: the decision overrides the model's lookalike rules."""
    return (
        f"({pair_rule} AND NOT EXISTS (SELECT 1 FROM review_decision x WHERE x.decision = 'match'"
        f" AND x.record_key_l = least({a}.record_key, {b}.record_key)"
        f" AND x.record_key_r = greatest({a}.record_key, {b}.record_key)))"
    )


def cluster(
    con: Sql, records: str, links: str, pair_rule: str | None = None
) -> tuple[pa.Table, int]:
    """Cluster records given accepted ``links`` (record_key_l, record_key_r, match_weight).

    ``pair_rule`` is SQL over two records ``a`` and ``b`` of ``records``, true when they
    cannot be one person (``cannot_link_sql``). Returns (record_key, cluster) for every
    record and the number of components split.
    """
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE node AS
        SELECT record_key, CAST(row_number() OVER (ORDER BY record_key) - 1 AS BIGINT) AS idx
        FROM {records}"""
    )
    keys = con.execute("SELECT record_key FROM node ORDER BY idx").fetchnumpy()["record_key"]
    edges = con.execute(
        f"""SELECT a.idx AS l, b.idx AS r FROM {links} k
        JOIN node a ON a.record_key = k.record_key_l JOIN node b ON b.record_key = k.record_key_r"""
    ).fetchnumpy()
    n = len(keys)
    from scipy.sparse import coo_matrix  # the solver loads only for a link run
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(len(edges["l"])), (edges["l"], edges["r"])), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    labels = labels.astype(np.int64)
    con.register("_labels", pa.table({"idx": np.arange(n, dtype=np.int64), "component": labels}))
    con.execute(
        "CREATE OR REPLACE TEMP TABLE component AS SELECT n.record_key, l.component FROM node n JOIN _labels l USING (idx)"
    )
    con.unregister("_labels")
    conflicted = _conflicted_components(con, records, pair_rule)
    if conflicted:
        labels = _split(con, records, links, labels, conflicted, pair_rule)
    return pa.table({"record_key": pa.array(keys, type=pa.string()), "cluster": labels}), len(
        conflicted
    )


def _conflicted_components(con: Sql, records: str, pair_rule: str | None) -> set[int]:
    extra = f"OR {pair_rule}" if pair_rule else ""
    rows = con.execute(
        f"""WITH r AS (SELECT c.component, p.* FROM component c JOIN {records} p USING (record_key)),
        big AS (SELECT component FROM component GROUP BY 1 HAVING count(*) > 1)
        SELECT DISTINCT a.component FROM r a JOIN r b ON a.component = b.component
        AND a.record_key < b.record_key
        WHERE a.component IN (SELECT component FROM big) AND (
          (a.ssn <> b.ssn AND damerau_levenshtein(a.ssn, b.ssn) > 1)
          OR (a.name_suffix IN ('JR', 'SR') AND b.name_suffix IN ('JR', 'SR') AND a.name_suffix <> b.name_suffix)
          OR EXISTS (SELECT 1 FROM review_decision d WHERE d.decision = 'no-match'
                     AND d.record_key_l = a.record_key AND d.record_key_r = b.record_key)
          {extra})"""
    ).fetchall()
    return {r[0] for r in rows}


def _split(
    con: Sql,
    records: str,
    links: str,
    labels: np.ndarray,
    conflicted: set[int],
    pair_rule: str | None = None,
) -> np.ndarray:
    """Rebuild conflicted components from their strongest links, refusing conflicting merges."""
    members = con.execute(
        f"""SELECT c.record_key, c.component, p.ssn, p.name_suffix FROM component c
        JOIN {records} p USING (record_key) WHERE c.component IN (SELECT unnest(?))""",
        [sorted(conflicted)],
    ).fetchall()
    index = dict(
        con.execute(
            "SELECT n.record_key, n.idx FROM node n JOIN component c USING (record_key) WHERE c.component IN (SELECT unnest(?))",
            [sorted(conflicted)],
        ).fetchall()
    )
    edges = con.execute(
        f"""SELECT k.record_key_l, k.record_key_r FROM {links} k JOIN component c ON c.record_key = k.record_key_l
        WHERE c.component IN (SELECT unnest(?)) ORDER BY k.match_weight DESC, 1, 2""",
        [sorted(conflicted)],
    ).fetchall()
    refused = {
        (a, b)
        for a, b in con.execute(
            "SELECT record_key_l, record_key_r FROM review_decision WHERE decision = 'no-match'"
        ).fetchall()
    }
    # Pairs the household rules refuse: two people of one household unless an identifier
    # agrees, between the records or (below) between the groups that hold them.
    household: set[tuple[str, str]] = set()
    whole: set[str] = set()  # records holding a first name and a DOB
    middle: set[str] = set()  # records holding a middle name
    ids: dict[str, set[str]] = {k: set() for k, *_ in members}
    if pair_rule:
        for key, ssn, medicaid, others, complete, has_middle in con.execute(
            f"""SELECT c.record_key, p.ssn, p.medicaid_id, p.other_keys,
                   p.dob IS NOT NULL AND p.first_name IS NOT NULL, p.middle_name IS NOT NULL
            FROM component c
            JOIN {records} p USING (record_key) WHERE c.component IN (SELECT unnest(?))""",
            [sorted(conflicted)],
        ).fetchall():
            ids[key] = {f"ssn:{ssn}"} if ssn else set()
            ids[key] |= {f"medicaid:{medicaid}"} if medicaid else set()
            ids[key] |= set(others or ())
            if complete:
                whole.add(key)
            if has_middle:
                middle.add(key)
        household = {
            (x, y)
            for x, y in con.execute(
                f"""WITH r AS (SELECT c.component, p.* FROM component c JOIN {records} p USING (record_key)
                               WHERE c.component IN (SELECT unnest(?)))
                SELECT a.record_key, b.record_key FROM r a JOIN r b
                  ON a.component = b.component AND a.record_key < b.record_key WHERE {pair_rule}""",
                [sorted(conflicted)],
            ).fetchall()
        }
    held = {k: set(v) for k, v in ids.items()}  # each record's own identifiers
    parent: dict[str, str] = {k: k for k, *_ in members}
    ssns: dict[str, set[str]] = {k: ({s} if s else set()) for k, _, s, _ in members}
    suffixes: dict[str, set[str]] = {
        k: ({x} if x in ("JR", "SR") else set()) for k, _, _, x in members
    }
    group_members: dict[str, set[str]] = {k: {k} for k in parent}

    def find(k: str) -> str:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    def conflicts(a: str, b: str) -> bool:
        if len(suffixes[a] | suffixes[b]) > 1:
            return True
        if any(damerau_levenshtein_distance(s, t) > 1 for s in ssns[a] for t in ssns[b]):
            return True
        pairs = [(x, y) for x in group_members[a] for y in group_members[b]]
        if any((x, y) in refused or (y, x) in refused for x, y in pairs):
            return True
        # Two groups that hold one identifier between them are one person: a record of
        # one that looks like a household member of a record of the other (a first name
        # or a DOB recorded wrongly) does not keep them apart.
        if ids[a] & ids[b]:
            return False
        return any(lookalike(x, y, a, b) for x, y in pairs)

    def refuses(x: str, y: str) -> bool:
        return (x, y) in household or (y, x) in household

    def lookalike(x: str, y: str, a: str, b: str) -> bool:
        """Records ``x`` of group ``a`` and ``y`` of ``b`` look like two people of one
        household, and no record that an identifier ties to one of them says otherwise:
        a record of ``y``'s group holding ``y``'s identifier that the household rules do
        not refuse against ``x`` (so ``y``'s name or DOB is one of that person's
        variants), or the same the other way round. The rules cannot refuse what a record
        lacks, so such a witness holds a first name and a DOB, and a middle name if ``x``
        has one."""
        if not refuses(x, y):
            return False
        return not (witness(x, y, b) or witness(y, x, a))

    def witness(x: str, y: str, group: str) -> bool:
        return any(
            w != y
            and held[w] & held[y]
            and w in whole
            and (x not in middle or w in middle)
            and not refuses(x, w)
            for w in group_members[group]
        )

    for key_l, key_r in edges:  # strongest first
        a, b = find(key_l), find(key_r)
        if a == b or conflicts(a, b):
            continue
        parent[b] = a
        ssns[a] |= ssns.pop(b)
        ids[a] |= ids.pop(b)
        suffixes[a] |= suffixes.pop(b)
        group_members[a] |= group_members.pop(b)
    out = labels.copy()
    next_label = int(labels.max()) + 1
    roots: dict[str, int] = {}
    for key in parent:
        root = find(key)
        if root not in roots:
            roots[root] = next_label
            next_label += 1
        out[index[key]] = roots[root]
    return out


def enterprise_id_sql(number: str) -> str:
    """SQL for the enterprise id of a person number: ``P`` and ten digits."""
    return f"'P' || lpad(CAST({number} AS VARCHAR), 10, '0')"


def person_number_sql(enterprise_id: str) -> str:
    """SQL for the person number of an enterprise id (the inverse of ``enterprise_id_sql``):
    analytics join and group people by this integer, which is faster than by the text."""
    return f"CAST(substr({enterprise_id}, 2) AS BIGINT)"


def allot_enterprise_ids(
    con: duckdb.DuckDBPyConnection, clusters: str, before: str
) -> tuple[int, int]:
    """The temporary table ``assigned`` (cluster, enterprise_id) for ``clusters``
    (record_key, cluster), by the one rule of stable ids: a cluster keeps the oldest earlier
    id (``before``: record_key, enterprise_id) among those it holds the most records of; an
    id split across clusters stays with the cluster holding most of its records; other
    clusters get new ids, and the counter moves past them. Returns (the first new number,
    how many new ids)."""
    start = int(
        con.execute("SELECT coalesce(max(next_value), 1) FROM enterprise_id_counter").fetchall()[0][
            0
        ]
    )
    new_ids = allot_ids(con, clusters, before, start)
    con.execute("DELETE FROM enterprise_id_counter")
    con.execute("INSERT INTO enterprise_id_counter VALUES (?)", [start + new_ids])
    return start, new_ids


def allot_ids(con: Sql, clusters: str, before: str, start: int) -> int:
    """The rule of stable ids (``allot_enterprise_ids``) with the counter at ``start``:
    the temporary table ``assigned``; returns how many new ids it gives."""
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE kept AS
        WITH votes AS (
          SELECT c.cluster, p.enterprise_id, count(*) AS n
          FROM {clusters} c JOIN {before} p USING (record_key) GROUP BY ALL),
        won AS (
          SELECT *, row_number() OVER (PARTITION BY enterprise_id ORDER BY n DESC, cluster) AS rank
          FROM votes)
        SELECT cluster, min(enterprise_id) AS enterprise_id FROM won WHERE rank = 1 GROUP BY cluster"""
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE assigned AS
        WITH fresh AS (
          SELECT cluster, {start} - 1 + row_number() OVER (ORDER BY min(record_key)) AS seq
          FROM {clusters} WHERE cluster NOT IN (SELECT cluster FROM kept) GROUP BY cluster)
        SELECT cluster, enterprise_id FROM kept
        UNION ALL SELECT cluster, {enterprise_id_sql("seq")} FROM fresh"""
    )
    new_ids = con.execute(
        f"SELECT count(DISTINCT cluster) FROM {clusters} WHERE cluster NOT IN (SELECT cluster FROM kept)"
    ).fetchall()[0][0]
    return int(new_ids)


def assign_enterprise_ids(con: duckdb.DuckDBPyConnection, clusters: str, run_id: str) -> None:
    """Write person_index for ``clusters`` (record_key, cluster), keeping earlier IDs stable.

    A cluster keeps the oldest earlier ID among those it holds the most records of; an ID
    split across clusters stays with the cluster that holds most of its records; IDs that
    no cluster keeps (merges) are retired with the ID they merged into; clusters with no
    earlier ID get new ones.
    """
    allot_enterprise_ids(con, clusters, "person_index")
    con.execute(
        f"INSERT INTO enterprise_id_retired {retired_sql(clusters, 'person_index', run_id)}"
    )
    con.execute(new_index_sql(clusters, run_id))
    con.execute("DELETE FROM person_index")
    con.execute("INSERT INTO person_index SELECT * FROM new_index")


def retired_sql(clusters: str, before: str, run_id: str) -> str:
    """The ids of ``before`` (record_key, enterprise_id) that no cluster of ``assigned``
    keeps (merges), each with the id it merged into and the run."""
    return f"""SELECT p.enterprise_id, arg_max(a.enterprise_id, 1) AS merged_into, '{run_id}' AS run_id
        FROM {before} p JOIN {clusters} c USING (record_key) JOIN assigned a USING (cluster)
        WHERE p.enterprise_id NOT IN (SELECT enterprise_id FROM assigned)
        GROUP BY p.enterprise_id"""


def new_index_sql(clusters: str, run_id: str) -> str:
    """The temporary table ``new_index``: the person index's rows for ``clusters`` by the
    ids of ``assigned`` (match probabilities filled in after)."""
    return f"""CREATE OR REPLACE TEMP TABLE new_index AS
        SELECT c.record_key, split_part(c.record_key, ':', 1) AS agency,
               substr(c.record_key, strpos(c.record_key, ':') + 1) AS source_record_id,
               a.enterprise_id, '{run_id}' AS link_run_id, NULL::DOUBLE AS match_probability
        FROM {clusters} c JOIN assigned a USING (cluster)"""
