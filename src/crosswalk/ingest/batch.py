"""Loading one batch: all files of one agency, atomically and idempotently.

A batch is one transaction: either every accepted row and every quarantined row of every
file is stored, with the batch's lineage, or nothing is. A file whose content (SHA-256)
is already in a loaded batch of the same agency is recognised and not loaded again.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from crosswalk import stores
from crosswalk.audit import AuditLog, BatchFailed, BatchLoaded, BatchStarted
from crosswalk.engines import batch_engine
from crosswalk.engines.base import Batch, BatchEngine
from crosswalk.engines.duckdb_engine import DuckDBBatch
from crosswalk.errors import (
    ConfigError,
    InputFileError,
    IntegrityError,
    MappingError,
    NotFound,
    Problem,
    QualityGateError,
)
from crosswalk.ingest import hub as hub_schema
from crosswalk.ingest import quality, standardise
from crosswalk.ingest.mapping import ClientSpec, FileSpec, Mapping, load_mapping, source_columns
from crosswalk.ingest.quality import Issue
from crosswalk.ingest.readers import Extract, check_file, read_into

if TYPE_CHECKING:
    from crosswalk.hub import Hub

Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class FileResult:
    file: str
    kind: str
    sha256: str
    rows_read: int
    rows_accepted: int
    rows_quarantined: int
    already_loaded_in: str | None = None
    issues: tuple[Issue, ...] = ()  # flagged and quarantined rows per field and rule
    empty_fields: tuple[str, ...] = ()  # mapped fields with no value in any row
    # An update batch: rows sent again exactly as the hub holds them (among the accepted:
    # nothing to change), and the earliest batch that holds them.
    rows_unchanged: int = 0
    unchanged_in: str | None = None


@dataclass(frozen=True)
class IngestResult:
    agency: str
    batch_id: str | None  # None when every file was already loaded, or for a check
    files: tuple[FileResult, ...] = field(default_factory=tuple)
    replaced: str | None = None
    warnings: tuple[Problem, ...] = ()  # the quality gate's findings it did not refuse on
    refusals: tuple[Problem, ...] = ()  # a check only: what would refuse the batch
    checked: bool = False  # a dry run: nothing was written

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files)

    @property
    def rows_accepted(self) -> int:
        return sum(f.rows_accepted for f in self.files)

    @property
    def rows_quarantined(self) -> int:
        return sum(f.rows_quarantined for f in self.files)


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with Path(path).open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _content_id(name: str, spec: FileSpec | None) -> str:
    """The file's SHA-256; a database source is identified by its URL."""
    if spec is not None and spec.format == "sql":
        return "sql:" + name
    return file_sha256(check_file(name))


def _kind(path: str, kinds: Sequence[str] | None, i: int) -> tuple[str, bool]:
    """(kind, guessed): given by --kind, or told by a name holding "event" or "client"."""
    if kinds:
        return kinds[i], False
    name = Path(path).name.lower()
    if "event" in name:
        return "events", "client" in name
    return "clients", "client" not in name


def ingest(
    agency: str,
    files: Sequence[str | Path],
    *,
    hub: str | Path | Hub | BatchEngine | None = None,
    mapping: str | Path | Mapping | None = None,
    kinds: Sequence[str] | None = None,
    replace: str | None = None,
    loaded_by: str | None = None,
    control: str | None = None,
    secrets: str | Path | None = None,
    progress: Progress | None = None,
    check: bool = False,
    names: Sequence[str] | None = None,
    updates: bool = False,
) -> IngestResult:
    """Load one batch of an agency's extract files into the hub.

    With ``updates``, a client the hub already holds is a new version of that record
    (a corrected name or date, a new address or surname): it replaces the stored row,
    which is kept in ``person_record_version``. Without it such a row is quarantined as
    a duplicate source id.

    With ``check``, a dry run: everything is read, standardised, counted and judged by
    the quality gate against what the hub holds, and nothing is written (no hub change,
    no audit entry; a hub that does not exist is not created).

    ``hub`` is the hub's file, or the ``Hub`` object of a process that owns it for
    writing (the service): the batch is then written through its writer's cursor while
    reads go on, and audited in its audit log; the files are read on a connection of
    their own, since the hub's connection reaches no file. On Spark it is the warehouse
    (a ``crosswalk.engines.SparkEngine``, or a folder with ``CROSSWALK_ENGINE=spark``):
    the batch is staged there as a new snapshot and committed by one atomic rename.
    ``names`` are the files' names in the batch's lineage and quarantine (default: the
    paths given), as an upload's names are its own rather than where the service keeps it.

    Example:
        >>> ingest("fcs", ["clients.csv", "events.csv"], hub="hub.duckdb")  # doctest: +SKIP
    """
    report = progress or (lambda stage, done: None)
    m, jobs, guessed, shown = _plan(agency, files, mapping, kinds, names)
    user = loaded_by or getpass.getuser()
    if check and not isinstance(hub, str | Path | None):
        raise ConfigError("a check opens the hub itself: give the hub's path, not its object")
    with open_batch(hub, agency, check=check) as (batch, audit):
        if audit is None and not check:
            audit = AuditLog(control, secrets=secrets)
        batch.register(standardise.NICKNAMES, standardise.nickname_table())
        if check:  # a dry run writes no audit entry, not even a reconciliation
            return _load(
                batch, agency, m, jobs, guessed, replace, user, None, report, shown, updates
            )
        assert audit is not None
        _reconcile(batch, audit, user)
        return _load(batch, agency, m, jobs, guessed, replace, user, audit, report, shown, updates)


@contextmanager
def open_batch(
    hub: str | Path | Hub | BatchEngine | None, agency: str, *, check: bool = False
) -> Iterator[tuple[Batch, AuditLog | None]]:
    """The batch to load into, and the audit log of the hub object it writes through.

    ``hub`` is the hub's DuckDB file, the ``Hub`` of the process that owns it (its
    writer's cursor; files are read on a connection of their own), or an engine with a
    batch of its own (``crosswalk.engines.SparkEngine``: the warehouse). A path with
    ``CROSSWALK_ENGINE=spark`` names the warehouse.
    """
    from crosswalk.hub import Hub

    if isinstance(hub, Hub) and isinstance(hub.engine, BatchEngine):
        with hub.engine.batch(hub_schema.tables()) as batch:
            yield batch, hub.audit
        return
    if isinstance(hub, Hub):
        with hub.write() as con, duckdb.connect(":memory:") as files:
            hub_schema.migrate(con)
            yield DuckDBBatch(con, files), hub.audit
        return
    if isinstance(hub, BatchEngine):  # an engine of its own: the Spark warehouse
        with hub.batch(hub_schema.tables()) as batch:
            yield batch, None
        return
    if isinstance(hub, str | Path | None) and (engine := batch_engine(hub)) is not None:
        try:
            with engine.batch(hub_schema.tables()) as batch:
                yield batch, None
        finally:
            engine.close()
        return
    if check:
        con = hub_schema.open_shadow(hub, agency)
    else:
        con = stores.connect_hub(hub)
        hub_schema.migrate(con)
    try:
        yield DuckDBBatch(con), None
    finally:
        con.close()


def _plan(
    agency: str,
    files: Sequence[str | Path],
    mapping: str | Path | Mapping | None,
    kinds: Sequence[str] | None,
    names: Sequence[str] | None,
) -> tuple[Mapping, list[tuple[str, str]], set[str], dict[str, str]]:
    """The mapping, each file with its kind, the files whose kind was guessed from their
    name, and each file's name as shown."""
    m = mapping if isinstance(mapping, Mapping) else load_mapping(mapping or agency)
    if m.agency != agency:
        raise MappingError(f"mapping {m.source} is for agency {m.agency!r}, not {agency!r}")
    if names is not None and len(names) != len(files):
        raise MappingError("give one name per file, or none")
    shown = dict(zip([str(f) for f in files], names or [str(f) for f in files], strict=True))
    names = [str(f) for f in files]
    if kinds is not None and len(kinds) != len(names):
        raise MappingError("give one --kind per file, or none")
    guesses = [_kind(name, kinds, i) for i, name in enumerate(names)]
    jobs = [(name, kind) for name, (kind, _) in zip(names, guesses, strict=True)]
    guessed = {name for name, (_, g) in zip(names, guesses, strict=True) if g}
    for name, kind in jobs:
        if kind not in ("clients", "events"):
            raise MappingError(f"{name}: kind must be clients or events, not {kind!r}")
        if kind == "events" and m.events is None:
            raise MappingError(f"{name}: mapping {m.source} has no events section")
    return m, jobs, guessed, shown


def preflight(
    agency: str,
    files: Sequence[str | Path],
    *,
    mapping: str | Path | Mapping | None = None,
    kinds: Sequence[str] | None = None,
    names: Sequence[str] | None = None,
) -> None:
    """Read each file as ``ingest`` would and check its columns against the mapping, on a
    connection of its own: an unreadable file, a header with no rows or a column the
    mapping does not know raises the error ``ingest`` would (naming file, row and
    field), before anything is queued or written. Rows are judged by ``ingest`` itself."""
    m, jobs, guessed, shown = _plan(agency, files, mapping, kinds, names)
    with duckdb.connect(":memory:") as reader:
        for i, (name, kind) in enumerate(jobs):
            spec: FileSpec = m.clients if kind == "clients" else m.events  # type: ignore[assignment]
            extract = read_into(reader, f"raw_{i}", name, spec)
            _columns_of(shown.get(name, name), kind, name in guessed, extract.columns, spec, m)
            reader.execute(f"DROP TABLE raw_{i}")


def _reconcile(batch: Batch, audit: AuditLog, user: str) -> None:
    """Record the outcome of batches whose process died after the hub's commit and before
    it wrote the outcome: the intent names the batch, and this hub holds it. An intent for
    a batch this hub does not hold is left open (it may belong to another hub)."""
    for intent in audit.open_intents(BatchStarted, (BatchLoaded, BatchFailed), "batch_ids"):
        batch_id = intent["objects"]["batch_ids"][0]
        held = batch.rows(
            "SELECT sum(rows_accepted) FROM batch_file WHERE batch_id = $batch_id",
            {"batch_id": batch_id},
        )[0][0]
        if held is not None:
            audit.record_committed(
                BatchLoaded(
                    intent["user"],
                    intent.get("agency"),
                    objects=intent["objects"] | {"reconciled_by": user},
                    rows=int(held),
                )
            )


def _load(
    batch: Batch,
    agency: str,
    m: Mapping,
    jobs: list[tuple[str, str]],
    guessed: set[str],
    replace: str | None,
    loaded_by: str,
    audit: AuditLog | None,
    report: Progress,
    shown: dict[str, str] | None = None,
    updates: bool = False,
) -> IngestResult:
    label = shown or {}
    hashes = {
        name: _content_id(name, m.clients if kind == "clients" else m.events) for name, kind in jobs
    }
    seen: dict[str, str] = {}
    for name, _ in jobs:
        row = batch.rows(
            """SELECT f.batch_id FROM batch_file f JOIN batch b ON b.batch_id = f.batch_id
               WHERE b.agency = $agency AND f.sha256 = $sha AND b.status = 'loaded'
               ORDER BY f.batch_id LIMIT 1""",
            {"agency": agency, "sha": hashes[name]},
        )
        if row and not replace:
            seen[name] = row[0][0]
    skipped = tuple(
        FileResult(label.get(n, n), k, hashes[n], 0, 0, 0, seen[n]) for n, k in jobs if n in seen
    )
    todo = [(n, k) for n, k in jobs if n not in seen]
    if not todo:
        return IngestResult(agency, None, skipped)
    # Clients before events, so events can refer to clients of the same batch.
    todo.sort(key=lambda j: j[1] != "clients")
    staged = []
    for i, (name, kind) in enumerate(todo):
        spec: FileSpec = m.clients if kind == "clients" else m.events  # type: ignore[assignment]
        raw = f"raw_{i}"
        extract = read_into(batch.files, raw, name, spec)
        batch.adopt(raw)
        _columns_of(label.get(name, name), kind, name in guessed, extract.columns, spec, m)
        staged.append((name, kind, raw, extract))
        report(f"read {Path(name).name}", (i + 1) / (len(todo) + 1) * 0.5)
    batch_id = "B" + uuid.uuid4().hex[:12]
    objects: dict[str, object] = {
        "batch_ids": [batch_id],
        "replaces": replace,
        "files": [label.get(s[0], s[0]) for s in staged],
    }
    if updates:
        objects["updates"] = True
    # Intent before the hub's commit and outcome after it: the log never claims a batch the
    # hub does not hold, and a batch that cannot be audited is not loaded.
    if audit is not None:
        audit.record(BatchStarted(loaded_by, agency, objects=objects))
    batch.begin()
    try:
        if replace:
            _retire(batch, agency, replace, batch_id)
        batch.insert(
            "batch",
            [
                {
                    "batch_id": batch_id,
                    "agency": agency,
                    "mapping": m.source,
                    "mapping_version": m.version,
                    "mapping_digest": m.digest,
                    "loaded_at": datetime.now(UTC).replace(tzinfo=None),
                    "loaded_by": loaded_by,
                    "status": "loaded",
                    "replaces": replace,
                    "replaced_by": None,
                }
            ],
        )
        results = []
        for j, (name, kind, raw, extract) in enumerate(staged):
            results.append(
                _stage(
                    batch,
                    agency,
                    m,
                    batch_id,
                    label.get(name, name),
                    kind,
                    raw,
                    extract,
                    hashes[name],
                    updates,
                )
            )
            report(f"loaded {Path(name).name}", 0.5 + (j + 1) / len(staged) * 0.5)
        if updates:
            _loaded_twice(results)
        warnings, refusals = _gate(m, results)
        if audit is None:  # a check: report everything, keep nothing
            batch.rollback()
            return IngestResult(
                agency, None, (*skipped, *results), replace, tuple(warnings), tuple(refusals), True
            )
        if refusals:
            raise QualityGateError(
                f"batch refused by the quality gate of mapping {m.source}"
                " (nothing was loaded; `crosswalk ingest --check` reports without loading)",
                refusals,
            )
        batch.commit()
    except BaseException:
        if audit is not None:
            batch.rollback()
            audit.record_failed(BatchFailed(loaded_by, agency, objects=objects))
        raise
    audit.record_committed(
        BatchLoaded(loaded_by, agency, objects=objects, rows=sum(r.rows_accepted for r in results))
    )
    return IngestResult(agency, batch_id, (*skipped, *results), replace, tuple(warnings))


def _loaded_twice(results: list[FileResult]) -> None:
    """Refuse an update batch that brings nothing: every row of every file is already in
    the hub exactly as sent (the same week's extract exported again, or loaded twice under
    another name). Its rows would only be versions of themselves."""
    if not any(r.rows_unchanged for r in results) or any(
        r.rows_accepted > r.rows_unchanged for r in results
    ):
        return
    raise InputFileError(
        "this batch was loaded before: every row of its files is already in the hub"
        " exactly as sent; nothing was loaded",
        [
            Problem(
                f"every accepted row ({r.rows_unchanged:,}) is held unchanged, as loaded by"
                f" batch {r.unchanged_in}",
                file=r.file,
                rule="already_loaded",
            )
            for r in results
        ],
    )


def _gate(m: Mapping, results: list[FileResult]) -> tuple[list[Problem], list[Problem]]:
    """(warnings, refusals) of the mapping's quality gate over every file of the batch."""
    gate = m.quality
    warnings: list[Problem] = []
    refusals: list[Problem] = []
    for r in results:
        breaches, empties = quality.judge(gate, r.file, r.rows_read, r.issues, r.empty_fields)
        (refusals if gate.on_breach == "refuse" else warnings).extend(breaches)
        if gate.empty_field != "ignore":
            (refusals if gate.empty_field == "refuse" else warnings).extend(empties)
    return warnings, refusals


def _columns_of(
    name: str, kind: str, guessed: bool, columns: list[str], spec: FileSpec, m: Mapping
) -> None:
    """``_check_columns``, saying so when the file's kind was only guessed from its name."""
    try:
        _check_columns(name, columns, spec, m)
    except MappingError as e:
        if not guessed:
            raise
        other = "events" if kind == "clients" else "clients"
        raise MappingError(
            f"{e.message} — its kind was guessed as {kind} because its name does not say;"
            f" if it is {other}, pass --kind {other} (once per file)",
            e.problems,
        ) from None


def _check_columns(name: str, columns: list[str], spec: FileSpec, m: Mapping) -> None:
    problems = []
    present = set(columns)
    fields = dict(spec.columns)
    if isinstance(spec, ClientSpec):
        fields.update({f"identifiers.{k}": ref for k, ref in spec.identifiers.items()})
    for field_name, ref in fields.items():
        for column in source_columns(ref):
            if column not in present:
                problems.append(
                    Problem(
                        f"column {column!r} (mapped to {field_name}) is not in the file",
                        file=name,
                        field=column,
                    )
                )
    known = set(spec.mapped_columns()) | set(spec.ignore_columns)
    for column in columns:
        if column not in known:
            problems.append(
                Problem(
                    f"column {column!r} is not in mapping {m.source} (map it or list it in ignore_columns)",
                    file=name,
                    field=column,
                )
            )
    if problems:
        hint = ""
        if len(columns) == 1 and len(spec.columns) > 1:
            hint = (
                f" (one column found: is the delimiter {spec.delimiter!r} right, or is the"
                " header on a later line? name it with header_row in the mapping)"
            )
        elif not present & set(spec.mapped_columns()):
            hint = (
                f" (no mapped column is in the header, line {spec.header_row} of the file:"
                " is the header on a later line? name it with header_row in the mapping)"
            )
        raise MappingError(f"{name} does not match mapping {m.source}{hint}", problems)


def _retire(batch: Batch, agency: str, old: str, new: str) -> None:
    row = batch.rows("SELECT agency, status FROM batch WHERE batch_id = $old", {"old": old})
    # Another agency's batch is not there for this one: the same answer as a missing id,
    # never that it exists, whose it is or its status.
    if not row or row[0][0] != agency:
        raise NotFound(f"no batch {old!r} of {agency} to replace")
    status = row[0][1]
    if status != "loaded":
        raise MappingError(
            f"batch {old} is a {status} batch; only a loaded {agency} batch can be replaced"
        )
    for table in ("service_event", "person_record"):
        batch.delete(table, "batch_id = $old", {"old": old})
    batch.update(
        "batch",
        {"status": "'replaced'", "replaced_by": "$new"},
        "batch_id = $old",
        {"new": new, "old": old},
    )


def _stage(
    batch: Batch,
    agency: str,
    m: Mapping,
    batch_id: str,
    name: str,
    kind: str,
    raw: str,
    extract: Extract,
    sha: str,
    updates: bool = False,
) -> FileResult:
    staged = f"stage_{raw}"
    binds = standardise.Binds()
    if kind == "clients":
        # A client already in the hub from another loaded batch is a duplicate source id.
        sql = standardise.client_sql(
            m.clients, agency, batch_id, raw, binds, extract.typed_dates, updates
        )
        batch.relation(staged, sql, batch.bind(binds.values, binds.formats))
        staged = standardise.finish_people(
            batch, staged, "full_address" in m.clients.columns, m.clients.country
        )
        target = "person_record"
    else:
        assert m.events is not None
        sql = standardise.event_sql(
            m.events, agency, batch_id, raw, binds, extract.typed_dates, updates
        )
        batch.relation(staged, sql, batch.bind(binds.values, binds.formats))
        target = "service_event"
    columns = batch.columns(target)
    cols = ", ".join(columns)
    unchanged, unchanged_in = 0, None
    if updates:
        key = "record_key" if kind == "clients" else "event_key"
        # A row sent again exactly as the hub holds it is no new version: it stays as it
        # is (a batch all of whose rows are such was loaded before, see ``_loaded_twice``).
        content = [c for c in columns if c not in (key, "batch_id", "source_row")]
        same = " AND ".join(f"s.{c} IS NOT DISTINCT FROM h.{c}" for c in content)
        joined = f"{staged} s JOIN {target} h ON h.{key} = s.{key} AND s.q_rule IS NULL AND {same}"
        count, first = batch.rows(f"SELECT count(*), min(h.batch_id) FROM {joined}")[0]
        unchanged, unchanged_in = int(count), first
        if unchanged:
            kept = f"{staged}_changed"
            batch.relation(
                kept,
                f"SELECT * FROM {staged}"
                f" WHERE NOT coalesce({key} IN (SELECT s.{key} FROM {joined}), FALSE)",
            )
            batch.drop(staged)
            staged = kept
        # The stored version of each row sent again is kept, then replaced: a record's
        # corrected name or new address, an event's end (its case closed).
        sent_again = f"SELECT {key} FROM {staged} WHERE q_rule IS NULL AND {key} IN (SELECT {key} FROM {target})"
        batch.append(
            f"{target}_version",
            f"""SELECT {cols}, $batch_id AS superseded_by, now()::TIMESTAMP AS superseded_at
            FROM {target} WHERE {key} IN ({sent_again})""",
            {"batch_id": batch_id},
        )
        batch.delete(target, f"{key} IN ({sent_again})")
    n_acc = batch.append(target, f"SELECT {cols} FROM {staged} WHERE q_rule IS NULL")
    n_acc += unchanged
    n_quarantined = batch.append(
        "quarantine",
        f"""SELECT $batch_id AS batch_id, $file AS file, source_row, q_field AS field,
            q_value AS value, q_rule AS rule, q_raw AS raw_row
        FROM {staged} WHERE q_rule IS NOT NULL""",
        {"batch_id": batch_id, "file": name},
    )
    # Rows that could not be split into the header's fields: quarantined with both counts.
    batch.insert(
        "quarantine",
        [
            {
                "batch_id": batch_id,
                "file": name,
                "source_row": r.row,
                "field": None,
                "value": r.message,
                "rule": "wrong_field_count",
                "raw_row": json.dumps(list(r.values)),
            }
            for r in extract.rejected
        ],
    )
    n_raw = int(batch.rows(f"SELECT count(*) FROM {raw}")[0][0])
    n_rejected = len(extract.rejected)
    read = n_raw + n_rejected
    n_q = n_quarantined + n_rejected
    if read != n_acc + n_q:
        raise IntegrityError(f"{name}: {read} rows read but {n_acc} accepted and {n_q} quarantined")
    batch.insert(
        "batch_file",
        [
            {
                "batch_id": batch_id,
                "kind": kind,
                "file": name,
                "sha256": sha,
                "rows_read": read,
                "rows_accepted": n_acc,
                "rows_quarantined": n_q,
            }
        ],
    )
    issues = quality.count_issues(batch, staged, n_rejected)
    batch.insert(
        "batch_issue",
        [
            {
                "batch_id": batch_id,
                "file": name,
                "field": i.field,
                "rule": i.rule,
                "rows": i.rows,
                "quarantined": i.quarantined,
            }
            for i in issues
        ],
    )
    spec: FileSpec = m.clients if kind == "clients" else m.events  # type: ignore[assignment]
    empty = quality.empty_fields(batch, raw, spec) if n_raw else ()
    batch.drop(staged)
    batch.drop(raw)
    return FileResult(
        name, kind, sha, read, n_acc, n_q, None, issues, empty, unchanged, unchanged_in
    )
