"""The agreement (eMOU) as code and the policy engine that decides every request.

``load_agreement`` reads the agreement (default: the one shipped for the synthetic
state); ``decide`` is the one function that says yes or no to a request, with the
transformations required and the reasons, each citing its clause. Storing a version
and recording a consent are administrative acts: they go through the gate
(``crosswalk.access.Gate``), which authorises and audits them.
"""

from crosswalk.agreement.consent import Consent
from crosswalk.agreement.load import check_agreement, load_agreement, parse_agreement
from crosswalk.agreement.model import Agreement, Level
from crosswalk.agreement.policy import Decision, Grant, Principal, Reason, Request, decide
from crosswalk.agreement.versions import agreement_in_force

__all__ = [
    "Agreement",
    "Consent",
    "Decision",
    "Grant",
    "Level",
    "Principal",
    "Reason",
    "Request",
    "agreement_in_force",
    "check_agreement",
    "decide",
    "load_agreement",
    "parse_agreement",
]
