"""The Python API: `scan`, `run` and `verify`. The CLI and the Airflow operator call these, so there is one
code path and one set of guarantees.

    from pipeline.api import run
    summary = run("exports/customers", "share/customers", policy="configs/collection_agency.yaml")
    summary.status            # "ok", or "leak" when verify found personal data left where it must not be

`run` follows the guide's data flow: plan (policy x schema; refused before any work if a key is missing
or a column cannot be scanned) -> transform each input file into a staging area inside the output ->
verify the staged files with the same recognizers -> commit (manifest, then `_SUCCESS` last) only when
verify passed -> report. A failed run leaves no committed output and never removes a previous good one.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib.metadata
import logging
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from dask import delayed

from pipeline import storage
from pipeline.actions import Action, build_action
from pipeline.execution import compute, local_session
from pipeline.partition import FileResult, integer_columns_with_pii, process_file, read_schema
from pipeline.plan import ColumnPlan, Mode, PlanError, is_fractional, is_integer_like, plan_columns
from pipeline.policy import Policy, build_actions, load_policy
from pipeline.report import column_entry, entity_totals, to_json, to_markdown
from pipeline.transform import ColumnStats

log = logging.getLogger("cnpii")

PolicyLike = Policy | str | Path | None
StorageOptions = Mapping[str, Any] | None


@dataclass
class Summary:
    """The small result every command returns (the CLI prints it as its last stdout line)."""

    command: str
    status: Literal["ok", "leak"]
    input: str | None = None
    output: str | None = None
    run_id: str | None = None
    rows: int = 0
    files: int = 0
    entities: dict[str, dict[str, int]] = field(default_factory=dict)
    leaks: int = 0
    manifest: str | None = None
    report: str | None = None
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: counts and locations, never values of the data."""
        return {k: v for k, v in asdict(self).items() if v is not None}


def _load(policy: PolicyLike) -> tuple[Policy, str]:
    if isinstance(policy, Policy):
        return policy, "<policy>"
    return load_policy(policy), str(policy) if policy is not None else "<default policy>"


def _display_masks(policy: Policy) -> dict[str, Action]:
    """Scan and verify never need the key: every rule is carried out as the display mask."""
    mask = build_action("mask", {}, None)
    return {where: mask for where, _ in policy.rules()}


def _same_schema(files: Sequence[storage.InputFile], storage_options: StorageOptions):
    """The dataset's schema; every file must have the same columns with the same types."""
    first, *rest = files
    schema = read_schema(first.url, first.relative_path, storage_options)
    for file in rest:
        other = read_schema(file.url, file.relative_path, storage_options)
        if other.names != schema.names:
            differ = sorted(set(other.names) ^ set(schema.names)) or "their order"
            raise PlanError(f"{file.relative_path}: columns differ from {first.relative_path} ({differ})")
        for name in schema.names:
            if other.field(name).type != schema.field(name).type:
                raise PlanError(
                    f"{file.relative_path}: column {name!r} is {other.field(name).type} here but "
                    f"{schema.field(name).type} in {first.relative_path}"
                )
    return schema


def _plan(
    files: Sequence[storage.InputFile],
    policy: Policy,
    source: str,
    actions: Mapping[str, Action],
    storage_options: StorageOptions,
    scheduler: str | None,
) -> list[ColumnPlan]:
    """Plan every column; numeric columns are probed for phones and IDs across all files first."""
    schema = _same_schema(files, storage_options)
    integers = [
        f.name
        for f in schema
        if (is_integer_like(f.type) or is_fractional(f.type)) and f.name not in policy.columns
    ]
    found: set[str] = set()
    if integers and policy.integer_columns == "scan":
        probes = [
            delayed(integer_columns_with_pii)(
                f.url, f.relative_path, integers, policy.entities, policy.threshold, storage_options
            )
            for f in files
        ]
        for hits in compute(probes, "probing integer columns", scheduler):
            found |= hits
    return plan_columns(schema, policy, actions, found, source)


def _scan_files(
    files: Sequence[storage.InputFile],
    plans: list[ColumnPlan],
    storage_options: StorageOptions,
    scheduler: str | None,
    label: str,
) -> list[FileResult]:
    looked_at = [p for p in plans if p.mode in (Mode.SCAN, Mode.DECLARED)]
    tasks = [delayed(process_file)(f.url, f.relative_path, looked_at, storage_options) for f in files]
    return compute(tasks, label, scheduler)


def _merge(results: Sequence[FileResult]) -> dict[str, ColumnStats]:
    merged: dict[str, ColumnStats] = {}
    for result in results:
        for name, stats in result.columns.items():
            merged.setdefault(name, ColumnStats()).add(stats)
    return merged


def _columns(results: Sequence[FileResult], plans: Sequence[ColumnPlan] = ()) -> dict[str, Any]:
    actions = {p.name: {e: a.name for e, a in p.actions.items()} for p in plans}
    return {name: column_entry(name, stats, actions.get(name)) for name, stats in _merge(results).items()}


def _residual(results: Sequence[FileResult], policy: Policy) -> dict[str, Any]:
    """Findings in output that the policy does not allow to stay (everything but `keep`)."""
    residual = {}
    for name, entry in _columns(results).items():
        kept = policy.allowed_entities(name)
        entities = {e: v for e, v in entry["entities"].items() if e not in kept}
        if entities:
            residual[name] = {**entry, "entities": entities}
    return residual


def _not_scanned(plans: Sequence[ColumnPlan]) -> list[str]:
    kept = [p.name for p in plans if p.mode is Mode.KEEP]
    return (
        [f"not scanned (kept by policy, or not a type that holds text or ID digits): {', '.join(kept)}"]
        if kept
        else []
    )


def _write_report(path: str | Path, report: Mapping[str, Any]) -> str:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(to_json(report), encoding="utf-8")
    path.with_suffix(".md").write_text(to_markdown(report), encoding="utf-8")
    return str(path)


def _elapsed(started: float) -> float:
    return round(time.monotonic() - started, 3)


def _one_local_pool(command: Callable[..., Summary]) -> Callable[..., Summary]:
    """Run a command's phases on one local worker pool (see `execution.local_session`)."""

    @functools.wraps(command)
    def in_session(*args: Any, **kwargs: Any) -> Summary:
        with local_session(kwargs.get("scheduler")):
            return command(*args, **kwargs)

    return in_session


@_one_local_pool
def scan(
    input: str,
    policy: PolicyLike = None,
    *,
    storage_options: StorageOptions = None,
    scheduler: str | None = None,
    report: str | Path | None = None,
) -> Summary:
    """Discover which columns hold which entities; nothing is written but the optional report."""
    started = time.monotonic()
    policy, source = _load(policy)
    files = storage.list_input_files(input, storage_options)
    plans = _plan(files, policy, source, _display_masks(policy), storage_options, scheduler)
    results = _scan_files(files, plans, storage_options, scheduler, "scanning")
    columns = _columns(results)
    summary = Summary(
        "scan",
        "ok",
        input=input,
        rows=sum(r.rows for r in results),
        files=len(files),
        entities=entity_totals(columns),
        seconds=_elapsed(started),
    )
    if report is not None:
        summary.report = _write_report(
            report, {**summary.to_dict(), "columns": columns, "notes": _not_scanned(plans)}
        )
    return summary


def _verify_files(
    files: Sequence[storage.InputFile],
    policy: Policy,
    source: str,
    storage_options: StorageOptions,
    scheduler: str | None,
) -> tuple[list[FileResult], dict[str, Any]]:
    verifying = policy.for_verify()
    plans = _plan(files, verifying, source, _display_masks(verifying), storage_options, scheduler)
    results = _scan_files(files, plans, storage_options, scheduler, "verifying")
    return results, _residual(results, policy)


@_one_local_pool
def verify(
    output: str,
    policy: PolicyLike = None,
    *,
    storage_options: StorageOptions = None,
    scheduler: str | None = None,
    report: str | Path | None = None,
) -> Summary:
    """Re-scan a de-identified dataset; status `leak` when personal data remains where the policy forbids it.

    Values already masked (`138****5678`) are not found by the recognizers, so they are not leaks.
    """
    started = time.monotonic()
    policy, source = _load(policy)
    files = storage.list_input_files(output, storage_options)
    results, residual = _verify_files(files, policy, source, storage_options, scheduler)
    leaks = sum(e["rows"] for column in residual.values() for e in column["entities"].values())
    summary = Summary(
        "verify",
        "leak" if leaks else "ok",
        output=output,
        rows=sum(r.rows for r in results),
        files=len(files),
        leaks=leaks,
        entities=entity_totals(residual),
        seconds=_elapsed(started),
    )
    if report is not None:
        summary.report = _write_report(report, {**summary.to_dict(), "columns": residual})
    return summary


def _versions() -> dict[str, str]:
    names = ("cnpii", "pyarrow", "dask", "presidio-analyzer", "phone", "cardbin", "python-stdnum")
    found = {}
    for name in names:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def new_run_id() -> str:
    """A sortable, unique run id: UTC time plus a random suffix."""
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:8]


@_one_local_pool
def run(
    input: str,
    output: str,
    policy: PolicyLike,
    *,
    storage_options: StorageOptions = None,
    scheduler: str | None = None,
    mode: Literal["error", "overwrite"] = "error",
    run_id: str | None = None,
    report: str | Path | None = None,
) -> Summary:
    """De-identify `input` into `output` by the policy; see the module docstring for the protocol.

    Returns status `leak` (and commits nothing) when verify finds personal data in the staged output.
    """
    started = time.monotonic()
    started_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    policy, source = _load(policy)
    keyring, actions = build_actions(policy, source)
    run_id = run_id or new_run_id()
    files = storage.list_input_files(input, storage_options)
    location = storage.OutputLocation(output, run_id, storage_options, mode)
    location.check([input])
    plans = _plan(files, policy, source, actions, storage_options, scheduler)
    try:
        tasks = [
            delayed(process_file)(
                f.url, f.relative_path, plans, storage_options, location.staged_url(f.relative_path)
            )
            for f in files
        ]
        results = compute(tasks, "de-identifying", scheduler)
        staged = location.staged_files()
        staged_inputs = [storage.InputFile(s.url, s.relative_path, s.bytes) for s in staged]
        _, residual = _verify_files(staged_inputs, policy, source, storage_options, scheduler)
    except BaseException:
        location.abort()
        raise
    columns = _columns(results, plans)
    rows_in = {r.relative_path: r.rows for r in results}
    rows_out = {s.relative_path: s.rows for s in staged}
    leaks = sum(e["rows"] for column in residual.values() for e in column["entities"].values())
    checks = [
        {
            "check": "no_residual_personal_data",
            "passed": leaks == 0,
            "detail": f"{leaks} rows with personal data the policy does not allow to stay",
        },
        {
            "check": "row_counts_preserved",
            "passed": rows_in == rows_out,
            "detail": f"{sum(rows_in.values())} rows in, {sum(rows_out.values())} rows out",
        },
        {
            "check": "every_input_file_written",
            "passed": set(rows_in) == set(rows_out),
            "detail": f"{len(rows_in)} input files, {len(rows_out)} output files",
        },
    ]
    passed = all(c["passed"] for c in checks)
    summary = Summary(
        "run",
        "ok" if passed else "leak",
        input=input,
        output=output,
        run_id=run_id,
        rows=sum(rows_in.values()),
        files=len(files),
        entities=entity_totals(columns),
        leaks=leaks,
    )
    document = {
        **summary.to_dict(),
        "started_at": started_at,
        "policy_digest": policy.digest,
        "key_fingerprint": keyring.fingerprint if keyring else None,
        "versions": _versions(),
        "inputs": [{"relative_path": f.relative_path, "bytes": f.size} for f in files],
        "columns": columns,
        "verify": {
            "status": "passed" if passed else "failed",
            "leaks": leaks,
            "checks": checks,
            "residual": residual,
        },
        "notes": [
            *_not_scanned(plans),
            "de-identified (PIPL art. 73(3)), not anonymized: masked values and "
            "keyed tokens are still personal information for the receiver"
        ],
    }
    if not passed:
        location.abort()
        log.error(
            "verify failed: %s; nothing was committed",
            "; ".join(c["detail"] for c in checks if not c["passed"]),
        )
    else:
        try:
            committed = location.commit(document)
        except BaseException:  # e.g. a full disk: the staged files go, a previous output stays complete
            location.abort()
            raise
        summary.manifest = committed.manifest_url
    summary.seconds = _elapsed(started)
    if report is not None:
        summary.report = _write_report(report, {**document, **summary.to_dict()})
    return summary
