"""Credentials in a setting never reach an error or a log line."""

from __future__ import annotations

import logging
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from crosswalk.engines import spark_engine
from crosswalk.engines.spark_engine import SparkEngine, parse_conf
from crosswalk.errors import ConfigError, CrosswalkError, StoreUnavailable
from crosswalk.jobs import runner
from crosswalk.service import problems

MASTER = "k8s://https://ops:hunter2@api.cluster.example:6443"


class _Builder:
    """A session builder that fails as Spark does at a master URL it cannot reach."""

    def master(self, url: str) -> _Builder:
        self.url = url
        return self

    def appName(self, name: str) -> _Builder:
        return self

    def config(self, key: str, value: str) -> _Builder:
        return self

    def getOrCreate(self) -> Any:
        raise RuntimeError(f"Could not connect to the master at {self.url}\nat line 2")


def test_a_spark_master_url_with_a_password_is_not_shown_when_spark_cannot_start(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fake = SimpleNamespace(SparkSession=SimpleNamespace(builder=_Builder()))
    monkeypatch.setattr(spark_engine, "pyspark_sql", lambda: fake)
    monkeypatch.setattr(spark_engine, "similarity_jar", lambda: "similarity.jar")
    engine = SparkEngine(tmp_path, master=MASTER)
    with pytest.raises(StoreUnavailable) as raised:
        engine.session()
    text = str(raised.value) + str(raised.value.to_dict())
    assert "hunter2" not in text and "ops" not in text
    assert "k8s://https://***@api.cluster.example:6443" in text


def test_a_malformed_spark_setting_is_named_without_its_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_conf("spark.driver.memory=8g fs.s3a.secret.key=AKIAHUNTER2")
    assert "AKIAHUNTER2" not in str(raised.value)
    assert "'fs.s3a.secret.key'" in str(raised.value)


def test_every_error_message_loses_the_credentials_it_would_carry() -> None:
    error = CrosswalkError("cannot reach postgresql+psycopg://crosswalk:s3cret@db:5432/control")
    assert "s3cret" not in str(error) and "s3cret" not in error.to_dict()["detail"]
    assert "postgresql+psycopg://***@db:5432/control" in str(error)


@pytest.mark.parametrize("log", [problems.log, runner.log], ids=["service", "jobs"])
def test_a_failure_logged_with_its_traceback_loses_the_credentials(
    log: logging.Logger, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    try:
        raise RuntimeError(f"py4j: master {MASTER} refused; ?token=tok123")
    except RuntimeError:
        log.exception("GET %s failed", "https://u:pw4@hub.example/jobs")
    # The record as every handler receives it (whatever formatter a handler has).
    record = caplog.records[-1]
    written = f"{record.getMessage()}\n{record.exc_text}"
    assert "RuntimeError" in written and "refused" in written
    assert record.exc_info is None  # no formatter can write the traceback unredacted
    for secret in ("hunter2", "tok123", "pw4"):
        assert secret not in written and secret not in caplog.text
