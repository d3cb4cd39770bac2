"""Transform one batch of rows: detect entities in every planned column and apply the policy's actions.

The hot path works on Arrow arrays and touches each distinct value once: exports repeat IDs and phones
across rows, and dictionary encoding gives the distinct values with their row counts. The engine
(`recognizers.engine.find`) finds every entity in all distinct values at once; the actions replace the
spans in bulk where they can (ASCII spans of mask, hmac tokens, generalize), one by one otherwise; and
the new values are assembled from the old bytes and the replacements in one gather, so the text around
each span stays byte-identical. `scan_table` gathers the same statistics without building the output.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.actions import Target, build_action
from pipeline.actions.base import DECLARED
from pipeline.actions.generalize import generalize_amounts, generalize_dates
from pipeline.plan import ColumnPlan, Mode, output_schema
from recognizers import engine
from recognizers.arrays import gather, utf8_buffer
from recognizers.known import KnownValues
from recognizers.registry import ENTITIES, spec

EXAMPLES_PER_ENTITY = 3
MEMO_VALUES = 4096
"""A column's distinct values in a batch, up to this many, are remembered with what the engine found in
them (`FoundMemo`)."""
SHARED_VALUES = 256
"""Sets of at most this many values in which the engine reads no number are remembered for the process."""
SHARED_SETS = 2048
"""How many such sets the process remembers (the oldest is forgotten first)."""
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
            self.add_examples(entity, examples)

    def add_examples(self, entity: str, examples: list[str]) -> None:
        """Keep up to `EXAMPLES_PER_ENTITY` distinct (display-masked) examples of an entity."""
        mine = self.examples.setdefault(entity, [])
        mine.extend(e for e in examples if e not in mine)
        del mine[EXAMPLES_PER_ENTITY:]


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


def _targets(found: engine.Found, written: pa.Array) -> list[Target]:
    """The findings as the actions see them (for the ones that go value by value)."""
    return [
        Target(entity, value, subtype, text, whole)
        for entity, value, subtype, text, whole in zip(
            found.entity.tolist(), found.value.to_pylist(), found.subtype.tolist(), written.to_pylist(),
            found.whole.tolist(), strict=True)
    ]


def _entities(found: engine.Found) -> list[tuple[str, np.ndarray]]:
    """Each entity present among the findings with the mask of its findings, in registry order (a
    comparison per registered entity instead of sorting the names)."""
    masks = ((entity, found.entity == entity) for entity in ENTITIES)
    return [(entity, mine) for entity, mine in masks if mine.any()]


def _firsts(rows: np.ndarray) -> np.ndarray:
    """Whether each position of a sorted array starts a run of equal values."""
    return np.concatenate([[True], rows[1:] != rows[:-1]]) if len(rows) else np.zeros(0, dtype=bool)


def _replacements(found: engine.Found, written: pa.Array, plan: ColumnPlan) -> tuple[pa.Array, np.ndarray]:
    """What each finding becomes, and which findings null their whole value (redact without a marker)."""
    result: list[pa.Array] = []
    order: list[np.ndarray] = []
    ascii_written = pc.string_is_ascii(written).to_numpy(zero_copy_only=False) & (found.subtype != DECLARED)
    for entity, mine in _entities(found):
        rows = np.flatnonzero(mine)
        action = plan.actions[entity]
        # Names and addresses go in bulk as written; numbers in bulk where ASCII (values of a declared
        # column that did not parse go one by one).
        bulk = rows if spec(entity).is_text else rows[ascii_written[rows]]
        replaced = action.replace_many(entity, written.take(pa.array(bulk)), found.value.take(pa.array(bulk))
                                       ) if len(bulk) else None
        if replaced is not None:
            result.append(replaced.cast(pa.string()))
            order.append(bulk)
            rows = np.setdiff1d(rows, bulk, assume_unique=True)
        if len(rows):
            picked = pa.array(rows)
            targets = _targets(found.take(rows), written.take(picked))
            result.append(pa.array([action.replace(t) for t in targets], pa.string()))
            order.append(rows)
    position = np.empty(len(found), dtype=np.int64)
    position[np.concatenate(order)] = np.arange(len(found))
    replaced = pa.concat_arrays(result).take(pa.array(position))
    return replaced, pc.is_null(replaced).to_numpy(zero_copy_only=False)


def _record(found: engine.Found, written: pa.Array, counts: np.ndarray, stats: ColumnStats) -> None:
    """Count the findings by the rows their values stand for, and keep masked examples."""
    weights = counts[found.row]
    for entity, mine in _entities(found):
        stats.findings[entity] += int(weights[mine].sum())
        stats.validated[entity] += int(weights[mine & found.validated].sum())
        stats.whole_value[entity] += int(weights[mine & found.whole].sum())
        rows = found.row[mine]  # sorted: findings are ordered by value
        stats.rows_with[entity] += int(counts[rows[_firsts(rows)]].sum())
        shown = np.flatnonzero(mine & (weights > 0))[:EXAMPLES_PER_ENTITY]
        examples = _targets(found.take(shown), written.take(pa.array(shown)))
        stats.add_examples(entity, [DISPLAY_MASK.replace(t) or "" for t in examples])


def _assemble(distinct: pa.Array, found: engine.Found, replaced: pa.Array, nulled: np.ndarray
              ) -> tuple[np.ndarray, pa.Array]:
    """The values holding findings (their positions among `distinct`) with every span replaced, null
    where a replacement nulls the value. A value that is one finding exactly (an ID column's) becomes
    its replacement; the others are spliced."""
    _, offsets = utf8_buffer(distinct)
    alone = np.bincount(found.row, minlength=len(distinct))[found.row] == 1
    exact = alone & (found.start == 0) & (found.end == offsets[found.row + 1] - offsets[found.row])
    if exact.all():
        return found.row, replaced
    spliced = ~exact
    rows, values = _spliced(distinct, found.take(np.flatnonzero(spliced)), replaced.filter(spliced),
                            nulled[spliced])
    return (np.concatenate([found.row[exact], rows]),
            pa.concat_arrays([replaced.filter(exact).cast(pa.string()), values]))


def _spliced(distinct: pa.Array, found: engine.Found, replaced: pa.Array, nulled: np.ndarray
             ) -> tuple[np.ndarray, pa.Array]:
    """`_assemble` for values with findings inside them: one byte gather over the old values and the
    replacements."""
    data, offsets = utf8_buffer(distinct)
    extra, extra_offsets = utf8_buffer(replaced.cast(pa.string()).fill_null(""))
    starts_value = _firsts(found.row)  # findings are ordered by value, then start
    first = np.flatnonzero(starts_value)
    rows = found.row[first]
    base = offsets[found.row]
    # Per finding: the kept text before it (from the previous span's end), then its replacement.
    previous_end = np.where(starts_value, 0, np.roll(found.end, 1))
    keep_start = base + previous_end
    keep_length = found.start - previous_end
    repl_start = len(data) + extra_offsets[:-1]
    repl_length = np.diff(extra_offsets)
    last = np.append(first[1:], len(found)) - 1
    tail_start = offsets[rows] + found.end[last]
    tail_length = offsets[rows + 1] - tail_start
    segment_start = np.concatenate([np.stack([keep_start, repl_start], axis=1).ravel(), tail_start])
    segment_length = np.concatenate([np.stack([keep_length, repl_length], axis=1).ravel(), tail_length])
    owner = np.concatenate([np.repeat(np.arange(len(found)), 2), len(found) + np.arange(len(rows))])
    owner_row = np.concatenate([found.row, rows])[owner]
    order = np.lexsort((owner, owner_row))
    values = np.searchsorted(rows, owner_row[order])
    lengths = np.bincount(values, weights=segment_length[order], minlength=len(rows)).astype(np.int64)
    assembled = gather(np.concatenate([data, extra]), segment_start[order], segment_length[order])
    joined = _join(assembled, values, lengths)
    dropped = np.zeros(len(distinct), dtype=bool)
    dropped[found.row[nulled]] = True
    mask = pa.array(dropped[rows])
    return rows, pc.if_else(mask, pa.scalar(None, pa.string()), joined)


def _join(pieces: pa.Array, owners: np.ndarray, lengths: np.ndarray) -> pa.Array:
    """Consecutive pieces of one owner as one string (the pieces are in owner order)."""
    data, _ = utf8_buffer(pieces)
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    joined = np.ascontiguousarray(data[: offsets[-1]])
    return pa.LargeStringArray.from_buffers(len(lengths), pa.py_buffer(offsets), pa.py_buffer(joined)
                                            ).cast(pa.string())


def _declared(distinct: pa.Array, plan: ColumnPlan) -> tuple[engine.Found, engine.Found]:
    """A declared column's findings (values the engine reads whole as the entity, for the statistics),
    and its targets: every non-null value whole, as the entity where it parses, `DECLARED` otherwise
    (acted on all the same: fail closed)."""
    found = engine.find(distinct, [plan.entity], None, 0.0)
    single = np.bincount(found.row, minlength=len(distinct)) == 1
    found = found.take(np.flatnonzero(found.whole & single[found.row]))
    present = np.flatnonzero(pc.is_valid(distinct).to_numpy(zero_copy_only=False))
    other = np.setdiff1d(present, found.row)
    size = len(other)
    unparsed = engine.Found(
        other, np.zeros(size, dtype=np.int64), np.zeros(size, dtype=np.int64),
        np.full(size, plan.entity), np.full(size, DECLARED), np.zeros(size),
        np.zeros(size, dtype=bool), np.zeros(size, dtype=np.int8),
        pc.replace_substring_regex(distinct.take(pa.array(other)), r"\s+", ""), np.ones(size, dtype=bool),
    )
    merged = engine.Found(*(
        pa.concat_arrays([getattr(found, f.name), getattr(unparsed, f.name)])
        if f.name == "value" else np.concatenate([getattr(found, f.name), getattr(unparsed, f.name)])
        for f in dataclasses.fields(engine.Found)
    ))
    merged = merged.take(np.argsort(merged.row, kind="stable"))
    _, offsets = utf8_buffer(distinct)
    whole = dataclasses.replace(merged, start=np.zeros(len(merged), dtype=np.int64),
                                end=offsets[merged.row + 1] - offsets[merged.row])
    return found, whole


_SHARED: dict[tuple, tuple[pa.Array, engine.Found]] = {}
_SHARED_LOCK = threading.Lock()


class FoundMemo:
    """What the engine found in a column's few distinct values, remembered: a column of codes, cities or
    statuses holds the same values in every batch and file, and searching a few values costs about the
    fixed cost of the engine's passes (some 10 ms). Sets of up to `SHARED_VALUES` values in which the
    engine reads no number are remembered for the whole process, by column, entities and threshold
    (`SHARED_SETS` of them): only numbers are ever looked up in a run's known values. Any other set of up
    to `MEMO_VALUES` values only by the task (one file) that searched it, the last of each column: the
    engine notes what it reads in the task's known values, which a memo spares it only for values noted
    already."""

    def __init__(self) -> None:
        self._last: dict[str, tuple[frozenset[str], pa.Array, engine.Found]] = {}

    def find(self, distinct: pa.Array, plan: ColumnPlan, known: KnownValues | None) -> engine.Found:
        """`engine.find` of the plan on `distinct` (no nulls), from the memo when the same set was searched
        before; the findings then follow the rows of `distinct`."""
        if len(distinct) > MEMO_VALUES:
            return engine.find(distinct, plan.entities, plan.name, plan.threshold, known)
        values = frozenset(distinct.to_pylist())
        if len(distinct) <= SHARED_VALUES and not engine.reads_numbers(distinct):
            key = (plan.name, tuple(plan.entities), plan.threshold, values)
            with _SHARED_LOCK:  # a set two threads ask for at once is searched once
                hit = _SHARED.get(key)
                if hit is None:
                    hit = distinct, engine.find(distinct, plan.entities, plan.name, plan.threshold, known)
                    while len(_SHARED) >= SHARED_SETS:
                        del _SHARED[next(iter(_SHARED))]
                    _SHARED[key] = hit
            return _reordered(*hit, distinct)
        last = self._last.get(plan.name)
        if last is None or last[0] != values:
            found = engine.find(distinct, plan.entities, plan.name, plan.threshold, known)
            self._last[plan.name] = values, distinct, found
            return found
        return _reordered(last[1], last[2], distinct)


def _reordered(seen: pa.Array, found: engine.Found, distinct: pa.Array) -> engine.Found:
    """`found` in the values `seen`, moved to the rows the same values hold in `distinct`."""
    if seen.equals(distinct):
        return found
    row = pc.index_in(seen, value_set=distinct).to_numpy()[found.row]
    order = np.lexsort((found.start, row))
    return dataclasses.replace(found.take(order), row=row[order])


def _map_distinct(distinct: pa.Array, counts: np.ndarray, plan: ColumnPlan, stats: ColumnStats, output: bool,
                  known: KnownValues | None, memo: FoundMemo | None) -> pa.Array | None:
    """Transform each distinct (non-null) string once; without `output`, only gather the statistics.
    A declared column's every value is its entity, counted only where it parses as it. What is found
    is noted in `known` (when it gathers the run's known values)."""
    if plan.mode is Mode.DECLARED:
        counted, found = _declared(distinct, plan)
        data, offsets = utf8_buffer(distinct)
        _record(counted, gather(data, offsets[counted.row] + counted.start, counted.end - counted.start),
                counts, stats)
    else:
        counted = found = (memo.find(distinct, plan, known) if memo is not None
                           else engine.find(distinct, plan.entities, plan.name, plan.threshold, known))
        data, offsets = utf8_buffer(distinct)
    if known is not None and known.gather:
        known.note_reported(known.digests(counted.entity, counted.value))
    written = gather(data, offsets[found.row] + found.start, found.end - found.start)
    if plan.mode is not Mode.DECLARED:
        _record(found, written, counts, stats)
    if not output:
        return None
    if not len(found):
        return distinct
    replaced, nulled = _replacements(found, written, plan)
    rows, values = _assemble(distinct, found, replaced, nulled)
    replacements = _Replacements(distinct)
    replacements.put(rows, values)
    return replacements.result()


def _as_text(array: pa.Array) -> pa.Array:
    if pa.types.is_string(array.type):
        return array
    return pc.cast(array, pa.string())  # large_string, and integer columns scanned as their digits


def _transform_values(array: pa.Array, plan: ColumnPlan, stats: ColumnStats, output: bool,
                      known: KnownValues | None, memo: FoundMemo | None) -> pa.Array | None:
    encoded = array if pa.types.is_dictionary(array.type) else pc.dictionary_encode(_as_text(array))
    counts = np.bincount(encoded.indices.drop_null().to_numpy(zero_copy_only=False),
                         minlength=len(encoded.dictionary))
    mapped = _map_distinct(_as_text(encoded.dictionary), counts, plan, stats, output, known, memo)
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


def transform_column(array: pa.Array, plan: ColumnPlan, output: bool = True, known: KnownValues | None = None,
                     memo: FoundMemo | None = None) -> tuple[pa.Array | None, ColumnStats]:
    """The column as the plan says it leaves (None unless `output`), and what was found in it (with
    `known`: the run's known values reported too, and what was found noted; with `memo`, the task's
    findings in few distinct values are reused)."""
    stats = ColumnStats(rows=len(array), non_null=len(array) - array.null_count)
    if plan.mode is Mode.KEEP:
        return (array if output else None), stats
    if plan.mode is Mode.WHOLE:
        return (_whole_column(array, plan) if output else None), stats
    transformed = _transform_values(array, plan, stats, output, known, memo)
    return (transformed.cast(plan.output_type) if transformed is not None else None), stats


class ColumnFailed(Exception):
    """A column whose values could not be transformed: its name and the reason, never a value."""

    def __init__(self, column: str, error: Exception) -> None:
        self.column = column
        self.reason = "not valid UTF-8" if isinstance(error, UnicodeDecodeError) else type(error).__name__
        super().__init__(f"column {column!r}: {self.reason}")


def _column(table: pa.Table, plan: ColumnPlan, output: bool, known: KnownValues | None, memo: FoundMemo | None
            ) -> tuple[pa.Array | None, ColumnStats]:
    try:
        return transform_column(table.column(plan.name).combine_chunks(), plan, output, known, memo)
    except (pa.ArrowException, ValueError, TypeError) as error:  # a value Arrow or a decoder refuses
        raise ColumnFailed(plan.name, error) from None


def transform_table(table: pa.Table, plans: list[ColumnPlan], known: KnownValues | None = None,
                    memo: FoundMemo | None = None) -> tuple[pa.Table, dict[str, ColumnStats]]:
    """Apply every column's plan to a table (one batch); returns the new table and per-column stats.
    Raises `ColumnFailed` naming the column whose values cannot be transformed."""
    columns, stats = [], {}
    for plan in plans:
        array, stats[plan.name] = _column(table, plan, True, known, memo)
        columns.append(array)
    return pa.Table.from_arrays(columns, schema=output_schema(table.schema, plans)), stats


def scan_table(table: pa.Table, plans: list[ColumnPlan], known: KnownValues | None = None,
               memo: FoundMemo | None = None) -> dict[str, ColumnStats]:
    """What `transform_table` would find in a table, without building its output (scan and verify)."""
    return {plan.name: _column(table, plan, False, known, memo)[1] for plan in plans}
