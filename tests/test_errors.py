"""One error root and one mapping: every failure gets a kind (terminal or transient), an exit code and a
message without cell values, the same for the CLI and for Airflow."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pyarrow as pa
import pytest
from botocore.exceptions import NoCredentialsError

from pipeline import api, cli
from pipeline.errors import (
    EXIT_DATA_CHECK,
    EXIT_RUNTIME,
    EXIT_USAGE,
    CheckFailed,
    CnpiiError,
    Kind,
    LeakFound,
    OutputIncomplete,
    RiskTargetMissed,
    describe,
    failed_check,
)
from pipeline.keys import KeyMaterialError
from pipeline.partition import DataError
from pipeline.plan import PlanError
from pipeline.policy import PolicyError
from pipeline.storage import InputError, OutputBusyError, OutputExistsError, StorageError

PHONE = "13812345678"

TERMINAL = [
    PolicyError("p.yaml: actions.CN_PHONE: unknown action"),
    PlanError("p.yaml: columns ['x'] are named in the policy but not in the data"),
    KeyMaterialError("no key in environment variable CNPII_KEY"),
    InputError("in/: the input does not exist"),
    OutputExistsError("out/: already holds a committed result"),
]
TRANSIENT = [
    StorageError("out/part-0.parquet: cannot write (Connection reset by peer)"),
    OutputBusyError("out/: run 20260101T000000Z-abcd1234 is writing here (_LEASE.json)"),
    DataError("part-0.parquet: cannot read data pages (OSError); the file is corrupt or truncated"),
]


@pytest.mark.parametrize("error", TERMINAL, ids=lambda e: type(e).__name__)
def test_bad_policies_inputs_outputs_and_keys_are_terminal_usage_errors(error: Exception) -> None:
    failure = describe(error)
    assert (failure.kind, failure.exit_code, failure.message, failure.shown) == \
        (Kind.TERMINAL, EXIT_USAGE, str(error), True)


@pytest.mark.parametrize("error", TRANSIENT, ids=lambda e: type(e).__name__)
def test_storage_errors_and_a_busy_output_are_transient_runtime_errors(error: Exception) -> None:
    failure = describe(error)
    assert (failure.kind, failure.exit_code, failure.message, failure.shown) == \
        (Kind.TRANSIENT, EXIT_RUNTIME, str(error), True)


def test_the_storage_errors_derive_from_the_root_and_keep_their_old_bases() -> None:
    """`except ValueError` / `except RuntimeError` written against the old classes still catch them."""
    for error_class, old_base in [(InputError, ValueError), (OutputExistsError, ValueError),
                                  (StorageError, RuntimeError), (OutputBusyError, RuntimeError),
                                  (PolicyError, ValueError), (KeyMaterialError, ValueError),
                                  (DataError, RuntimeError)]:
        assert issubclass(error_class, CnpiiError) and issubclass(error_class, old_base)
    assert issubclass(OutputBusyError, StorageError)


def test_infrastructure_errors_are_transient_and_shown_with_their_type() -> None:
    for error, shown in [(NoCredentialsError(), "NoCredentialsError: Unable to locate credentials"),
                         (ConnectionRefusedError(111, "Connection refused"), "ConnectionRefusedError")]:
        failure = describe(error)
        assert (failure.kind, failure.exit_code, failure.shown) == (Kind.TRANSIENT, EXIT_RUNTIME, True)
        assert failure.message.startswith(shown)


def test_other_errors_withhold_their_message() -> None:
    """pyarrow quotes the value it could not convert: only the error's type is told."""
    failure = describe(pa.ArrowInvalid(f"Could not convert '{PHONE}' with type str"), where_to_look="look")
    assert (failure.kind, failure.exit_code, failure.shown) == (Kind.TRANSIENT, EXIT_RUNTIME, False)
    assert failure.message == "unexpected ArrowInvalid (message withheld: it may quote data; look)"


@pytest.mark.parametrize(("status", "failed", "said"), [
    ("leak", LeakFound, "verify found 3 rows with personal data"),
    ("incomplete", OutputIncomplete, "the output's rows or files do not match the input's; nothing was "
     "committed"),
    ("risk", RiskTargetMissed, "the release target was not met ({'k': 2}); nothing was committed"),
])
def test_a_status_other_than_ok_is_a_terminal_data_check_failure(status: str, failed: type[CheckFailed],
                                                                 said: str) -> None:
    summary = api.Summary("run", status, leaks=3 if status == "leak" else 0,  # type: ignore[arg-type]
                          risk={"k": 2} if status == "risk" else None)
    error = failed_check("run", summary)
    assert isinstance(error, failed) and error.status == status
    failure = describe(error)
    assert (failure.kind, failure.exit_code) == (Kind.TERMINAL, EXIT_DATA_CHECK)
    assert failure.message.startswith(said)
    assert failed_check("run", api.Summary("run", "ok")) is None


def test_verify_and_risk_statuses_do_not_speak_of_a_commit() -> None:
    assert "committed" not in str(failed_check("verify", api.Summary("verify", "risk")))
    assert isinstance(failed_check("risk", SimpleNamespace(status="risk")), RiskTargetMissed)
    with pytest.raises(ValueError, match="unknown status 'odd'"):
        failed_check("run", SimpleNamespace(status="odd"))


@pytest.mark.parametrize("error", [*TERMINAL, *TRANSIENT, NoCredentialsError(),
                                   pa.ArrowInvalid(f"Could not convert '{PHONE}'")],
                         ids=lambda e: type(e).__name__)
def test_the_cli_exits_and_logs_as_the_mapping_says(error: Exception, caplog: pytest.LogCaptureFixture,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    logger = logging.getLogger("cnpii")  # a CLI run in another test replaces its handlers, unsets propagate
    monkeypatch.setattr(logger, "handlers", [])
    monkeypatch.setattr(logger, "propagate", True)
    caplog.set_level(logging.DEBUG, "cnpii")
    assert cli._report_error(error) == describe(error).exit_code
    (record, *stack) = caplog.records
    assert record.levelno == logging.ERROR
    assert record.getMessage() == describe(error, where_to_look="--log-level DEBUG shows where").message
    assert PHONE not in caplog.text and bool(stack) is not describe(error).shown
