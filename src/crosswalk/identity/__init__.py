"""Identity: the master person index, built by probabilistic record linkage (Splink).

``link`` scores pairs of person records (Fellegi-Sunter, trained without labels), picks
an operating threshold from the data, clusters without chaining mistakes and keeps
enterprise person IDs stable across runs; ``evaluate`` scores the result against a
synthetic state's ground truth; ``person_records`` reads one person's records and evidence for the gate
(``crosswalk.access``), the only way a reader sees them;
the clerical-review queue is read and decided through the gate too
(``Gate.review_list``, ``Gate.review_decide``).
"""

from crosswalk.identity.evaluate import Evaluation, evaluate
from crosswalk.identity.index import PersonView, person_records
from crosswalk.identity.link import LinkResult, link

__all__ = [
    "Evaluation",
    "LinkResult",
    "PersonView",
    "evaluate",
    "link",
    "person_records",
]
