from crosswalk import __version__
from crosswalk.cli import run


def test_version_prints_package_version(capsys):
    assert run(["version"]) == 0
    assert __version__ in capsys.readouterr().out


def test_settings_lists_environment_variables(capsys, monkeypatch):
    monkeypatch.setenv("CROSSWALK_HUB", "e.duckdb")
    assert run(["settings"]) == 0
    out = capsys.readouterr().out
    assert "CROSSWALK_HUB" in out
    assert "e.duckdb" in out


def test_settings_show_no_credential(capsys, monkeypatch):
    """The attack (a secret read over a shoulder, or from a pasted ticket): ``crosswalk
    settings`` printed every value as set, the control plane's database password and a
    Spark secret key among them."""
    monkeypatch.setenv("COLUMNS", "400")
    monkeypatch.setenv("CROSSWALK_CONTROL", "postgresql+psycopg://svc:Hunter2Hunter2@db:5432/cw")
    monkeypatch.setenv("CROSSWALK_SPARK_CONF", "spark.hadoop.fs.s3a.secret.key=AKIAEXAMPLEKEY")
    monkeypatch.setenv("CROSSWALK_SPARK_MASTER", "k8s://https://ops:opspass99@api:6443")
    assert run(["settings"]) == 0
    out = capsys.readouterr().out
    for secret in ("Hunter2Hunter2", "AKIAEXAMPLEKEY", "opspass99"):
        assert secret not in out
    assert "postgresql+psycopg://***@db:5432/cw" in out
    assert "spark.hadoop.fs.s3a.secret.key=***" in out


def test_unknown_command_exits_non_zero():
    assert run(["no-such-command"]) == 2
