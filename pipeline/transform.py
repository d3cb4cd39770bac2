"""Transform one batch of rows: detect entities in every planned column and apply the policy's actions.

The hot path works on Arrow arrays and touches each distinct value once: exports repeat IDs and phones
across rows, and dictionary encoding gives the distinct values with their row counts. Values without
eight digits written together cannot hold an entity and map to themselves; numbers the columnar path
recognizes (whole values, and one number behind a label) are acted on in bulk; only the rest reach
`detect` one by one. Spans inside free text are replaced in place, so the surrounding text stays
byte-identical. `scan_table` gathers the same statistics without building the output.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.actions import Target, build_action
from pipeline.actions.base import DECLARED
from pipeline.actions.generalize import generalize_amounts, generalize_dates
from pipeline.plan import ColumnPlan, Mode, output_schema
from recognizers import detect
from recognizers.columnar import BareFindings, find_bare, find_labelled

_DIGIT = r"[0-9\x{ff10}-\x{ff19}]"
_BETWEEN_DIGITS = (
    r"[\s\x{3000}\x{a0}\x{2007}\x{2009}\x{202f}\-\x{ff0d}\x{2010}-\x{2015}\x{2212}\x{fe63}"
    r"()\x{ff08}\x{ff09}+\x{ff0b}\x{200b}-\x{200d}\x{2060}\x{feff}\x{ad}]{0,3}"
)
MAY_HOLD_ENTITY = f"{_DIGIT}(?:{_BETWEEN_DIGITS}{_DIGIT}){{7}}"
"""RE2 prefilter: eight digits (the fewest any entity has: a 港澳 permit's H/M + 8) joined by at most three
spaces, dashes, brackets, plus signs or invisible characters, as numbers are written. Values without
such a run cannot hold an entity and skip `detect`; a masked `622188*********8080` has none."""
EXAMPLES_PER_ENTITY = 3
DISPLAY_MASK = build_action("mask", {}, None)
"""Examples in reports are shown as finance apps display them (`138****5678`), never raw."""


@dataclass
class ColumnStats:
    """What was found in one column; counts are rows, examples are display-masked, values never kept."""

    rows: int = 0
    non_null: int = 0
    rows_with: Counter[str] = field(default_factory=Counter)
    findings: Counter[str] = field(default_factory=Counter)
    validated: Counter[str] = field(default_factory=Counter)
    whole_value: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)

    def add(self, other: ColumnStats) -> None:
        """Fold another batch's statistics into these."""
        self.rows += other.rows
        self.non_null += other.non_null
        for mine, theirs in (
            (self.rows_with, other.rows_with),
            (self.findings, other.findings),
            (self.validated, other.validated),
            (self.whole_value, other.whole_value),
        ):
            mine.update(theirs)
        for entity, examples in other.examples.items():
            self._example(entity, examples)

    def _example(self, entity: str, examples: list[str]) -> None:
        mine = self.examples.setdefault(entity, [])
        mine.extend(e for e in examples if e not in mine)
        del mine[EXAMPLES_PER_ENTITY:]

    def record(self, target: Target, weight: int, validated: bool) -> None:
        """Count one finding that occurs in `weight` rows, keeping a masked example."""
        self.findings[target.entity] += weight
        if validated:
            self.validated[target.entity] += weight
        if target.whole_value:
            self.whole_value[target.entity] += weight
        if len(self.examples.get(target.entity, ())) < EXAMPLES_PER_ENTITY:
            self._example(target.entity, [DISPLAY_MASK.replace(target) or ""])


def _scan_value(text: str, plan: ColumnPlan, stats: ColumnStats, weight: int) -> str | None:
    """`text` with every entity found replaced by its action's output; None when a whole value is nulled."""
    findings = detect(text, plan.entities, column=plan.name, threshold=plan.threshold)
    if not findings:
        return text
    stripped = text.strip()
    pieces, cursor = [], 0
    for finding in findings:
        written = text[finding.start : finding.end]
        target = Target(finding.entity, finding.value, finding.subtype, written, written == stripped)
        stats.record(target, weight, validated="validated" in finding.evidence)
        replacement = plan.actions[finding.entity].replace(target)
        if replacement is None:  # only a whole value may become null
            return None
        pieces += [text[cursor : finding.start], replacement]
        cursor = finding.end
    for entity in {f.entity for f in findings}:
        stats.rows_with[entity] += weight
    return "".join(pieces) + text[cursor:]


def _declared_value(text: str, plan: ColumnPlan, stats: ColumnStats, weight: int) -> str | None:
    """A value of a column declared to hold one entity: the whole value is the target, found or not."""
    found = detect(text, [plan.entity], threshold=0.0)
    whole = found[0] if len(found) == 1 and text[found[0].start : found[0].end] == text.strip() else None
    value = whole.value if whole else "".join(text.split())
    target = Target(plan.entity, value, whole.subtype if whole else DECLARED, text, True)
    if whole is not None:  # counted only where the entity is there; acted on either way (fail closed)
        stats.record(target, weight, validated="validated" in whole.evidence)
        stats.rows_with[plan.entity] += weight
    return plan.actions[plan.entity].replace(target)


def _apply_bare(found: BareFindings, counts: np.ndarray, plan: ColumnPlan, stats: ColumnStats, output: bool
                ) -> pa.Array | None:
    """Replacements for the numbers the columnar path recognized (in bulk where the action can), put back
    between the text around them (None unless `output`), counted in bulk; `counts` are the rows of each
    value."""
    action = plan.actions[found.entity]
    whole = found.before is None

    def target(j: int) -> Target:
        value, written = found.values[j].as_py(), found.written[j].as_py()
        return Target(found.entity, value, found.subtypes[j], written, whole)

    for j in itertools.islice(np.flatnonzero(counts).tolist(), EXAMPLES_PER_ENTITY):
        stats.record(target(j), 0, validated=found.validated)
    rows = int(counts.sum())
    counters = [stats.rows_with, stats.findings]
    counters += ([stats.validated] if found.validated else []) + ([stats.whole_value] if whole else [])
    for counter in counters:
        counter[found.entity] += rows
    if not output:
        return None
    replaced = action.replace_whole(found.entity, found.written, found.values)
    if replaced is None:
        replaced = pa.array([action.replace(target(j)) for j in range(len(found))], pa.string())
    if not whole:
        replaced = pc.binary_join_element_wise(found.before, replaced, found.after, "")
    return replaced


class _Replacements:
    """The distinct values of a column with some of them replaced, assembled with one `take`."""

    def __init__(self, distinct: pa.Array) -> None:
        self.chunks = [distinct]
        self.source = np.arange(len(distinct))
        self.size = len(distinct)

    def put(self, index: np.ndarray, replaced: pa.Array) -> None:
        """Replace the values at positions `index` (into the distinct values) by `replaced`."""
        self.source[index] = self.size + np.arange(len(index))
        self.chunks.append(replaced.cast(pa.string()))
        self.size += len(index)

    def result(self) -> pa.Array:
        if len(self.chunks) == 1:
            return self.chunks[0]
        return pa.concat_arrays(self.chunks).take(pa.array(self.source))


def _may_hold_entity(distinct: pa.Array) -> np.ndarray:
    """Positions of the values `MAY_HOLD_ENTITY` matches; values of digits alone (most of an ID, phone or
    card column) are decided by their length, without the regex."""
    digits_only = pc.fill_null(pc.ascii_is_decimal(distinct), False).to_numpy(zero_copy_only=False)
    lengths = pc.fill_null(pc.utf8_length(distinct), 0).to_numpy(zero_copy_only=False)
    others = np.flatnonzero(~digits_only)
    matched = pc.fill_null(pc.match_substring_regex(distinct.take(pa.array(others)), MAY_HOLD_ENTITY), False)
    written = others[matched.to_numpy(zero_copy_only=False)]
    return np.concatenate([np.flatnonzero(digits_only & (lengths >= 8)), written])


def _map_distinct(distinct: pa.Array, counts: np.ndarray, plan: ColumnPlan, stats: ColumnStats, output: bool
                  ) -> pa.Array | None:
    """Transform each distinct (non-null) string once: numbers the columnar path recognizes (whole values,
    and one number with a label around it) in bulk, the rest through `detect`; values too short to hold
    an entity stay as they are (a declared column's every value is its entity). Without `output`, only
    the statistics are gathered."""
    declared = plan.mode is Mode.DECLARED
    if declared:
        todo = np.flatnonzero(pc.is_valid(distinct).to_numpy(zero_copy_only=False))
    else:
        todo = _may_hold_entity(distinct)
    replacements = _Replacements(distinct)
    column, threshold = (None, 0.0) if declared else (plan.name, plan.threshold)
    for finder in [find_bare] if declared else [find_bare, find_labelled]:
        decided = np.zeros(len(todo), dtype=bool)
        for found in finder(distinct.take(pa.array(todo)), plan.entities, column, threshold):
            index = todo[found.index]
            replaced = _apply_bare(found, counts[index], plan, stats, output)
            if replaced is not None:
                replacements.put(index, replaced)
            decided[found.index] = True
        todo = todo[~decided]
    transform = _declared_value if declared else _scan_value
    todo = todo[counts[todo] > 0]
    texts = distinct.take(pa.array(todo)).to_pylist()
    weights = counts[todo].tolist()
    replaced = [transform(text, plan, stats, weight) for text, weight in zip(texts, weights, strict=True)]
    if not output:
        return None
    replacements.put(todo, pa.array(replaced, pa.string()))
    return replacements.result()


def _as_text(array: pa.Array) -> pa.Array:
    if pa.types.is_string(array.type):
        return array
    return pc.cast(array, pa.string())  # large_string, and integer columns scanned as their digits


def _transform_values(array: pa.Array, plan: ColumnPlan, stats: ColumnStats, output: bool) -> pa.Array | None:
    encoded = array if pa.types.is_dictionary(array.type) else pc.dictionary_encode(_as_text(array))
    counts = np.bincount(encoded.indices.drop_null().to_numpy(zero_copy_only=False),
                         minlength=len(encoded.dictionary))
    mapped = _map_distinct(_as_text(encoded.dictionary), counts, plan, stats, output)
    if mapped is None:
        return None
    if encoded is array:  # a dictionary column stays one
        return pa.DictionaryArray.from_arrays(array.indices, mapped)
    return mapped.take(encoded.indices)


def _whole_column(array: pa.Array, plan: ColumnPlan) -> pa.Array:
    rule = plan.whole
    assert rule is not None
    if rule.action == "redact":
        if rule.marker is None:
            return pa.nulls(len(array), plan.output_type)
        return pc.if_else(
            pc.is_null(array), pa.scalar(None, pa.string()), pa.scalar(rule.marker, pa.string())
        )
    if rule.to is not None:
        return generalize_dates(array, rule.to)
    return generalize_amounts(array, list(rule.edges or ()))


def transform_column(array: pa.Array, plan: ColumnPlan, output: bool = True
                     ) -> tuple[pa.Array | None, ColumnStats]:
    """The column as the plan says it leaves (None unless `output`), and what was found in it."""
    stats = ColumnStats(rows=len(array), non_null=len(array) - array.null_count)
    if plan.mode is Mode.KEEP:
        return (array if output else None), stats
    if plan.mode is Mode.WHOLE:
        return (_whole_column(array, plan) if output else None), stats
    transformed = _transform_values(array, plan, stats, output)
    return (transformed.cast(plan.output_type) if transformed is not None else None), stats


def transform_table(table: pa.Table, plans: list[ColumnPlan]) -> tuple[pa.Table, dict[str, ColumnStats]]:
    """Apply every column's plan to a table (one batch); returns the new table and per-column stats."""
    columns, stats = [], {}
    for plan in plans:
        array, stats[plan.name] = transform_column(table.column(plan.name).combine_chunks(), plan)
        columns.append(array)
    return pa.Table.from_arrays(columns, schema=output_schema(table.schema, plans)), stats


def scan_table(table: pa.Table, plans: list[ColumnPlan]) -> dict[str, ColumnStats]:
    """What `transform_table` would find in a table, without building its output (scan and verify)."""
    return {plan.name: transform_column(table.column(plan.name).combine_chunks(), plan, output=False)[1]
            for plan in plans}
