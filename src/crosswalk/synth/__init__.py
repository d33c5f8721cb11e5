"""The synthetic state: a population, 13 agencies' extracts of it, and the ground truth.

Crosswalk never holds real personal data; everything is built, tested and demonstrated on
states made here. The same config and seed give the same files.

Example:
    >>> from crosswalk.synth import synth
    >>> manifest = synth(people=2000, seed=7, out="state")  # doctest: +SKIP
"""

from crosswalk.synth.config import PROFILES, ErrorRates, LookalikeRates, SynthConfig, hard_config
from crosswalk.synth.extracts import EXTRACTS, Extract
from crosswalk.synth.state import AgencyFiles, Manifest, synth
from crosswalk.synth.summary import TrueOverlap, true_overlap


def small_state(out: str, people: int = 2000, seed: int = 7) -> Manifest:
    """A small state for tests and the demo."""
    return synth(people=people, seed=seed, out=out)


__all__ = [
    "EXTRACTS",
    "PROFILES",
    "AgencyFiles",
    "ErrorRates",
    "Extract",
    "LookalikeRates",
    "Manifest",
    "SynthConfig",
    "TrueOverlap",
    "hard_config",
    "small_state",
    "synth",
    "true_overlap",
]
