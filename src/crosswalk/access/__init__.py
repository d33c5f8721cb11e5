"""The gate: every read of agency data goes through ``Gate``, default deny, no bypass."""

from crosswalk.access.gate import REDISCLOSURE_NOTICE, Gate, PersonAnswer

__all__ = ["REDISCLOSURE_NOTICE", "Gate", "PersonAnswer"]
