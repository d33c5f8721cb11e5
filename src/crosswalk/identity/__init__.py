"""Identity: the master person index, built by probabilistic record linkage (Splink).

``link`` scores pairs of person records (Fellegi-Sunter, trained without labels), picks
an operating threshold from the data, clusters without chaining mistakes and keeps
enterprise person IDs stable across runs; the result is scored against a synthetic
state's ground truth through the gate (``Gate.evaluate_linkage``); ``person_records`` reads one person's records and evidence for the gate
(``crosswalk.access``), the only way a reader sees them;
the clerical-review queue is read and decided through the gate too
(``Gate.review_list``, ``Gate.review_decide``).

``link`` and ``LinkResult`` load Splink, its charts and the clustering solver: they are
imported on first use (PEP 562), so that the gate, which reads the index through this
package, and every command's ``--help`` start without them.
"""

import importlib
from typing import TYPE_CHECKING, Any

from crosswalk.identity.evaluate import Evaluation
from crosswalk.identity.index import PersonView, person_records

if TYPE_CHECKING:
    from crosswalk.identity.link import LinkResult, link

__all__ = [
    "Evaluation",
    "LinkResult",
    "PersonView",
    "link",
    "person_records",
]


def __getattr__(name: str) -> Any:
    if name not in ("link", "LinkResult"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module("crosswalk.identity.link")
    # Importing the submodule bound the name ``link`` to it: bind both names to the
    # function and the class, as an eager import here would.
    globals().update(link=module.link, LinkResult=module.LinkResult)
    return globals()[name]
