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
ENGINE = Setting(
    "engine",
    "duckdb",
    "The engine ingest and questions run on: duckdb (the hub's file) or spark (the "
    "warehouse's Parquet tables, written and read by Spark; needs the spark extra and "
    "Java 17 or 21).",
)
WAREHOUSE = Setting(
    "warehouse",
    "crosswalk-warehouse",
    "Folder of the Spark engine's warehouse: the hub's tables as Parquet snapshots.",
)
SPARK_MASTER = Setting(
    "spark_master",
    "local[*]",
    "Spark master URL of the Spark engine: local[N] on one machine, spark://host:7077, yarn...",
)
SPARK_CONF = Setting(
    "spark_conf",
    "",
    "Spark settings of a session the Spark engine starts, over its defaults for the master "
    "(crosswalk.engines.spark_engine.session_config): key=value pairs separated by spaces, "
    "such as 'spark.driver.memory=8g spark.sql.shuffle.partitions=64'.",
)
CONTROL = Setting(
    "control",
    "sqlite:///crosswalk-control.db",
    "SQLAlchemy URL of the control plane (agreements, consents, audit log).",
)
CONTROL_SYNC = Setting(
    "control_sync",
    "normal",
    "Durability of a SQLite control plane, always in write-ahead-log mode: normal (a "
    "commit survives a crash of the process; the last commits before a power loss or an "
    "operating-system crash may be lost) or full (every commit waits for the disk).",
)
AGREEMENT = Setting(
    "agreement",
    "",
    "Path of the agreement YAML; empty means the agreement shipped for the synthetic state.",
)
SECRETS = Setting(
    "secrets",
    "crosswalk-secrets",
    "Folder of the keys kept outside the hub: audit signing, per-purpose pseudonyms.",
)
AUDIT_CHECKPOINTS = Setting(
    "audit_checkpoints",
    "",
    "Folder where the audit log writes its signed checkpoints (keep it apart from the control "
    "plane); empty: beside a SQLite control plane (<file>.checkpoints), else "
    "crosswalk-audit-checkpoints.",
)
AUDIT_CHECKPOINT_EVERY = Setting(
    "audit_checkpoint_every",
    "100",
    "The audit log writes a checkpoint every N entries (and after every ingest batch and "
    "linkage run); 0 for only those.",
)
AUDIT_CHECKPOINT_SECONDS = Setting(
    "audit_checkpoint_seconds",
    "300",
    "The audit log writes a checkpoint with the first entry after its newest one is this many "
    "seconds old, and the service writes one on this schedule when the log has moved; 0 for "
    "none on time.",
)
TOKEN = Setting(
    "token",
    "",
    "An API token (cwt_...): the CLI signs in as its account for every read and every "
    "administrative act; empty: the token file.",
)
TOKEN_FILE = Setting(
    "token_file",
    "~/.config/crosswalk/token",
    "File holding the CLI's API token when $CROSSWALK_TOKEN is empty; refused unless only "
    "its owner can read it (chmod 600).",
)
PROFILE = Setting(
    "profile",
    "~/.config/crosswalk/profile.yaml",
    "YAML file of the CLI's defaults for a read: role and purpose (nothing else), if it exists.",
)
SERVICE_CORS_ORIGINS = Setting(
    "service_cors_origins",
    "",
    "Origins the service answers cross-origin requests from (comma-separated); empty: none.",
)
SERVICE_MAX_BODY_MB = Setting(
    "service_max_body_mb", "64", "The largest request body (an upload) the service accepts, in MB."
)
SERVICE_MAX_JSON_KB = Setting(
    "service_max_json_kb",
    "1024",
    "The largest request body the service accepts that is not an upload (JSON), in KB.",
)
SERVICE_READ_TIMEOUT = Setting(
    "service_read_timeout",
    "30",
    "Seconds one read of the hub may take in the service before it is interrupted; 0: no limit.",
)
SERVICE_FORWARDED_ALLOW_IPS = Setting(
    "service_forwarded_allow_ips",
    "",
    "Addresses of the reverse proxies whose X-Forwarded-For/-Proto headers the service "
    "believes (comma-separated, as uvicorn takes them); empty: none, the peer is the client.",
)
SERVICE_ACCESS_LOG = Setting(
    "service_access_log",
    "off",
    "on: the service logs a line per request to its output (the audit log records every "
    "request either way); off: it does not.",
)
SERVICE_UPLOADS = Setting(
    "service_uploads",
    "",
    "Folder where uploads wait for their ingest job; empty: <hub>.uploads beside the hub.",
)
LINKAGE_TRUTH = Setting(
    "linkage_truth",
    "",
    "A ground truth the web UI's linkage page scores the person index against (a synthetic "
    "state's truth folder, or a CSV or Parquet of agency, source_record_id, entity_id); "
    "empty: none.",
)
THREADS = Setting("threads", "0", "DuckDB worker threads; 0 lets DuckDB choose.")
MEMORY_LIMIT = Setting("memory_limit", "", "DuckDB memory limit such as '6GB'; empty for default.")

SETTINGS: tuple[Setting, ...] = (
    HUB,
    ENGINE,
    WAREHOUSE,
    SPARK_MASTER,
    SPARK_CONF,
    CONTROL,
    CONTROL_SYNC,
    AGREEMENT,
    SECRETS,
    AUDIT_CHECKPOINTS,
    AUDIT_CHECKPOINT_EVERY,
    AUDIT_CHECKPOINT_SECONDS,
    TOKEN,
    TOKEN_FILE,
    PROFILE,
    SERVICE_CORS_ORIGINS,
    SERVICE_MAX_BODY_MB,
    SERVICE_MAX_JSON_KB,
    SERVICE_READ_TIMEOUT,
    SERVICE_FORWARDED_ALLOW_IPS,
    SERVICE_ACCESS_LOG,
    SERVICE_UPLOADS,
    LINKAGE_TRUTH,
    THREADS,
    MEMORY_LIMIT,
)
