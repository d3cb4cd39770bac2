"""Airflow operators that run cnpii's `scan`, `run` and `verify` (pipeline.api) as tasks.

    DeidentifyOperator(
        task_id="deidentify",
        input_path="s3://exports/customers/{{ ds }}/",
        output_path="s3://share/collection-agency/customers/{{ ds }}/",
        policy="/opt/cnpii/configs/collection_agency.yaml",
        storage_conn_id="exports_s3",   # an `aws` Connection: login/password -> key/secret
        key_conn_id="cnpii_key",        # the key is this Connection's password
    )

Each returns the run's small summary dict (counts and locations, never data values) as its XCom value.
Failures are mapped as the CLI maps them (`pipeline.errors.describe`):
- terminal ones fail the task without retry (AirflowFailException), because retrying cannot help: a bad
  policy, a missing or unusable key, a missing input, an output that already exists, and — with
  `fail_on_leak`, the default — a status other than ok (`leak`: verify found personal data; `incomplete`:
  the output's rows or files do not match the input's; `risk`: the release target was not met), after the
  summary is pushed to XCom, so downstream tasks and people can see what happened;
- transient ones propagate unchanged, so Airflow's retries apply: storage and partition I/O errors
  (StorageError, among them OutputBusyError for a lease another run holds; DataError) and infrastructure
  errors (network, credentials, the cluster);
- anything else may quote a cell value (pyarrow does), so it is re-raised with its message withheld,
  keeping its type and traceback (and retried).

The key reaches the pipeline only through the environment variable the policy names (default CNPII_KEY),
set for the duration of `execute` and restored afterwards: it is never an operator argument, a template
field, part of a Dask task graph or an XCom value, and it is registered with Airflow's secrets masker.
Local Dask workers inherit it; the workers of an external cluster (`scheduler=`) must have it themselves.

This module is imported when the scheduler parses DAG files, so it imports only Airflow and
`pipeline.errors` (the standard library only); cnpii's heavy dependencies (Dask, pyarrow, Presidio) are
imported inside `execute`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal

try:  # Airflow 3
    from airflow.sdk import BaseHook, BaseOperator
    from airflow.sdk.exceptions import AirflowException, AirflowFailException
    from airflow.sdk.log import mask_secret
except ImportError:  # Airflow 2.10+ (tested with 2.11)
    from airflow.exceptions import AirflowException, AirflowFailException
    from airflow.hooks.base import BaseHook
    from airflow.models import BaseOperator
    from airflow.utils.log.secrets_masker import mask_secret

if TYPE_CHECKING:
    from types import ModuleType

    from pipeline.api import Summary

from pipeline.errors import Kind, describe, failed_check


class CnpiiTaskError(RuntimeError):
    """An unexpected error inside cnpii, re-raised with its message withheld because it may quote data."""


def storage_options_from_connection(conn: Any) -> dict[str, Any]:
    """fsspec storage options from an Airflow Connection, with its secrets registered for masking.

    An `aws` Connection maps like Airflow's own: login -> key, password -> secret, extra `endpoint_url`,
    `region_name` and `aws_session_token` -> s3fs's endpoint_url, client_kwargs.region_name and token.
    For any other type the Connection's extra JSON is taken as the fsspec options as they are.
    """
    extra = dict(conn.extra_dejson)
    if conn.conn_type != "aws":
        return extra
    token = extra.get("aws_session_token")
    options: dict[str, Any] = {"key": conn.login, "secret": conn.password, "token": token,
                               "endpoint_url": extra.get("endpoint_url")}
    if extra.get("region_name"):
        options["client_kwargs"] = {"region_name": extra["region_name"]}
    for secret in (conn.password, token):
        if secret:
            mask_secret(secret)
    return {name: value for name, value in options.items() if value}


class CnpiiBaseOperator(BaseOperator):
    """What every cnpii operator shares: policy, storage access, scheduler, report, error mapping.

    A subclass names its command and calls the API in `call_api`; this class returns its summary.
    """

    template_fields: Sequence[str] = ("policy", "report")
    command: ClassVar[str]

    def __init__(self, *, policy: str | None = None, storage_options: Mapping[str, Any] | None = None,
                 storage_conn_id: str | None = None, scheduler: str | None = None, report: str | None = None,
                 fail_on_leak: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if storage_options is not None and storage_conn_id is not None:
            raise ValueError(f"{self.task_id}: give storage_options or storage_conn_id, not both")
        self.policy = policy
        self.storage_options = dict(storage_options) if storage_options is not None else None
        self.storage_conn_id = storage_conn_id
        self.scheduler = scheduler
        self.report = report
        self.fail_on_leak = fail_on_leak

    def call_api(self, api: ModuleType, storage_options: dict[str, Any] | None) -> Summary:
        """Run this operator's command through pipeline.api and return its Summary."""
        raise NotImplementedError

    def key_in_environment(self) -> contextlib.AbstractContextManager[None]:
        """The key the command needs, in the environment while it runs; scan and verify need none."""
        return contextlib.nullcontext()

    def _storage_options(self) -> dict[str, Any] | None:
        if self.storage_conn_id is None:
            return self.storage_options
        return storage_options_from_connection(BaseHook.get_connection(self.storage_conn_id))

    def execute(self, context: Any) -> dict[str, Any]:
        """Run the command; return its summary as the XCom value, or fail as the module docstring says."""
        from pipeline import api
        from pipeline.execution import local_scheduler

        local = local_scheduler(self.scheduler)
        where = f"local {local}" if local else self.scheduler
        self.log.info("cnpii %s on the %s scheduler", self.command, where)
        try:
            with self.key_in_environment():
                summary = self.call_api(api, self._storage_options())
        except AirflowException:
            raise
        except Exception as error:
            failure = describe(error)
            if failure.kind is Kind.TERMINAL:
                raise AirflowFailException(f"cnpii {self.command}: {failure.message}") from None
            if failure.shown:  # storage, credentials, network, cluster: shown, retried
                raise
            withheld = CnpiiTaskError(f"cnpii {self.command}: {failure.message}")
            raise withheld.with_traceback(error.__traceback__) from None
        result = summary.to_dict()
        self.log.info("cnpii %s: %s", self.command, result)
        failed = failed_check(self.command, summary)
        if failed is not None and self.fail_on_leak:
            context["ti"].xcom_push(key="return_value", value=result)
            raise AirflowFailException(f"cnpii {self.command}: {describe(failed).message}")
        return result


class DeidentifyOperator(CnpiiBaseOperator):
    """De-identify `input_path` into `output_path` by `policy`, verify, commit only verified output (api.run).

    `key_conn_id` names the Connection whose password is the key for tokenize/fake actions; `mode` is
    "error" (refuse an existing committed output) or "overwrite".
    """

    template_fields: Sequence[str] = ("input_path", "output_path", *CnpiiBaseOperator.template_fields)
    command = "run"

    def __init__(self, *, input_path: str, output_path: str, key_conn_id: str | None = None,
                 mode: Literal["error", "overwrite"] = "error", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if mode not in ("error", "overwrite"):
            raise ValueError(f"{self.task_id}: mode must be 'error' or 'overwrite', not {mode!r}")
        self.input_path = input_path
        self.output_path = output_path
        self.key_conn_id = key_conn_id
        self.mode = mode

    def call_api(self, api: ModuleType, storage_options: dict[str, Any] | None) -> Summary:
        """api.run with this task's arguments."""
        return api.run(self.input_path, self.output_path, self.policy, storage_options=storage_options,
                       scheduler=self.scheduler, mode=self.mode, report=self.report)

    @contextlib.contextmanager
    def key_in_environment(self) -> Iterator[None]:
        """Put the Connection's password into the variable the policy reads the key from, then restore it."""
        if self.key_conn_id is None:
            yield
            return
        from pipeline.keys import DEFAULT_KEY_ENV
        from pipeline.policy import PolicyError, load_policy

        source = load_policy(self.policy).key
        if source is not None and source.file:
            raise PolicyError(f"{self.policy}: key: the policy reads the key from a file, so key_conn_id "
                              f"{self.key_conn_id!r} cannot supply it; use key: {{env: ...}}")
        name = (source.env if source is not None else None) or DEFAULT_KEY_ENV
        key = BaseHook.get_connection(self.key_conn_id).password
        if not key:
            raise PolicyError(f"connection {self.key_conn_id!r} has no password; it holds the key")
        mask_secret(key, name)
        previous = os.environ.get(name)
        os.environ[name] = key
        try:
            yield
        finally:
            if previous is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = previous


class ScanOperator(CnpiiBaseOperator):
    """Discover which columns of `input_path` hold which entities (api.scan); writes only the report."""

    template_fields: Sequence[str] = ("input_path", *CnpiiBaseOperator.template_fields)
    command = "scan"

    def __init__(self, *, input_path: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.input_path = input_path

    def call_api(self, api: ModuleType, storage_options: dict[str, Any] | None) -> Summary:
        """api.scan with this task's arguments."""
        return api.scan(self.input_path, self.policy, storage_options=storage_options,
                        scheduler=self.scheduler, report=self.report)


class VerifyOperator(CnpiiBaseOperator):
    """Re-scan a de-identified `output_path` for personal data the policy forbids (api.verify)."""

    template_fields: Sequence[str] = ("output_path", *CnpiiBaseOperator.template_fields)
    command = "verify"

    def __init__(self, *, output_path: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.output_path = output_path

    def call_api(self, api: ModuleType, storage_options: dict[str, Any] | None) -> Summary:
        """api.verify with this task's arguments."""
        return api.verify(self.output_path, self.policy, storage_options=storage_options,
                          scheduler=self.scheduler, report=self.report)
