"""Crosswalk: an interagency data-sharing hub for state health and human services.

The package is split by part of the system; each part exports a small public surface:

- ``crosswalk.synth``: the synthetic state (population, 13 agencies' extracts, ground truth).
- ``crosswalk.ingest``: agency extracts into the hub's common model, with quarantine.
- ``crosswalk.identity``: record linkage and the master person index.
- ``crosswalk.agreement``: the eMOU as code and the policy gate every read goes through.
- ``crosswalk.audit``: the tamper-evident audit log.
- ``crosswalk.analytics``: cross-agency questions under disclosure control.
"""

__version__ = "0.1.0"
