"""The Python API: `scan`, `run`, `verify` and `risk`. The CLI and the Airflow operator call these, so there
is one code path and one set of guarantees.

    from pipeline.api import run
    summary = run("exports/customers", "share/customers", policy="configs/collection_agency.yaml")
    summary.status            # "ok"; "leak" when verify found personal data left where it must not be;
                              # "incomplete" when the output's rows or files do not match the input's;
                              # "risk" when the policy's release target (k, l) was not met

`run` goes through named steps, each a function below: start (load the policy, build its actions — a
missing key is refused here —, list the input, check the output) -> plan (policy x schema, numeric columns
probed; refused before any work if a column cannot be scanned or a name holds personal data) -> with a
`release:` block, plan the release: measure it and choose how far to generalize (`pipeline.release`) ->
transform each input file into a staging area inside the output, under a lease on the output -> match
known values: a number reported in one place and left below the threshold in another is reported there
too, its files transformed again (`pipeline.known`) -> verify the staged files at the fail-closed
defaults, and check that every input row and file was written -> commit (manifest, then `_SUCCESS`
last) only when every check passed -> report. A failed run leaves no committed output and never removes
a previous good one.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib.metadata
import logging
import time
import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
from dask import delayed

from pipeline import preflight, storage
from pipeline.actions import Action
from pipeline.execution import compute, fold, session, share_secret
from pipeline.keys import KeyMaterialError, Keyring, KeySource
from pipeline.known import KnownTask, SessionKey
from pipeline.known import match as match_known
from pipeline.lattice import Decision
from pipeline.names import display_names
from pipeline.partition import (
    FileResult,
    integer_columns_with_pii,
    process_file,
    read_schema,
)
from pipeline.plan import (
    ColumnPlan,
    Mode,
    PlanError,
    is_fractional,
    is_integer_like,
    plan_columns,
)
from pipeline.policy import Policy, PolicyError, Release, build_actions, load_policy, parse_policy
from pipeline.release import (
    ReleaseSpec,
    ReleaseStep,
    Target,
    decide,
    file_class_counts,
    measured_section,
    prepare_release,
    release_counts,
    release_report,
)
from pipeline.report import column_entry, entity_totals, to_json, to_markdown
from pipeline.report_html import to_html
from pipeline.risk import RiskFigures, add_part, class_counts, count_people, measure, merge_counts
from pipeline.transform import DISPLAY_MASK, ColumnStats
from recognizers import DEFAULT_THRESHOLD, ENTITIES
from recognizers.known import EMPTY

log = logging.getLogger("cnpii")

PolicyLike = Policy | str | Path | None
StorageOptions = Mapping[str, Any] | None


Status = Literal["ok", "leak", "incomplete", "risk"]
"""A command's outcome: `ok`; `leak`, personal data left where the policy forbids it; `incomplete`, the
output's rows or files do not match the input's (a run only); `risk`, the release target (k, l) not met.
Anything but `ok` is exit 1 (`pipeline.errors.failed_check`), and a run that is not `ok` commits nothing."""


@dataclass
class Summary:
    """The small result every command returns (the CLI prints it as its last stdout line)."""

    command: str
    status: Status
    input: str | None = None
    output: str | None = None
    run_id: str | None = None
    rows: int = 0
    files: int = 0
    entities: dict[str, dict[str, int]] = field(default_factory=dict)
    leaks: int = 0
    names_with_personal_data: int | None = None
    """Partition values, file names and column names holding personal data (scan lists them; a run
    refuses such a dataset; verify counts them as leaks)."""
    allowed_residuals: dict[str, dict[str, int]] | None = None
    """Rows per column and entity found in the output that the policy lets through on purpose (`keep`,
    fakes, BIN-keeping tokens): verify cannot tell them from real values."""
    risk: dict[str, Any] | None = None
    """k, l, suppression and whether the release target was met (policies with a `release:` block; the
    report and the manifest hold the whole `release` section)."""
    manifest: str | None = None
    report: str | None = None
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: counts and locations, never values of the data."""
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass
class Check:
    """One named check a run must pass before it commits, with a sentence of counts saying how it went."""

    check: str
    passed: bool
    detail: str


@dataclass
class VerifySection:
    """The manifest's `verify`: the re-scan of the staged output and every check of the run."""

    status: Literal["passed", "failed"]
    leaks: int
    checks: list[Check]
    residual: dict[str, Any]
    """Report entries of personal data left where the policy forbids it, per column (display keys)."""


@dataclass
class ManifestInput:
    """One input file as the manifest lists it."""

    relative_path: str
    bytes: int


@dataclass
class RunManifest:
    """What a run records in `_MANIFEST.json` (the commit adds the `outputs` with their rows and sha256)
    and, with the summary's final fields, in its report. Counts, names and digests; never a value of the
    data, never the key."""

    summary: Summary
    """Its fields open the document, as they stood before the commit."""
    started_at: str
    policy_digest: str
    policy: dict[str, Any]
    """The policy as run, so that verify without a policy checks the output by it (a key only by its
    source)."""
    key_fingerprint: str | None
    versions: dict[str, str]
    inputs: list[ManifestInput]
    columns: dict[str, Any]
    """Report entries per column of what the transform found, under display keys."""
    verify: VerifySection
    known_values: dict[str, Any]
    """How known values were matched across files (`pipeline.known`): whether they were, how many numbers
    left below the threshold the run reported elsewhere, and how many files were transformed again."""
    release: dict[str, Any] | None
    """The release section (`pipeline.release.release_report`), with a `release:` block only."""
    notes: list[str]

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready document, keys in the order the manifest has always had them."""
        document = {
            **self.summary.to_dict(),
            "started_at": self.started_at,
            "policy_digest": self.policy_digest,
            "policy": self.policy,
            "key_fingerprint": self.key_fingerprint,
            "versions": self.versions,
            "inputs": [asdict(i) for i in self.inputs],
            "columns": self.columns,
            "verify": asdict(self.verify),
            "known_values": self.known_values,
        }
        if self.release:
            document["release"] = self.release
        document["notes"] = self.notes
        return document


def _release_summary(release: Mapping[str, Any]) -> dict[str, Any]:
    """The summary line's part of a release section: the figures an operator checks at a glance."""
    measured = release.get("measured") or {}
    return {"k": measured.get("k"), "l": measured.get("l"), "target_k": release["target"]["k_anonymity"],
            "suppressed_rows": (release.get("suppressed") or {}).get("rows"), "passed": release["passed"]}


def _load(policy: PolicyLike) -> tuple[Policy, str]:
    if isinstance(policy, Policy):
        return policy, "<policy>"
    return load_policy(policy), str(policy) if policy is not None else "<default policy>"


def _display_masks(policy: Policy) -> dict[str, Action]:
    """Scan and verify never need the key: every rule is carried out as the display mask."""
    return {where: DISPLAY_MASK for where, _, _ in policy.rules()}


def _same_schema(files: Sequence[storage.InputFile], storage_options: StorageOptions):
    """The dataset's schema; every file must have the same columns with the same types. A column typed
    null in a file (all null: what pyarrow infers for an empty frame) takes the type the others give it."""
    first, *rest = files
    schema = read_schema(first.url, first.relative_path, storage_options)
    typed_in = {name: first.relative_path for name in schema.names}
    for file in rest:
        other = read_schema(file.url, file.relative_path, storage_options)
        if other.names != schema.names:
            differ = sorted(set(other.names) ^ set(schema.names)) or "their order"
            raise PlanError(f"{file.relative_path}: columns differ from {first.relative_path} ({differ})")
        for index, name in enumerate(schema.names):
            mine, theirs = schema.field(name).type, other.field(name).type
            if pa.types.is_null(theirs) or mine == theirs:
                continue
            if pa.types.is_null(mine):
                schema = schema.set(index, schema.field(name).with_type(theirs))
                typed_in[name] = file.relative_path
                continue
            raise PlanError(
                f"{file.relative_path}: column {name!r} is {theirs} here but {mine} in {typed_in[name]}"
            )
    return schema


def _plan(
    files: Sequence[storage.InputFile],
    policy: Policy,
    source: str,
    actions: Mapping[str, Action],
    storage_options: StorageOptions,
    scheduler: str | None,
    probed: Collection[str] = (),
) -> list[ColumnPlan]:
    """Plan every column; numeric columns are probed for phones and IDs across all files first, but for
    those a probe already found clean (`probed`)."""
    schema = _same_schema(files, storage_options)
    integers = [
        f.name
        for f in schema
        if (is_integer_like(f.type) or is_fractional(f.type)) and f.name not in policy.columns
        and f.name not in probed
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
    known: Callable[[str], KnownTask | None] = lambda _: None,
) -> list[FileResult]:
    looked_at = [p for p in plans if p.mode in (Mode.SCAN, Mode.DECLARED)]
    tasks = [delayed(process_file)(f.url, f.relative_path, looked_at, storage_options,
                                   known=known(f.relative_path)) for f in files]
    return compute(tasks, label, scheduler)


def _merge(results: Sequence[FileResult]) -> dict[str, ColumnStats]:
    merged: dict[str, ColumnStats] = {}
    for result in results:
        for name, stats in result.columns.items():
            merged.setdefault(name, ColumnStats()).add(stats)
    return merged


def _column_entries(results: Sequence[FileResult], plans: Sequence[ColumnPlan] = ()
                    ) -> list[tuple[str, str, dict[str, Any]]]:
    """(column, the key reports show it under, report entry) per column found in. The key is the
    column's display name (`names.display_names`: masked where the name holds personal data), made
    unique (` #2`) where two names mask alike."""
    actions = {p.name: {e: a.name for e, a in p.actions.items()} for p in plans}
    entries, keys = [], set()
    merged = _merge(results)
    displayed = display_names(list(merged))
    for name, stats in merged.items():
        key = shown = displayed[name]
        number = 1
        while key in keys:
            number += 1
            key = f"{shown} #{number}"
        keys.add(key)
        entries.append((name, key, column_entry(name, stats, actions.get(name))))
    return entries


def _columns(results: Sequence[FileResult], plans: Sequence[ColumnPlan] = ()) -> dict[str, Any]:
    """Report entries per column, under their display keys (`_column_entries`)."""
    return {key: entry for _, key, entry in _column_entries(results, plans)}


def _residual(results: Sequence[FileResult], policy: Policy) -> tuple[dict[str, Any], dict[str, Any]]:
    """Findings in output that the policy does not allow to stay (report entries per column), and those
    it lets through on purpose (`keep`, fakes, BIN-keeping tokens): rows per column and entity."""
    residual, allowed = {}, {}
    for name, key, entry in _column_entries(results):
        kept = policy.allowed_entities(name)
        entities = {e: v for e, v in entry["entities"].items() if e not in kept}
        if entities:
            residual[key] = {**entry, "entities": entities}
        if through := {e: v["rows"] for e, v in entry["entities"].items() if e in kept}:
            allowed[key] = through
    return residual, allowed


def _leak_rows(residual: Mapping[str, Any]) -> int:
    """Rows with personal data left where the policy forbids it, over all columns and entities."""
    return sum(e["rows"] for column in residual.values() for e in column["entities"].values())


def _log_residual(residual: Mapping[str, Any]) -> None:
    """One error line per column and entity left where the policy forbids it (counts, never values)."""
    for name, column in residual.items():
        for entity, entry in column["entities"].items():
            log.error("personal data left: column %r holds %s in %d rows", name, entity, entry["rows"])


def _log_throughput(what: str, rows: int, files: int, started: float) -> None:
    seconds = time.monotonic() - started
    log.info("%s %d rows in %d files in %.1f s (%.0f rows/s)", what, rows, files, seconds,
             rows / seconds if seconds else 0)


def _not_scanned(plans: Sequence[ColumnPlan]) -> list[str]:
    kept = list(display_names([p.name for p in plans if p.mode is Mode.KEEP]).values())
    return (
        [f"not scanned (kept by policy, or not a type that holds text or ID digits): {', '.join(kept)}"]
        if kept
        else []
    )


def _write_report(path: str | Path, report: Mapping[str, Any]) -> str:
    """The JSON report (the source of truth) and its rendering for people: Markdown beside `x.json`, or
    a self-contained HTML page at `x.html` with the JSON beside it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() in (".html", ".htm"):
        path.write_text(to_html(report), encoding="utf-8")
        path.with_suffix(".json").write_text(to_json(report), encoding="utf-8")
    else:
        path.write_text(to_json(report), encoding="utf-8")
        path.with_suffix(".md").write_text(to_markdown(report), encoding="utf-8")
    return str(path)


def _elapsed(started: float) -> float:
    return round(time.monotonic() - started, 3)


def _in_session(command: Callable[..., Summary]) -> Callable[..., Summary]:
    """Run a command's phases in one session: one secret, and one local worker pool (`execution.session`)."""

    @functools.wraps(command)
    def in_session(*args: Any, **kwargs: Any) -> Summary:
        with session(kwargs.get("scheduler")):
            return command(*args, **kwargs)

    return in_session


@_in_session
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
    _log_throughput("scanned", sum(r.rows for r in results), len(files), started)
    columns = _columns(results)
    names = preflight.personal_names(files, [p.name for p in plans])
    release = None
    if policy.release is not None:  # the risk of the input as it is, before de-identification
        spec = prepare_release(policy.release, plans, files, storage_options, None, source)
        assert spec is not None
        release = _measure_as_is(files, policy.release, spec.quasi_identifiers, storage_options, scheduler,
                                 people=True)
    summary = Summary(
        "scan",
        "ok",
        input=input,
        rows=sum(r.rows for r in results),
        files=len(files),
        entities=entity_totals(columns),
        names_with_personal_data=len(names) or None,
        risk=_release_summary(release) if release else None,
        seconds=_elapsed(started),
    )
    if report is not None:
        notes = [*_not_scanned(plans), *(f"{name} (a run refuses this dataset)" for name in names)]
        document = {**summary.to_dict(), "columns": columns, "notes": notes}
        summary.report = _write_report(report, {**document, "release": release} if release else document)
    return summary


def _counted(tasks: Sequence[Any], label: str, scheduler: str | None) -> pa.Table | None:
    """The class counts of a dataset from tasks that count one file each (None for a file without rows),
    summed as they arrive, people counted (`risk.count_people`); None when no file had rows."""
    parts = fold(tasks, label, scheduler, _add_counts, [])
    return count_people(parts) if parts else None


def _add_counts(parts: list[pa.Table], part: pa.Table | None) -> list[pa.Table]:
    return parts if part is None else add_part(parts, part)


def _measure_as_is(files: Sequence[storage.InputFile], release: Release, columns: Sequence[str],
                   storage_options: StorageOptions, scheduler: str | None, people: bool) -> dict[str, Any]:
    """The release section for a dataset measured as it is: scan measures an input, counting people by
    its person column; verify an output, counting rows, since an output's person column is masked,
    tokenized or generalized and no longer tells people apart (its run counted them on the originals)."""
    target = Target.of(release)
    person = release.person if people else None
    figures = measure_dataset(files, columns, person, target.sensitive, storage_options, scheduler,
                              release.k_anonymity)
    return measured_section(figures, columns, person, target)


def measure_dataset(files: Sequence[storage.InputFile], columns: Sequence[str], person: str | None,
                    sensitive: str | None, storage_options: StorageOptions, scheduler: str | None,
                    target_k: int | None = None) -> RiskFigures:
    """Re-identification risk of `files` over the quasi-identifier `columns` as they are (one Dask task
    per file; the parts are summed)."""
    tasks = [delayed(file_class_counts)(f.url, f.relative_path, list(columns), person, sensitive,
                                        storage_options) for f in files]
    counts = _counted(tasks, "measuring re-identification risk", scheduler)
    if counts is None:  # no rows: no class
        empty = pa.array([], pa.string())
        counts = class_counts({f"q{i}": empty for i in range(len(columns))},
                              pa.array([], pa.int64()) if person else None)
    return measure(counts, [f"q{i}" for i in range(len(columns))], names=columns, target_k=target_k)


def _verify_files(
    files: Sequence[storage.InputFile],
    policy: Policy,
    source: str,
    storage_options: StorageOptions,
    scheduler: str | None,
    probed: Collection[str] = (),
    known: Callable[[str], KnownTask | None] = lambda _: None,
) -> tuple[list[FileResult], dict[str, Any], dict[str, Any]]:
    """Scan `files` at the fail-closed defaults (`Policy.for_verify`): the results, the residual
    personal data the policy forbids, and what it lets through on purpose. `probed`: numeric columns
    already found clean at settings at least as strict (`_probed_clean`); `known`: each file's known
    values (a run's own verify)."""
    verifying = policy.for_verify()
    plans = _plan(files, verifying, source, _display_masks(verifying), storage_options, scheduler, probed)
    results = _scan_files(files, plans, storage_options, scheduler, "verifying", known)
    return results, *_residual(results, policy)


@_in_session
def verify(
    output: str,
    policy: PolicyLike = None,
    *,
    storage_options: StorageOptions = None,
    scheduler: str | None = None,
    report: str | Path | None = None,
) -> Summary:
    """Re-scan a de-identified dataset; status `leak` when personal data remains where the policy forbids it.

    Values already masked (`138****5678`) are not found by the recognizers, so they are not leaks. Without
    a policy, a cnpii output is verified by the policy its run recorded in `_MANIFEST.json`.
    """
    started = time.monotonic()
    manifest = _manifest_if_any(output, storage_options)
    policy, source = _load(policy) if policy is not None else _recorded_policy(output, manifest)
    files = storage.list_input_files(output, storage_options)
    results, residual, allowed = _verify_files(files, policy, source, storage_options, scheduler)
    columns = read_schema(files[0].url, files[0].relative_path, storage_options).names
    names = preflight.personal_names(files, columns)
    leaks = _leak_rows(residual) + len(names)
    for name in names:
        log.error("personal data left in a name: %s", name)
    if leaks:
        _log_residual(residual)
    release = None
    if policy.release is not None:
        columns = _released_quasi_identifiers(manifest, policy, source, files, storage_options, scheduler)
        release = _measure_as_is(files, policy.release, columns, storage_options, scheduler, people=False)
    summary = Summary(
        "verify",
        "leak" if leaks else ("risk" if release and not release["passed"] else "ok"),
        output=output,
        rows=sum(r.rows for r in results),
        files=len(files),
        leaks=leaks,
        allowed_residuals=allowed or None,
        entities=entity_totals(residual),
        risk=_release_summary(release) if release else None,
        seconds=_elapsed(started),
    )
    if report is not None:
        document = {**summary.to_dict(), "policy_source": source, "columns": residual}
        summary.report = _write_report(report, {**document, "release": release} if release else document)
    return summary


def _manifest_if_any(output: str, storage_options: StorageOptions) -> dict[str, Any]:
    """The manifest of a complete cnpii output, read once; empty for any other dataset."""
    try:
        return storage.read_manifest(output, storage_options)
    except storage.InputError:
        return {}


def _recorded_policy(output: str, manifest: Mapping[str, Any]) -> tuple[Policy, str]:
    """The policy a cnpii output was made with (recorded in its manifest), else the default policy."""
    if manifest.get("policy") is None:
        return load_policy(None), "<default policy>"
    source = f"{output}/{storage.MANIFEST} (the policy of the run that made it)"
    return parse_policy(manifest["policy"], source), source


def _released_quasi_identifiers(manifest: Mapping[str, Any], policy: Policy, source: str,
                                files: Sequence[storage.InputFile], storage_options: StorageOptions,
                                scheduler: str | None) -> list[str]:
    """The quasi-identifiers of an output: those its run measured (in its manifest), else the policy's
    (`auto` judged on the output as it is)."""
    recorded = manifest.get("release") or {}
    if recorded.get("quasi_identifiers"):
        return list(recorded["quasi_identifiers"])
    verifying = policy.for_verify()
    plans = _plan(files, verifying, source, _display_masks(verifying), storage_options, scheduler)
    spec = prepare_release(policy.release, plans, files, storage_options, None, source)
    assert spec is not None
    return spec.quasi_identifiers


@dataclass
class RiskSummary:
    """What `risk` returns: the figures at the top level of its summary line."""

    status: Literal["ok", "risk"]
    input: str
    files: int
    quasi_identifiers: list[str]
    figures: RiskFigures
    target: dict[str, Any]
    report: str | None = None
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: k, l, classes, uniques, records at risk, risks; never a value of the data."""
        found = {"command": "risk", "status": self.status, "input": self.input, "files": self.files,
                 "quasi_identifiers": self.quasi_identifiers, **self.figures.to_dict(), "target": self.target,
                 "seconds": self.seconds}
        return found if self.report is None else {**found, "report": self.report}


@_in_session
def risk(
    dataset: str,
    quasi_identifiers: Sequence[str],
    *,
    person: str | None = None,
    sensitive: str | None = None,
    k: int | None = None,
    l: int | None = None,
    storage_options: StorageOptions = None,
    scheduler: str | None = None,
    report: str | Path | None = None,
) -> RiskSummary:
    """Re-identification risk of any dataset over `quasi_identifiers` as they are: status `risk` when
    `k` (or `l`, with `sensitive`) is given and not met. Rows with a null quasi-identifier are left out."""
    started = time.monotonic()
    columns = list(dict.fromkeys(quasi_identifiers))
    if not columns:
        raise storage.InputError("name at least one quasi-identifier column")
    if l is not None and sensitive is None:
        raise storage.InputError("l-diversity needs the sensitive column (--sensitive COL)")
    files = storage.list_input_files(dataset, storage_options)
    schema = _same_schema(files, storage_options)
    for name in [*columns, person, sensitive]:
        if name and name not in schema.names:
            raise storage.InputError(f"{dataset}: column {name!r} is not in the data")
    figures = measure_dataset(files, columns, person, sensitive, storage_options, scheduler, k)
    target = Target(k, l, sensitive)
    section = measured_section(figures, columns, person, target)
    summary = RiskSummary("ok" if section["passed"] else "risk", dataset, len(files), columns, figures,
                          target.section())
    summary.seconds = _elapsed(started)
    if report is not None:
        document = {"command": "risk", "status": summary.status, "input": dataset, "files": len(files),
                    "rows": figures.rows, "seconds": summary.seconds, "release": section}
        summary.report = _write_report(report, document)
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


def _probed_clean(policy: Policy, plans: Sequence[ColumnPlan]) -> set[str]:
    """The numeric columns the run's probe found no phone or ID in and so passes through unchanged, when
    it probed at settings at least as strict as verify's: verify need not read them again."""
    strict = (policy.integer_columns == "scan" and set(policy.entities) == set(ENTITIES)
              and policy.threshold <= DEFAULT_THRESHOLD)
    return {p.name for p in plans if strict and p.mode is Mode.KEEP and p.name not in policy.columns
            and p.input_type is not None and (is_integer_like(p.input_type) or is_fractional(p.input_type))}


def _person_keyring(policy: Policy, keyring: Keyring | None, source: str) -> Keyring | None:
    """The key people are told apart with: the run's, else the policy's key source if it holds one. A
    policy that names a key source that cannot be read is refused; without any key, digests are unkeyed."""
    if keyring is not None or policy.release is None or policy.release.person is None:
        return keyring
    try:
        return Keyring.load(policy.key or KeySource())
    except KeyMaterialError as error:
        if policy.key is not None:
            raise PolicyError(f"{source}: key: {error}") from None
        return None


@dataclass
class _RunContext:
    """What every step of a run reads: the input's files, the output's location, the policy with its
    key and built actions, where tasks run, and when the run started."""

    input: str
    output: str
    policy: Policy
    source: str
    keyring: Keyring | None
    actions: dict[str, Action]
    files: list[storage.InputFile]
    location: storage.OutputLocation
    storage_options: StorageOptions
    scheduler: str | None
    started: float
    started_at: str

    @property
    def run_id(self) -> str:
        """The run's id, which names its staging folder, its lease and its manifest."""
        return self.location.run_id

    def summary(self, status: Status, **counts: Any) -> Summary:
        """The run's summary with `status` and `counts` (rows, files, leaks…)."""
        return Summary("run", status, input=self.input, output=self.output, run_id=self.run_id, **counts)


@dataclass
class _ReleasePlan:
    """How far the run generalizes to meet the release target: the input's finest class counts and the
    node chosen on them (`decision.feasible` False when no node meets the target)."""

    spec: ReleaseSpec
    finest: pa.Table
    decision: Decision

    @property
    def step(self) -> ReleaseStep:
        """What the transform applies to each batch: quasi-identifiers at the node, small classes
        suppressed."""
        return ReleaseStep(self.spec, self.decision.node, self.decision.suppressed)


@dataclass
class _Staged:
    """What the transform wrote and verify found in it, before anything is committed."""

    results: list[FileResult]
    """Per input file: rows read, column statistics, class counts of what was written."""
    files: list[storage.StagedFile]
    residual: dict[str, Any]
    """Report entries of personal data found where the policy forbids it, per column."""
    allowed: dict[str, Any]
    """Rows per column and entity the policy lets through on purpose."""
    columns: dict[str, Any]
    """Report entries per column of what the transform found and did (display keys)."""


def _start_run(input: str, output: str, policy: PolicyLike, storage_options: StorageOptions,
               scheduler: str | None, mode: Literal["error", "overwrite"], run_id: str | None) -> _RunContext:
    """Load the policy and build its actions (a missing key is refused here), list the input's files
    and refuse an output that overlaps the input or already holds a result (mode "error")."""
    started = time.monotonic()
    started_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    loaded, source = _load(policy)
    keyring, actions = build_actions(loaded, source)
    files = storage.list_input_files(input, storage_options)
    location = storage.OutputLocation(output, run_id or new_run_id(), storage_options, mode)
    location.check([input])
    return _RunContext(input, output, loaded, source, keyring, actions, files, location, storage_options,
                       scheduler, started, started_at)


def _plan_run(ctx: _RunContext, accept_cnpii_output: bool) -> list[ColumnPlan]:
    """An action for every column (numeric columns probed), after the input guards: names holding
    personal data, metadata holding it when the policy keeps metadata, and cnpii outputs given as input
    unless `accept_cnpii_output`."""
    plans = _plan(ctx.files, ctx.policy, ctx.source, ctx.actions, ctx.storage_options, ctx.scheduler)
    preflight.refuse_personal_names(ctx.input, ctx.files, plans)
    if ctx.policy.metadata == "keep":
        preflight.refuse_personal_metadata(ctx.files, ctx.storage_options)
    if not accept_cnpii_output:
        preflight.refuse_cnpii_output(ctx.input, ctx.files, plans, ctx.storage_options)
    return plans


def _plan_release(ctx: _RunContext, plans: Sequence[ColumnPlan]) -> _ReleasePlan | None:
    """Measure the input as the policy would release it and choose the node to generalize to; None
    without a `release:` block or when the input has no rows."""
    spec = prepare_release(ctx.policy.release, plans, ctx.files, ctx.storage_options,
                           _person_keyring(ctx.policy, ctx.keyring, ctx.source), ctx.source)
    if spec is None:
        return None
    tasks = [delayed(release_counts)(f.url, f.relative_path, spec, ctx.storage_options) for f in ctx.files]
    finest = _counted(tasks, "measuring the release", ctx.scheduler)
    return None if finest is None else _ReleasePlan(spec, finest, decide(spec, finest))


def _refuse_release(ctx: _RunContext, release: _ReleasePlan, report: str | Path | None) -> Summary:
    """The run's result when no node meets the release target: nothing written, status `risk` (exit 1),
    and the report says what it would take."""
    section = release_report(release.spec, release.decision, release.finest, None)
    log.error("release target not met: %s; nothing was written", section["detail"])
    summary = ctx.summary("risk", files=len(ctx.files), rows=release.decision.rows)
    summary.risk = _release_summary(section)
    summary.seconds = _elapsed(ctx.started)
    if report is not None:
        summary.report = _write_report(report, {**summary.to_dict(), "release": section})
    return summary


@dataclass
class _Known:
    """The run's known values: the key their digests use and, once matched, the digests each file
    promotes."""

    key: SessionKey | None
    """None: the digest key cannot reach the workers (`execution.share_secret`), known values are off."""
    matched: dict[str, np.ndarray] = field(default_factory=dict)

    def task(self, relative_path: str, gathered_url: str | None = None) -> KnownTask | None:
        """What one file's task does with known values: gather them (with `gathered_url`), promote those
        matched in its file, or nothing (None)."""
        promote = self.matched.get(relative_path, EMPTY)
        if self.key is None or (gathered_url is None and not len(promote)):
            return None
        return KnownTask(self.key, gathered_url, promote)

    def section(self) -> dict[str, Any]:
        """The manifest's `known_values`: whether they were matched, and counts."""
        return {"matched": self.key is not None,
                "numbers_reported_again": sum(len(d) for d in self.matched.values()),
                "files_transformed_again": len(self.matched)}


def _transform_files(ctx: _RunContext, plans: list[ColumnPlan], release: _ReleasePlan | None,
                     files: Sequence[storage.InputFile], known: _Known, gather: bool, label: str
                     ) -> list[FileResult]:
    step = release.step if release is not None else None
    tasks = [
        delayed(process_file)(f.url, f.relative_path, plans, ctx.storage_options,
                              ctx.location.staged_url(f.relative_path), step, ctx.policy.metadata == "keep",
                              known.task(f.relative_path,
                                         ctx.location.scratch_url(f"known-{n:06d}") if gather else None))
        for n, f in enumerate(files)
    ]
    results = compute(tasks, label, ctx.scheduler)
    preflight.same_key_everywhere(ctx.keyring, results)
    return results


def _transform(ctx: _RunContext, plans: list[ColumnPlan], release: _ReleasePlan | None, known: _Known
               ) -> list[FileResult]:
    """De-identify each input file into the staging area (one task per file), gathering known values; a
    result made with another key than the run's (a worker's own environment) is refused."""
    results = _transform_files(ctx, plans, release, ctx.files, known, True, "de-identifying")
    _log_throughput("de-identified", sum(r.rows for r in results), len(ctx.files), ctx.started)
    return results


def _report_known(ctx: _RunContext, plans: list[ColumnPlan], release: _ReleasePlan | None, known: _Known,
                  results: list[FileResult]) -> list[FileResult]:
    """Match known values across the files (`pipeline.known`) and transform again, with them promoted,
    the files that left some below the threshold; their results replace the first ones."""
    gathered = {r.relative_path: r.gathered for r in results if r.gathered is not None}
    known.matched = match_known(gathered, ctx.storage_options, ctx.scheduler)
    if not known.matched:
        return results
    again = [f for f in ctx.files if f.relative_path in known.matched]
    log.info("known values: %d numbers the run reported elsewhere were left in %d files; transforming "
             "those again", known.section()["numbers_reported_again"], len(again))
    redone = {r.relative_path: r
              for r in _transform_files(ctx, plans, release, again, known, False, "reporting known values")}
    return [redone.get(r.relative_path, r) for r in results]


def _verify_staged(ctx: _RunContext, plans: Sequence[ColumnPlan], results: list[FileResult], known: _Known
                   ) -> _Staged:
    """Re-scan the staged files at the fail-closed defaults (numeric columns the run's probe found clean
    at settings as strict are not read again), with the run's known values promoted."""
    staged = ctx.location.staged_files()
    inputs = [storage.InputFile(s.url, s.relative_path, s.bytes) for s in staged]
    _, residual, allowed = _verify_files(inputs, ctx.policy, ctx.source, ctx.storage_options, ctx.scheduler,
                                         _probed_clean(ctx.policy, plans), known.task)
    return _Staged(results, staged, residual, allowed, _columns(results, plans))


def _release_written(release: _ReleasePlan | None, results: Sequence[FileResult]) -> dict[str, Any] | None:
    """The release section of what the transform wrote (its classes counted in the same pass), None
    without a release step."""
    if release is None:
        return None
    counts = merge_counts([r.classes for r in results if r.classes is not None])
    return release_report(release.spec, release.decision, release.finest, counts)


def _checks(staged: _Staged, release: Mapping[str, Any] | None) -> list[Check]:
    """The named checks a run must pass to commit: no personal data left where the policy forbids it,
    every input row and file written, and the release target met (with a `release:` block)."""
    leaks = _leak_rows(staged.residual)
    rows_in = {r.relative_path: r.rows for r in staged.results}
    rows_out = {s.relative_path: s.rows for s in staged.files}
    checks = [
        Check("no_residual_personal_data", leaks == 0,
              f"{leaks} rows with personal data the policy does not allow to stay"),
        Check("row_counts_preserved", rows_in == rows_out,
              f"{sum(rows_in.values())} rows in, {sum(rows_out.values())} rows out"),
        Check("every_input_file_written", set(rows_in) == set(rows_out),
              f"{len(rows_in)} input files, {len(rows_out)} output files"),
    ]
    if release is not None:
        checks.append(Check("release_risk_target_met", release["passed"], release["detail"]))
    return checks


_STATUS_OF_CHECK: dict[str, Status] = {
    "no_residual_personal_data": "leak",
    "row_counts_preserved": "incomplete",
    "every_input_file_written": "incomplete",
    "release_risk_target_met": "risk",
}
"""The status a run gets when a check fails; the first failed check in this order decides."""


def _run_status(checks: Sequence[Check]) -> Status:
    """`ok` when every check passed, else the status of the first failed one (`_STATUS_OF_CHECK` order):
    personal data left outweighs rows or files missing, which outweigh a missed release target."""
    failed = {c.check for c in checks if not c.passed}
    return next((status for check, status in _STATUS_OF_CHECK.items() if check in failed), "ok")


def _manifest(ctx: _RunContext, plans: Sequence[ColumnPlan], staged: _Staged, summary: Summary,
              checks: list[Check], release: dict[str, Any] | None, known: _Known) -> RunManifest:
    """The run's record: what went in, by which policy and key, what was found and what verify checked."""
    return RunManifest(
        summary=summary,
        started_at=ctx.started_at,
        policy_digest=ctx.policy.digest,
        policy=ctx.policy.model_dump(mode="json"),  # verify without --config checks by it (no key in it)
        key_fingerprint=ctx.keyring.fingerprint if ctx.keyring else None,
        versions=_versions(),
        inputs=[ManifestInput(f.relative_path, f.size) for f in ctx.files],
        columns=staged.columns,
        verify=VerifySection("passed" if summary.status == "ok" else "failed", summary.leaks, checks,
                             staged.residual),
        known_values=known.section(),
        release=release,
        notes=[
            *_not_scanned(plans),
            "de-identified (PIPL art. 73(3)), not anonymized: masked values and "
            "keyed tokens are still personal information for the receiver"
        ],
    )


def _commit(ctx: _RunContext, document: Mapping[str, Any], staged: _Staged, checks: Sequence[Check]
            ) -> str | None:
    """Publish the staged files with the manifest when every check passed (`storage.OutputLocation.commit`)
    and return the manifest's location; otherwise remove them, say why on stderr and return None."""
    if not all(c.passed for c in checks):
        ctx.location.abort()
        _log_residual(staged.residual)
        failed = "; ".join(c.detail for c in checks if not c.passed)
        log.error("verify failed: %s; nothing was committed", failed)
        return None
    try:
        return ctx.location.commit(document).manifest_url
    except BaseException:  # e.g. a full disk: the staged files go, a previous output stays complete
        ctx.location.abort()
        raise


@_in_session
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
    accept_cnpii_output: bool = False,
) -> Summary:
    """De-identify `input` into `output` by the policy; see the module docstring for the protocol.
    A cnpii output (a manifest, or tokens in its values) is refused as input unless `accept_cnpii_output`:
    its tokens would be tokenized again and its generalized values become 未知. Partition values, file
    names and column names holding personal data are refused (`pipeline.names`).

    Returns status `leak` (and commits nothing) when verify finds personal data in the staged output,
    `incomplete` when the output's rows or files do not match the input's, and `risk` when the policy's
    release target (k, l, suppression) is not met.
    """
    ctx = _start_run(input, output, policy, storage_options, scheduler, mode, run_id)
    known = _Known(SessionKey.current() if share_secret(ctx.scheduler) else None)
    with ctx.location.lease():  # one run at a time into an output
        plans = _plan_run(ctx, accept_cnpii_output)
        release = _plan_release(ctx, plans)
        if release is not None and not release.decision.feasible:
            return _refuse_release(ctx, release, report)
        try:
            results = _transform(ctx, plans, release, known)
            results = _report_known(ctx, plans, release, known, results)
            staged = _verify_staged(ctx, plans, results, known)
        except BaseException:
            ctx.location.abort()
            raise
        written = _release_written(release, results)
        checks = _checks(staged, written)
        summary = ctx.summary(
            _run_status(checks),
            rows=sum(r.rows for r in results),
            files=len(ctx.files),
            entities=entity_totals(staged.columns),
            leaks=_leak_rows(staged.residual),
            allowed_residuals=staged.allowed or None,
            risk=_release_summary(written) if written else None,
            seconds=_elapsed(ctx.started),  # up to the commit, so that the manifest and the summary agree
        )
        document = _manifest(ctx, plans, staged, summary, checks, written, known).to_dict()
        summary.manifest = _commit(ctx, document, staged, checks)
        if report is not None:
            summary.report = _write_report(report, {**document, **summary.to_dict()})
        return summary
