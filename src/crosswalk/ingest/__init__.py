"""Ingest: agency extracts into the hub's common model, with nothing lost.

Each agency's extract is read as text, mapped with the agency's mapping file, validated
and standardised in SQL, and loaded as one atomic, idempotent batch. Rows that cannot be
used go to ``quarantine`` with file, row, field, value and rule; stewards read it, and
the batches' lineage, through the gate (``crosswalk.access.Gate.quarantine``,
``crosswalk.access.lineage``).
"""

from crosswalk.ingest.batch import FileResult, IngestResult, ingest
from crosswalk.ingest.mapping import Mapping, load_mapping, parse_mapping
from crosswalk.ingest.queries import ingest_state

__all__ = [
    "FileResult",
    "IngestResult",
    "Mapping",
    "ingest",
    "ingest_state",
    "load_mapping",
    "parse_mapping",
]
