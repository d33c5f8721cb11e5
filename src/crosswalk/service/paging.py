"""The one bound of a list's ``offset`` parameter, for every list of the API and the UI.

An offset past what a database takes failed the request (500); the bound is far past
any list's length, so a larger one is refused (422) before any read.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

MAX_OFFSET = 1_000_000_000
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]
