"""Settings as data: each has a name, a default, an environment variable and help.

Resolution order: explicit argument (CLI flag, function parameter) > environment > default.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    help: str

    @property
    def env(self) -> str:
        return "CROSSWALK_" + self.name.upper()

    def value(self, explicit: str | None = None) -> str:
        if explicit is not None:
            return explicit
        return os.environ.get(self.env, self.default)


HUB = Setting("hub", "hub.duckdb", "Path of the hub's DuckDB file (the data plane).")
CONTROL = Setting(
    "control",
    "sqlite:///crosswalk-control.db",
    "SQLAlchemy URL of the control plane (agreements, consents, audit log).",
)
AGREEMENT = Setting(
    "agreement",
    "",
    "Path of the agreement YAML; empty means the agreement shipped for the synthetic state.",
)
SECRETS = Setting(
    "secrets",
    "crosswalk-secrets",
    "Folder of the keys kept outside the hub: audit checkpoint signing, per-purpose pseudonyms.",
)
THREADS = Setting("threads", "0", "DuckDB worker threads; 0 lets DuckDB choose.")
MEMORY_LIMIT = Setting("memory_limit", "", "DuckDB memory limit such as '6GB'; empty for default.")

SETTINGS: tuple[Setting, ...] = (HUB, CONTROL, AGREEMENT, SECRETS, THREADS, MEMORY_LIMIT)
