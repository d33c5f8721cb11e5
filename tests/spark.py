"""One local Spark session for the whole test run (shared by every engine-parametrised
test), and why Spark cannot start here when it cannot."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any


def java_missing() -> str | None:
    """Why Spark cannot start here, or None."""
    home = os.environ.get("JAVA_HOME")
    if shutil.which("java") or (home and (Path(home) / "bin" / "java").is_file()):
        return None
    return "no Java runtime (java on PATH or $JAVA_HOME): make test installs Debian's"


def start_session() -> Any:
    """Local mode on one core, one shuffle partition, no UI; with linkage's similarity
    functions (the jar shipped with Splink)."""
    from pyspark.sql import SparkSession

    from crosswalk.engines.spark_sql import similarity_jar

    session = (
        SparkSession.builder.master("local[1]")
        .appName("crosswalk-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.default.parallelism", "1")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", "1g")
        .config("spark.jars", similarity_jar())
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session
