"""Cross-agency analytics: overlap, pathways, lifetime use, cohort outcomes, trends.

Each question is an intent object (``ProgramOverlap``, ``Pathways``...) with ``Filters``;
it declares the data elements it reads, renders its SQL late for an engine (DuckDB, or
Spark through SQLGlot) and describes its count table for disclosure control. Answers
leave only through the gate and ``crosswalk.disclosure.protect``. See docs/analytics.md.
"""

from crosswalk.access import Scope
from crosswalk.analytics.cohort import CohortOutcomes, cumulative_incidence
from crosswalk.analytics.filters import AGE_GROUPS, SERVICE_PROGRAMS, Filters
from crosswalk.analytics.heavy import HeavyUsers
from crosswalk.analytics.lifetime import LifetimeUse
from crosswalk.analytics.output import chart, write_chart, write_table
from crosswalk.analytics.overlap import ProgramCombinations, ProgramOverlap
from crosswalk.analytics.pathways import Pathways
from crosswalk.analytics.question import Question
from crosswalk.analytics.run import Answer, ask, ask_rows
from crosswalk.analytics.trends import Trends

__all__ = [
    "AGE_GROUPS",
    "SERVICE_PROGRAMS",
    "Answer",
    "CohortOutcomes",
    "Filters",
    "HeavyUsers",
    "LifetimeUse",
    "Pathways",
    "ProgramCombinations",
    "ProgramOverlap",
    "Question",
    "Scope",
    "Trends",
    "ask",
    "ask_rows",
    "chart",
    "cumulative_incidence",
    "write_chart",
    "write_table",
]
