"""Identity: the master person index, built by probabilistic record linkage (Splink).

``link`` scores pairs of person records (Fellegi-Sunter, trained without labels), picks
an operating threshold from the data, clusters without chaining mistakes and keeps
enterprise person IDs stable across runs; ``evaluate`` scores the result against a
synthetic state's ground truth; ``person`` shows one person's records and evidence;
``review_list`` and ``review_decide`` are the clerical-review queue.
"""

from crosswalk.identity.evaluate import Evaluation, evaluate
from crosswalk.identity.index import PersonView, person, review_decide, review_list
from crosswalk.identity.link import LinkResult, link

__all__ = [
    "Evaluation",
    "LinkResult",
    "PersonView",
    "evaluate",
    "link",
    "person",
    "review_decide",
    "review_list",
]
