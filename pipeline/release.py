"""The release step of a run: measure the re-identification risk of what is written, and enforce the target.

A policy's `release:` block names the quasi-identifiers, the person column and the target (k, l, and the
share of rows that may be suppressed). `run` then does, besides de-identifying:

    prepare_release   the ladder of every quasi-identifier, from the plan and a sample (`pipeline.ladders`)
    release_counts    per input file, the class counts of the finest release with every rung's value
                      (a Dask task per file; parts summed by a group-by, see `pipeline.risk`)
    choose_node       the least-loss node that meets the target (`pipeline.lattice`); if none does, the
                      run stops before writing anything, with what it would take
    ReleaseStep       in the transform, each batch's quasi-identifiers released at the node, the classes
                      still too small suppressed (their quasi-identifier cells nulled), and the rows of
                      each tuple written counted
    release_report    the figures of the node, and the check that the written tuples are the planned
                      ones, row for row: the run commits only if both hold

People are told apart by a keyed digest of the person column's original value (`risk.person_digests`),
computed in the measuring pass and never written. The figures hold sizes and counts only.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from pipeline.keys import Keyring
from pipeline.ladders import Ladder, auto_quasi_identifiers, build_ladder
from pipeline.lattice import MAX_NODES, Decision, choose_node, node_keys, rung_key
from pipeline.partition import BATCH_ROWS, DataError, plan_types, read_batches
from pipeline.plan import ColumnPlan, Mode, PlanError, is_integer_like, is_string_like
from pipeline.policy import Release
from pipeline.risk import (
    PEOPLE,
    PERSON,
    ROWS,
    SENSITIVE,
    RiskFigures,
    add_part,
    among,
    class_counts,
    classes_at,
    measure,
    merge_counts,
    person_digests,
    released_text,
)
from pipeline.transform import DISPLAY_MASK, scan_table, transform_column
from recognizers import DEFAULT_THRESHOLD, ENTITIES

StorageOptions = Mapping[str, Any] | None


@dataclass(frozen=True)
class ReleaseSpec:
    """What the release step needs on a worker: ladders, the person and sensitive columns, the target."""

    ladders: tuple[Ladder, ...]
    person: str | None
    sensitive: ColumnPlan | None
    keyring: Keyring | None
    target: Release

    @property
    def quasi_identifiers(self) -> list[str]:
        """The quasi-identifier columns, in ladder order."""
        return [ladder.column for ladder in self.ladders]

    @property
    def input_columns(self) -> list[str]:
        """The input columns the step reads."""
        names = [*self.quasi_identifiers, self.person, self.sensitive and self.sensitive.name]
        return list(dict.fromkeys(n for n in names if n))

    def person_digests(self, batch: pa.Table) -> pa.Array | None:
        """Digests of the batch's people (None when classes count rows)."""
        if self.person is None:
            return None
        return person_digests(batch.column(self.person).combine_chunks(), self.keyring)


SAMPLED_FILES = 8
"""Files the sample behind ladders and `auto` is drawn from, spread over the dataset: a column empty in
the first file is still seen."""


def _sample(files: Sequence[Any], plans: Sequence[ColumnPlan], storage_options: StorageOptions) -> pa.Table:
    """The first rows of up to `SAMPLED_FILES` files spread over the dataset, about one batch in all."""
    chosen = list(files)[:: max(1, math.ceil(len(files) / SAMPLED_FILES))]
    rows = math.ceil(BATCH_ROWS / len(chosen))
    parts = []
    for file in chosen:
        batches = read_batches(file.url, file.relative_path, [p.name for p in plans], storage_options,
                               plan_types(plans))
        parts.append(next(batches, None))
        batches.close()
    found = [part.slice(0, rows) for part in parts if part is not None]
    if not found:  # no rows anywhere sampled: the planned columns, empty
        return pa.table({p.name: pa.array([], p.input_type or pa.string()) for p in plans})
    return pa.concat_tables(found, promote_options="default")


def _column(plans: Mapping[str, ColumnPlan], name: str, where: str, source: str) -> ColumnPlan:
    if name not in plans:
        raise PlanError(f"{source}: release.{where}: column {name!r} is not in the data")
    return plans[name]


def prepare_release(release: Release | None, plans: Sequence[ColumnPlan], files: Sequence[Any],
                    storage_options: StorageOptions, keyring: Keyring | None, source: str
                    ) -> ReleaseSpec | None:
    """The release step's spec, or None without a `release:` block; PlanError when it does not fit the
    data (a column that is missing or redacted, `auto` finding nothing)."""
    if release is None:
        return None
    by_name = {p.name: p for p in plans}
    person = release.person and _column(by_name, release.person, "person", source).name
    sensitive = None
    if release.l_diversity is not None:
        sensitive = _column(by_name, release.l_diversity.sensitive, "l_diversity.sensitive", source)
        whole = sensitive.whole
        if sensitive.mode is Mode.WHOLE and whole is not None and whole.action == "redact":
            raise PlanError(f"{source}: release.l_diversity.sensitive: column {sensitive.name!r} is "
                            "redacted: its values are not released, so l cannot be measured on them")
    named = release.quasi_identifiers
    if named != "auto":
        for name in named:
            _column(by_name, name, "quasi_identifiers", source)
    sampled = [p.name for p in plans] if named == "auto" else list(named)
    sample = _sample(files, [by_name[n] for n in sampled], storage_options)
    scanned = [_detecting(by_name[n]) for n in sampled if n in sample.column_names]
    scanned = [p for p in scanned if p is not None]
    stats = scan_table(sample.select([p.name for p in scanned]), scanned) if scanned else {}
    skip = [sensitive.name] if sensitive else []
    chosen = (auto_quasi_identifiers([by_name[n] for n in sampled], sample, stats, skip)
              if named == "auto" else list(named))
    if not chosen:
        raise PlanError(f"{source}: release.quasi_identifiers: auto found no column that is generalized or "
                        "looks like a date, gender, region or postcode; name the quasi-identifiers")
    ladders = tuple(build_ladder(by_name[n], _sample_column(sample, n), stats.get(n), source) for n in chosen)
    nodes = math.prod(len(ladder.rungs) for ladder in ladders)
    if nodes > MAX_NODES:
        raise PlanError(f"{source}: release.quasi_identifiers: their generalization lattice has {nodes:,} "
                        f"nodes (at most {MAX_NODES:,}); name fewer quasi-identifiers")
    return ReleaseSpec(ladders, person, sensitive, keyring if person else None, release)


def _detecting(plan: ColumnPlan) -> ColumnPlan | None:
    """The plan that finds which entity fills a column: its own for a scanned column; for a kept text or
    integer column (whose phones a release may still have to generalize), a scan for every entity."""
    if plan.mode is Mode.SCAN:
        return plan
    if plan.mode is Mode.KEEP and (is_string_like(plan.output_type) or is_integer_like(plan.output_type)):
        return dataclasses.replace(plan, mode=Mode.SCAN, entities=ENTITIES, threshold=DEFAULT_THRESHOLD,
                                   actions=dict.fromkeys(ENTITIES, DISPLAY_MASK))
    return None


def _sample_column(sample: pa.Table, name: str) -> pa.Array:
    return sample.column(name).combine_chunks() if name in sample.column_names else pa.array([], pa.string())


def release_counts(url: str, relative_path: str, spec: ReleaseSpec,
                   storage_options: StorageOptions = None) -> pa.Table | None:
    """The class counts of one input file with every rung of every quasi-identifier (`q{i}r{j}`), the
    person digests and the released sensitive values; None for a file without rows."""
    parts: list[pa.Table] = []
    planned = [ladder.plan for ladder in spec.ladders] + ([spec.sensitive] if spec.sensitive else [])
    for batch in read_batches(url, relative_path, spec.input_columns, storage_options, plan_types(planned)):
        try:
            keys = {}
            for qi, ladder in enumerate(spec.ladders):
                original = batch.column(ladder.column).combine_chunks()
                released = transform_column(original, ladder.plan)[0]
                for rung in range(len(ladder.rungs)):
                    keys[rung_key(qi, rung)] = released_text(ladder.values(rung, original, released))
            sensitive = None
            if spec.sensitive is not None:
                values = batch.column(spec.sensitive.name).combine_chunks()
                sensitive = transform_column(values, spec.sensitive)[0]
            parts = add_part(parts, class_counts(keys, spec.person_digests(batch), sensitive))
        except (pa.ArrowException, ValueError, TypeError) as error:
            raise DataError(f"{relative_path}: a quasi-identifier could not be generalized "
                            f"({type(error).__name__})") from None
    return merge_counts(parts) if parts else None


@dataclass(frozen=True)
class ReleaseStep:
    """Applied to each transformed batch: quasi-identifiers at the chosen node, small classes suppressed."""

    spec: ReleaseSpec
    node: tuple[int, ...]
    suppressed: pa.Table
    """Key values (`q{i}`) of the classes whose quasi-identifier cells are nulled."""

    def schema(self, schema: pa.Schema) -> pa.Schema:
        """The output schema with the climbed quasi-identifiers as strings."""
        for ladder, rung in zip(self.spec.ladders, self.node, strict=True):
            if rung > 0:
                index = schema.get_field_index(ladder.column)
                schema = schema.set(index, schema.field(index).with_type(pa.string()))
        return schema

    def apply(self, batch: pa.Table, table: pa.Table) -> tuple[pa.Table, pa.Table]:
        """The batch's output with the release applied, and the rows of each tuple it writes (checked
        against the plan: see `release_report`)."""
        columns = {}
        for ladder, rung in zip(self.spec.ladders, self.node, strict=True):
            original = batch.column(ladder.column).combine_chunks()
            released = table.column(ladder.column).combine_chunks()
            columns[ladder.column] = ladder.values(rung, original, released)
        if self.suppressed.num_rows:
            hit = among([released_text(c) for c in columns.values()], self.suppressed)
            columns = {n: pc.if_else(hit, pa.scalar(None, c.type), c) for n, c in columns.items()}
        for name, values in columns.items():
            index = table.schema.get_field_index(name)
            table = table.set_column(index, table.schema.field(index).with_type(values.type), values)
        keys = {f"q{i}": released_text(values) for i, values in enumerate(columns.values())}
        return table, class_counts(keys)


def decide(spec: ReleaseSpec, counts: pa.Table) -> Decision:
    """The node the release climbs to (see `lattice.choose_node`)."""
    target = Target.of(spec.target)
    heights = [len(ladder.rungs) for ladder in spec.ladders]
    return choose_node(counts, heights, k=spec.target.k_anonymity, l=target.l,
                       max_suppressed=spec.target.max_suppressed,
                       hierarchical=all(ladder.hierarchical for ladder in spec.ladders))


@dataclass(frozen=True)
class Target:
    """What a release must meet: k, optionally l over a sensitive column, and the suppression budget."""

    k: int | None
    l: int | None = None
    sensitive: str | None = None
    max_suppressed: float | None = None

    @classmethod
    def of(cls, release: Release) -> Target:
        """The target of a policy's `release:` block."""
        diversity = release.l_diversity
        return cls(release.k_anonymity, diversity and diversity.l, diversity and diversity.sensitive,
                   release.max_suppressed)

    def section(self) -> dict[str, Any]:
        """The target as reports show it, in the policy's own keys."""
        return {"k_anonymity": self.k,
                "l_diversity": {"sensitive": self.sensitive, "l": self.l} if self.l else None,
                "max_suppressed": self.max_suppressed}

    def met_by(self, figures: RiskFigures) -> bool:
        """Whether measured figures meet k and l (a release without classes meets any; suppression is
        judged apart)."""
        k_ok = self.k is None or figures.k is None or figures.k >= self.k
        return k_ok and (self.l is None or figures.l is None or figures.l >= self.l)

    def describe(self, figures: RiskFigures) -> str:
        """`k = 3 (target 5), l = 2 (target 2)`."""
        text = f"k = {figures.k} (target {self.k or 'none'})"
        if figures.l is not None or self.l:
            text += f", l = {figures.l} (target {self.l or 'none'})"
        return text


def measured_section(figures: RiskFigures, columns: Sequence[str], person: str | None,
                     target: Target) -> dict[str, Any]:
    """The release section of a dataset measured as it is (scan, verify, `cnpii risk`)."""
    return {"counted": figures.counted, "quasi_identifiers": list(columns), "person": person,
            "target": target.section(), "measured": figures.to_dict(), "passed": target.met_by(figures),
            "detail": target.describe(figures)}


def _as_released(finest: pa.Table, decision: Decision) -> pa.Table:
    """The finest counts as the node releases them: keys `q{i}` at the node's rungs, nulled in the
    suppressed classes (so those rows belong to no class, as in the output)."""
    keys = node_keys(decision.node)
    names = [f"q{i}" for i in range(len(keys))]
    rest = [c for c in finest.column_names if c in (ROWS, PERSON, PEOPLE, SENSITIVE)]
    table = finest.select([*keys, *rest]).rename_columns([*names, *rest])
    if decision.suppressed.num_rows:
        hit = among([table.column(n).combine_chunks() for n in names], decision.suppressed)
        nothing = pa.scalar(None, pa.string())
        for i, name in enumerate(names):
            table = table.set_column(i, name, pc.if_else(hit, nothing, table.column(name)))
    return table


def _classes(counts: pa.Table, keys: list[str]) -> pa.Table:
    classes = classes_at(counts, keys, nulls_are_values=True).select([*keys, "rows"])
    return classes.sort_by([(key, "ascending") for key in keys])


def release_report(spec: ReleaseSpec, decision: Decision, finest: pa.Table,
                   written: pa.Table | None) -> dict[str, Any]:
    """The release section of the report and manifest. `finest` are the class counts of every rung
    (people counted, see `risk.count_people`); `written` the rows of each tuple the transform wrote, None
    when nothing was written (the target could not be met). The figures are those of the finest counts
    at the node with the suppressed classes taken out, and the run passes only if the written tuples
    are exactly those, row for row."""
    release = spec.target
    target = Target.of(release)
    names = spec.quasi_identifiers
    before = measure(finest, node_keys([0] * len(names)), names=names, target_k=release.k_anonymity,
                     nulls_are_values=True)
    report: dict[str, Any] = {
        "counted": before.counted,
        "quasi_identifiers": names,
        "person": spec.person,
        "person_digest": None if spec.person is None else ("keyed" if spec.keyring else "unkeyed"),
        "target": target.section(),
        "ladders": {ladder.column: ladder.names for ladder in spec.ladders},
        "node": {ladder.column: ladder.names[rung] for ladder, rung in zip(spec.ladders, decision.node,
                                                                             strict=True)},
        "before": before.to_dict(),
        "suppressed": {"rows": decision.suppressed_rows, "share": round(decision.suppressed_share, 6),
                       "classes": decision.suppressed.num_rows},
        "nodes_evaluated": decision.nodes_evaluated,
        "information_loss": round(decision.loss, 6),
    }
    if written is None:
        share = math.ceil(decision.suppressed_share * 10_000) / 10_000  # never advise too little
        missed = f"k = {target.k}" + (f" or l = {target.l}" if target.l else "")
        report.update(measured=None, passed=False, detail=(
            f"the target cannot be met: at the node that needs the least suppression k = "
            f"{decision.k_before_suppression} before suppression, and suppressing the classes that miss "
            f"{missed} would null {decision.suppressed_rows} rows ({decision.suppressed_share:.2%}; "
            f"max_suppressed {release.max_suppressed:.2%}); raise max_suppressed to at least {share:.4f}, "
            "lower the target, or name fewer quasi-identifiers"))
        return report
    keys = [f"q{i}" for i in range(len(names))]
    released = _as_released(finest, decision)
    measured = measure(released, keys, names=names, target_k=release.k_anonymity, nulls_are_values=True)
    as_planned = _classes(released, keys).equals(_classes(written, keys))
    within = decision.suppressed_rows <= release.max_suppressed * measured.rows + 1e-9
    passed = target.met_by(measured) and within and as_planned
    report.update(measured=measured.to_dict(), passed=passed, detail=(
        f"{target.describe(measured)}; {decision.suppressed_rows} rows suppressed "
        f"({decision.suppressed_share:.2%} of {measured.rows}, at most {release.max_suppressed:.2%}); "
        + ("the written classes are the planned ones" if as_planned else
           "the written classes differ from the planned ones")))
    return report


def file_class_counts(url: str, relative_path: str, quasi_identifiers: Sequence[str], person: str | None,
                      sensitive: str | None, storage_options: StorageOptions = None) -> pa.Table | None:
    """The class counts of one file's columns as they are (`q{i}`): the risk of a dataset already
    released, or of an input before de-identification."""
    columns = list(dict.fromkeys([*quasi_identifiers, *(c for c in (person, sensitive) if c)]))
    parts: list[pa.Table] = []
    for batch in read_batches(url, relative_path, columns, storage_options):
        keys = {f"q{i}": released_text(batch.column(name).combine_chunks())
                for i, name in enumerate(quasi_identifiers)}
        digests = person_digests(batch.column(person).combine_chunks()) if person else None
        values = batch.column(sensitive).combine_chunks() if sensitive else None
        parts = add_part(parts, class_counts(keys, digests, values))
    return merge_counts(parts) if parts else None
