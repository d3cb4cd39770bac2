"""The cnpii operators with a mocked task context and a stubbed pipeline.api: XCom, failure mapping, key
handling. The real pipeline under a real Airflow is in test_example_dag.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from unittest.mock import MagicMock

import pytest
from botocore.exceptions import NoCredentialsError

from pipeline import api
from pipeline.airflow import operators
from pipeline.airflow.operators import (
    AirflowFailException,
    CnpiiTaskError,
    DeidentifyOperator,
    ScanOperator,
    VerifyOperator,
)
from pipeline.airflow.provider import get_provider_info
from pipeline.keys import KeyMaterialError
from pipeline.partition import DataError
from pipeline.plan import PlanError
from pipeline.policy import PolicyError
from pipeline.storage import InputError, OutputBusyError, OutputExistsError, StorageError

CONFIGS = Path(__file__).parents[2] / "configs"
POLICY = str(CONFIGS / "collection_agency.yaml")
KEY = "airflow-test-key-" + "0123456789abcdef" * 3
PHONE = "13812345678"


class Connection:
    """The attributes of an Airflow Connection the operators read."""

    def __init__(self, conn_type: str = "generic", login: str | None = None, password: str | None = None,
                 extra: dict[str, Any] | None = None) -> None:
        self.conn_type, self.login, self.password, self.extra_dejson = conn_type, login, password, extra or {}


def _summary(status: str = "ok", leaks: int = 0) -> api.Summary:
    return api.Summary("run", status, input="in/", output="out/", run_id="20260101T000000Z-abcd1234", rows=10,
                       files=2, entities={"CN_PHONE": {"rows": 4, "values": 4}}, leaks=leaks,
                       manifest="out/_manifest.json" if status == "ok" else None)


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every pipeline.api call, with the key variables' values at call time; each returns `_summary()`."""
    made: list[dict[str, Any]] = []

    def recorder(command: str):
        def call(*args: Any, **kwargs: Any) -> api.Summary:
            made.append({"command": command, "args": args, **kwargs,
                         "env": {n: os.environ.get(n) for n in ("CNPII_KEY", "SHARE_KEY")}})
            return _summary()
        return call

    for command in ("scan", "run", "verify"):
        monkeypatch.setattr(api, command, recorder(command))
    return made


@pytest.fixture
def masked(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    secrets: list[str] = []
    monkeypatch.setattr(operators, "mask_secret", lambda secret, name=None: secrets.append(secret))
    return secrets


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> dict[str, Connection]:
    found: dict[str, Connection] = {"cnpii_key": Connection(password=KEY)}
    monkeypatch.setattr(operators.BaseHook, "get_connection", staticmethod(lambda conn_id: found[conn_id]))
    monkeypatch.delenv("CNPII_KEY", raising=False)
    monkeypatch.delenv("SHARE_KEY", raising=False)
    return found


def _deidentify(**kwargs: Any) -> DeidentifyOperator:
    return DeidentifyOperator(**{"task_id": "deidentify", "input_path": "in/", "output_path": "out/",
                                  "policy": POLICY, **kwargs})


def _fail_with(monkeypatch: pytest.MonkeyPatch, error: BaseException) -> None:
    def fail(*args: Any, **kwargs: Any) -> api.Summary:
        raise error
    monkeypatch.setattr(api, "run", fail)


def test_returns_the_summary_as_xcom_value(calls: list[dict[str, Any]]) -> None:
    ti = MagicMock()
    operator = _deidentify(mode="overwrite", scheduler="tcp://dask:8786", report="r/run.json")
    result = operator.execute({"ti": ti})
    assert result == _summary().to_dict()
    json.dumps(result)
    ti.xcom_push.assert_not_called()  # Airflow pushes the return value itself
    (call,) = calls
    assert call["command"] == "run" and call["args"] == ("in/", "out/", POLICY)
    assert (call["mode"], call["scheduler"], call["report"], call["storage_options"]) == \
        ("overwrite", "tcp://dask:8786", "r/run.json", None)


def test_leak_pushes_the_summary_then_fails_without_retry(monkeypatch: pytest.MonkeyPatch) -> None:
    leaked = _summary("leak", leaks=3)
    monkeypatch.setattr(api, "run", lambda *a, **k: leaked)
    ti = MagicMock()
    with pytest.raises(AirflowFailException, match="3 rows"):
        _deidentify().execute({"ti": ti})
    ti.xcom_push.assert_called_once_with(key="return_value", value=leaked.to_dict())


def test_a_missed_release_target_fails_without_retry(monkeypatch: pytest.MonkeyPatch) -> None:
    missed = _summary("risk")
    missed.risk = {"k": 2, "l": None, "target_k": 5, "suppressed_rows": 0, "passed": False}
    monkeypatch.setattr(api, "run", lambda *a, **k: missed)
    ti = MagicMock()
    with pytest.raises(AirflowFailException, match="release target"):
        _deidentify().execute({"ti": ti})
    ti.xcom_push.assert_called_once_with(key="return_value", value=missed.to_dict())


def test_leak_is_only_reported_when_fail_on_leak_is_off(monkeypatch: pytest.MonkeyPatch) -> None:
    leaked = _summary("leak", leaks=3)
    monkeypatch.setattr(api, "verify", lambda *a, **k: leaked)
    ti = MagicMock()
    operator = VerifyOperator(task_id="verify", output_path="out/", fail_on_leak=False)
    assert operator.execute({"ti": ti})["leaks"] == 3
    ti.xcom_push.assert_not_called()


@pytest.mark.parametrize("error", [PolicyError("p.yaml: actions.CN_PHONE: unknown action"),
                                   InputError("in/: no Parquet files"), OutputExistsError("out/: committed"),
                                   KeyMaterialError("no key in environment variable CNPII_KEY")])
def test_permanent_errors_fail_without_retry(monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    _fail_with(monkeypatch, error)
    ti = MagicMock()
    with pytest.raises(AirflowFailException, match=str(error)):
        _deidentify().execute({"ti": ti})
    ti.xcom_push.assert_not_called()


def test_a_policy_that_does_not_load_fails_without_retry(tmp_path: Path) -> None:
    """The real API: a missing policy file is refused before any data is read."""
    missing = tmp_path / "missing.yaml"
    with pytest.raises(AirflowFailException, match=r"missing\.yaml"):
        ScanOperator(task_id="scan", input_path=str(tmp_path), policy=str(missing)).execute({"ti": None})


@pytest.mark.parametrize("error", [StorageError("out/: connection reset"), DataError("in/part-0: truncated"),
                                   OSError("Timed out trying to connect to tcp://10.0.0.5:8786 after 30 s"),
                                   NoCredentialsError()])
def test_io_errors_propagate_for_airflow_to_retry(monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    _fail_with(monkeypatch, error)
    with pytest.raises(type(error)) as raised:
        _deidentify().execute({"ti": MagicMock()})
    assert raised.value is error


def test_unexpected_errors_withhold_their_message(monkeypatch: pytest.MonkeyPatch) -> None:
    _fail_with(monkeypatch, ValueError(f"cannot convert '{PHONE}' to int64"))
    with pytest.raises(CnpiiTaskError) as raised:
        _deidentify().execute({"ti": MagicMock()})
    assert "ValueError" in str(raised.value) and PHONE not in str(raised.value)
    assert raised.value.__traceback__ is not None and raised.value.__cause__ is None


def test_key_is_in_the_environment_only_during_execute_and_masked(
        calls: list[dict[str, Any]], connections: dict[str, Connection], masked: list[str]) -> None:
    operator = _deidentify(key_conn_id="cnpii_key")
    assert KEY not in repr(vars(operator))
    operator.execute({"ti": MagicMock()})
    assert calls[0]["env"]["CNPII_KEY"] == KEY
    assert "CNPII_KEY" not in os.environ
    assert KEY in masked


def test_key_goes_to_the_variable_the_policy_names_and_the_previous_value_returns(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, calls: list[dict[str, Any]],
        connections: dict[str, Connection], masked: list[str]) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\nkey: {env: SHARE_KEY}\nactions:\n  CN_PHONE: {action: tokenize}\n")
    monkeypatch.setenv("SHARE_KEY", "the worker's own value")
    _deidentify(policy=str(policy), key_conn_id="cnpii_key").execute({"ti": MagicMock()})
    assert calls[0]["env"] == {"CNPII_KEY": None, "SHARE_KEY": KEY}
    assert os.environ["SHARE_KEY"] == "the worker's own value"


def test_key_is_removed_after_a_failed_run(
        monkeypatch: pytest.MonkeyPatch, connections: dict[str, Connection], masked: list[str]) -> None:
    _fail_with(monkeypatch, StorageError("out/: connection reset"))
    with pytest.raises(StorageError):
        _deidentify(key_conn_id="cnpii_key").execute({"ti": MagicMock()})
    assert "CNPII_KEY" not in os.environ


def test_key_connection_cannot_feed_a_policy_that_reads_a_key_file(
        tmp_path: Path, calls: list[dict[str, Any]], connections: dict[str, Connection],
        masked: list[str]) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\nkey: {file: /run/secrets/cnpii}\n")
    with pytest.raises(AirflowFailException, match="from a file"):
        _deidentify(policy=str(policy), key_conn_id="cnpii_key").execute({"ti": MagicMock()})
    assert calls == []


def test_key_connection_without_password_fails_without_retry(
        calls: list[dict[str, Any]], connections: dict[str, Connection], masked: list[str]) -> None:
    connections["empty"] = Connection()
    with pytest.raises(AirflowFailException, match="'empty' has no password"):
        _deidentify(key_conn_id="empty").execute({"ti": MagicMock()})
    assert calls == []


def test_aws_connection_becomes_s3fs_options_with_the_secret_masked(
        calls: list[dict[str, Any]], connections: dict[str, Connection], masked: list[str]) -> None:
    extra = {"endpoint_url": "http://minio:9000", "region_name": "cn-north-1"}
    connections["exports"] = Connection("aws", login="AKIDEXAMPLE", password="s3-secret", extra=extra)
    scan = ScanOperator(task_id="scan", input_path="s3://exports/", storage_conn_id="exports")
    scan.execute({"ti": None})
    assert calls[0]["storage_options"] == {"key": "AKIDEXAMPLE", "secret": "s3-secret",
                                           "endpoint_url": "http://minio:9000",
                                           "client_kwargs": {"region_name": "cn-north-1"}}
    assert masked == ["s3-secret"]


def test_other_connection_types_pass_their_extra_as_fsspec_options(
        calls: list[dict[str, Any]], connections: dict[str, Connection], masked: list[str]) -> None:
    connections["lake"] = Connection("google_cloud_platform", extra={"project": "p", "token": "anon"})
    verify = VerifyOperator(task_id="verify", output_path="gs://share/", storage_conn_id="lake")
    verify.execute({"ti": None})
    assert calls[0]["storage_options"] == {"project": "p", "token": "anon"}


def test_storage_options_and_connection_are_exclusive() -> None:
    with pytest.raises(ValueError, match="not both"):
        ScanOperator(task_id="scan", input_path="in/", storage_options={}, storage_conn_id="exports")


def test_paths_policy_and_report_are_templated() -> None:
    assert set(DeidentifyOperator.template_fields) == {"input_path", "output_path", "policy", "report"}
    assert set(ScanOperator.template_fields) == {"input_path", "policy", "report"}
    assert set(VerifyOperator.template_fields) == {"output_path", "policy", "report"}


def test_importing_the_operators_leaves_the_heavy_dependencies_unloaded() -> None:
    """The scheduler imports this module whenever it parses a DAG file."""
    probe = ("import sys, pipeline.airflow.operators, pipeline.airflow.example_dags.cnpii_share_export\n"
             "print(sorted({m.split('.')[0] for m in sys.modules} & {'dask', 'pyarrow', 'presidio_analyzer',"
             " 'presidio_anonymizer', 'distributed', 'spacy', 'recognizers'}))")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]"


def test_provider_info_is_valid_and_airflow_discovers_it() -> None:
    import importlib.resources

    import jsonschema
    from airflow.providers_manager import ProvidersManager

    schema_file = importlib.resources.files("airflow") / "provider_info.schema.json"
    schema = json.loads(schema_file.read_text())
    jsonschema.validate(get_provider_info(), schema)
    assert ProvidersManager().providers["cnpii"].data["operators"] == get_provider_info()["operators"]


def test_an_incomplete_output_fails_without_retry_and_is_not_called_a_leak(
        monkeypatch: pytest.MonkeyPatch) -> None:
    incomplete = _summary("incomplete")
    monkeypatch.setattr(api, "run", lambda *a, **k: incomplete)
    ti = MagicMock()
    with pytest.raises(AirflowFailException, match="rows or files do not match") as raised:
        _deidentify().execute({"ti": ti})
    assert "personal data" not in str(raised.value) and "release target" not in str(raised.value)
    ti.xcom_push.assert_called_once_with(key="return_value", value=incomplete.to_dict())


@pytest.mark.parametrize("error", [PolicyError("p.yaml: bad"), PlanError("p.yaml: columns differ"),
                                   KeyMaterialError("no key"), InputError("in/: missing"),
                                   OutputExistsError("out/: committed"), StorageError("out/: reset"),
                                   OutputBusyError("out/: run r1 is writing here"),
                                   DataError("in/p: truncated"),
                                   NoCredentialsError(), ValueError(f"cannot convert '{PHONE}'")],
                         ids=lambda e: type(e).__name__)
def test_airflow_retries_exactly_what_the_cli_calls_transient(monkeypatch: pytest.MonkeyPatch,
                                                              error: Exception) -> None:
    """One mapping (`pipeline.errors.describe`): a terminal error fails the task for good with the message
    the CLI logs, a transient one is left to Airflow's retries."""
    from pipeline.cli import EXIT_RUNTIME, _report_error
    from pipeline.errors import Kind, describe

    _fail_with(monkeypatch, error)
    failure = describe(error)
    with pytest.raises(Exception) as raised:
        _deidentify().execute({"ti": MagicMock()})
    if failure.kind is Kind.TERMINAL:
        assert type(raised.value) is AirflowFailException
        assert str(raised.value) == f"cnpii run: {failure.message}"
        assert _report_error(error) != EXIT_RUNTIME
    else:
        assert not isinstance(raised.value, AirflowFailException)
        assert raised.value is error if failure.shown else isinstance(raised.value, CnpiiTaskError)
        assert _report_error(error) == EXIT_RUNTIME
    assert PHONE not in str(raised.value)
