"""The gate: every read of agency data goes through ``Gate``, default deny, no bypass."""

from crosswalk.access.gate import (
    REDISCLOSURE_NOTICE,
    ROW_LEVELS,
    WITHHOLDING_NOTICE,
    Aggregate,
    AggregateQuestion,
    Gate,
    PersonAnswer,
    RowQuestion,
)
from crosswalk.access.scope import CELL_KEY_SECRET, Scope, granted_scope, run_counts

__all__ = [
    "CELL_KEY_SECRET",
    "REDISCLOSURE_NOTICE",
    "ROW_LEVELS",
    "WITHHOLDING_NOTICE",
    "Aggregate",
    "AggregateQuestion",
    "Gate",
    "PersonAnswer",
    "RowQuestion",
    "Scope",
    "granted_scope",
    "run_counts",
]
