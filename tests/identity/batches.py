"""Helpers for tests of batches replaced between linkage runs."""


def replace_batch_without(con, keys):
    """Do what a correction batch replacing the batch holding ``keys`` does (``ingest``
    with ``replace``): the old batch's records and events are deleted and the new batch's
    loaded (here: its other records and events, as they were), the old batch marked
    replaced by the new."""
    batches = [
        b
        for (b,) in con.execute(
            "SELECT DISTINCT batch_id FROM person_record WHERE record_key IN (SELECT unnest(?))",
            [keys],
        ).fetchall()
    ]
    for n, old in enumerate(batches):
        new = f"{old}R{n}"
        con.execute(
            """INSERT INTO batch SELECT * REPLACE (? AS batch_id, now()::TIMESTAMP AS loaded_at,
            batch_id AS replaces, NULL AS replaced_by) FROM batch WHERE batch_id = ?""",
            [new, old],
        )
        for table in ("service_event", "person_record"):
            con.execute(f"DELETE FROM {table} WHERE record_key IN (SELECT unnest(?))", [keys])
            con.execute(f"UPDATE {table} SET batch_id = ? WHERE batch_id = ?", [new, old])
        con.execute(
            "UPDATE batch SET status = 'replaced', replaced_by = ? WHERE batch_id = ?", [new, old]
        )
