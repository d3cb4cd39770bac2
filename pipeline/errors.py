"""cnpii's errors, and how every failure is told to the people and schedulers who ran the command.

`CnpiiError` is the root of cnpii's own errors. Each class says of what `kind` it is — `terminal` when
trying again cannot help (a bad policy, unusable input, a missing key, an output that holds a result, a
check the data failed), `transient` when a later try can succeed (storage, a lease another run holds) —
and which exit code the CLI gives it. `describe` is the one place that maps any exception to that kind,
an exit code and a message: the CLI logs the message and exits with the code, the Airflow operators fail
a terminal error without retry and let a transient one be retried.

Messages never hold a cell value. cnpii's own name a file, a column, a key source and a reason. Library
errors about data can quote the value that failed (pyarrow: "Could not convert '13812345678'"), so their
messages are withheld; errors about infrastructure — I/O, network, credentials, the cluster — speak of
hosts, paths and settings, and are shown, so an operator at 3 a.m. sees "Unable to locate credentials"
rather than "unexpected NoCredentialsError".

This module imports nothing but the standard library: the CLI and the Airflow operators load it before
(and without) the pipeline.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import ClassVar, Protocol

EXIT_OK, EXIT_DATA_CHECK, EXIT_USAGE, EXIT_RUNTIME = 0, 1, 2, 3
"""CLI exit codes: ok; the data failed a check; usage, policy or input error; runtime error."""

INFRASTRUCTURE_MODULES = ("botocore", "aiobotocore", "s3fs", "gcsfs", "adlfs", "distributed", "tornado")
"""Libraries whose errors speak of credentials, connections and clusters, never of cell values."""


class Kind(enum.StrEnum):
    """Whether trying the same command again can succeed."""

    TERMINAL = "terminal"
    """It cannot without a change (policy, input, key, data): a scheduler must not retry it."""
    TRANSIENT = "transient"
    """It can (storage, network, a lease another run holds): a scheduler's retries apply."""


class CnpiiError(Exception):
    """The root of cnpii's errors. The message names files, columns, key sources and reasons, never a
    cell value, so it is always shown as it is."""

    kind: ClassVar[Kind] = Kind.TERMINAL
    exit_code: ClassVar[int] = EXIT_USAGE


class UsageError(CnpiiError):
    """The command cannot succeed as given: a policy, an input, an output or a key must change first."""

    kind = Kind.TERMINAL
    exit_code = EXIT_USAGE


class TransientError(CnpiiError):
    """Storage or a shared resource failed at run time; a later try can succeed."""

    kind = Kind.TRANSIENT
    exit_code = EXIT_RUNTIME


class CheckFailed(CnpiiError):
    """The data failed a check, so nothing was committed (a run) or the dataset is not fit to share
    (verify, risk). The API returns these as a summary's `status`; `failed_check` turns a status into
    one of these so that it is told like any other failure."""

    kind = Kind.TERMINAL
    exit_code = EXIT_DATA_CHECK
    status: ClassVar[str]


class LeakFound(CheckFailed):
    """Verify found personal data where the policy forbids it (status `leak`)."""

    status = "leak"


class OutputIncomplete(CheckFailed):
    """The output's rows or files do not match the input's (status `incomplete`)."""

    status = "incomplete"


class RiskTargetMissed(CheckFailed):
    """The release target (k, l, suppression) was not met (status `risk`)."""

    status = "risk"


class SummaryLike(Protocol):
    """What `failed_check` reads of a command's summary (`pipeline.api.Summary`, `RiskSummary`)."""

    status: str


def failed_check(command: str, summary: SummaryLike) -> CheckFailed | None:
    """The failure a command's summary stands for (None when its status is `ok`), told with counts only;
    a run that did not commit says so."""
    committed = "; nothing was committed" if command == "run" else ""
    if summary.status == "ok":
        return None
    if summary.status == "leak":
        leaks = getattr(summary, "leaks", 0)
        return LeakFound(f"verify found {leaks} rows with personal data the policy does not allow to stay")
    if summary.status == "incomplete":
        return OutputIncomplete(f"the output's rows or files do not match the input's{committed}")
    if summary.status == "risk":
        risk = getattr(summary, "risk", None)
        return RiskTargetMissed(f"the release target was not met ({risk}){committed}")
    raise ValueError(f"unknown status {summary.status!r}")


@dataclass(frozen=True)
class Failure:
    """How one failure is told: its kind, the CLI's exit code and a message without cell values."""

    kind: Kind
    exit_code: int
    message: str
    shown: bool
    """Whether the exception's own message is safe to pass on as it is (cnpii's and infrastructure
    errors); False when it was withheld because it may quote data."""


def speaks_of_infrastructure(error: BaseException) -> bool:
    """Whether `error` cannot quote a cell: an OSError (an unreachable scheduler, a missing file), or an
    error of a storage or Dask library. pyarrow's data errors are ValueErrors and are not among them."""
    module = type(error).__module__ or ""
    return isinstance(error, OSError) or module.split(".")[0] in INFRASTRUCTURE_MODULES


def describe(error: BaseException, *, where_to_look: str = "the traceback shows where") -> Failure:
    """The kind, exit code and message of any exception: the one mapping the CLI and Airflow share.

    cnpii's errors tell their own kind. Infrastructure errors are transient and shown with their type.
    Anything else may quote a cell value (pyarrow does), so its message is withheld (`where_to_look`
    tells the reader how to find the place in the code); it is treated as transient, as before this
    mapping existed: a retry costs little, a retry never made costs a day's share.
    """
    if isinstance(error, CnpiiError):
        return Failure(error.kind, error.exit_code, str(error), True)
    if speaks_of_infrastructure(error):
        return Failure(Kind.TRANSIENT, EXIT_RUNTIME, f"{type(error).__name__}: {error}", True)
    withheld = f"unexpected {type(error).__name__} (message withheld: it may quote data; {where_to_look})"
    return Failure(Kind.TRANSIENT, EXIT_RUNTIME, withheld, False)

