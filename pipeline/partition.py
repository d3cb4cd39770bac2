"""Work on one input file at a time: the unit a Dask task runs.

One input file becomes one output file at the same relative path (so hive partitions and file layout
survive), read and written in batches of row groups so that memory is bounded by the batch, not the file.
Every error leaving this module names the file and a reason, never a cell value: pyarrow's messages can
quote the value that failed to convert, so they are not passed on.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import fsspec
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline.errors import TransientError
from pipeline.known import Gathered, KnownTask, write_gathered
from pipeline.plan import ColumnPlan, PlanError, is_fractional, output_schema
from pipeline.risk import add_part, merge_counts
from pipeline.transform import ColumnFailed, ColumnStats, FoundMemo, scan_table, transform_table
from recognizers import engine, resident_id

if TYPE_CHECKING:
    from pipeline.release import ReleaseStep

MIN_INTEGER_DIGITS = 11
"""The fewest digits of an entity stored as an integer: a mobile (IDs have 15 or 18, cards 15-19)."""
BATCH_ROWS = 65_536
"""Rows transformed at once: bounds a worker's memory whatever the file size."""
BATCH_BYTES = 16 * 2**20
"""…or fewer, so that a batch holds about this many bytes of column data as the file's footer counts
them: the engine's working memory grows with the bytes of text (25 to 35 times them at its peak, measured
on notes), and a column of call transcripts holds kilobytes a row. The footer counts a value repeated in a
dictionary-encoded page once, as the engine, which reads each distinct value once, does too."""


class DataError(TransientError, RuntimeError):
    """An input or output file could not be processed; the message names the file and the reason."""


@dataclass
class FileResult:
    """What one file's task reports back: rows, per-column statistics and, with a release step, the class
    counts of what was written (sizes of released tuples; no value of the input)."""

    relative_path: str
    rows: int = 0
    columns: dict[str, ColumnStats] = field(default_factory=dict)
    classes: pa.Table | None = None
    key_fingerprint: str | None = None
    """The fingerprint of the key this file's keyed actions used where the task ran (a worker reads the
    key from its own environment): the run refuses a result made with another key than its own."""
    gathered: Gathered | None = None
    """Where the transform wrote the digests of what it reported and left below the threshold."""

    def add(self, stats: Mapping[str, ColumnStats]) -> None:
        """Fold one batch's column statistics in."""
        for name, column in stats.items():
            self.columns.setdefault(name, ColumnStats()).add(column)


def _open(url: str, storage_options: Mapping[str, Any] | None, mode: str = "rb"):
    return fsspec.open(url, mode, **dict(storage_options or {}))


def read_schema(url: str, relative_path: str, storage_options: Mapping[str, Any] | None) -> pa.Schema:
    """The Arrow schema of one Parquet file (footer only)."""
    try:
        with _open(url, storage_options) as f:
            return pq.read_schema(f)
    except (OSError, pa.ArrowException) as error:
        raise DataError(
            f"{relative_path}: cannot read the Parquet footer ({type(error).__name__}); "
            "the file is corrupt, truncated or not Parquet"
        ) from None


def read_batches(
    url: str, relative_path: str, columns: list[str] | None, storage_options: Mapping[str, Any] | None,
    types: Mapping[str, pa.DataType] | None = None,
) -> Iterator[pa.Table]:
    """The file's rows in tables of at most `BATCH_ROWS` rows and about `BATCH_BYTES` bytes, columns typed
    null in this file read as their type in `types` (the dataset's); DataError names the file when it
    cannot be read."""
    try:
        with _open(url, storage_options) as f:
            reader = pq.ParquetFile(f)
            for batch in reader.iter_batches(_batch_rows(reader.metadata, columns), columns=columns):
                yield _typed(pa.Table.from_batches([batch]), types or {})
    except (OSError, pa.ArrowException) as error:
        raise DataError(
            f"{relative_path}: cannot read data pages ({type(error).__name__}); "
            "the file is corrupt or truncated"
        ) from None


def _batch_rows(metadata: pq.FileMetaData, columns: Collection[str] | None) -> int:
    """Rows a batch of `columns` may hold: `BATCH_ROWS`, fewer where the footer says the rows are wide
    (in the widest row group: one group of transcripts among many of short rows counts)."""
    wanted = None if columns is None else set(columns)

    def read(path: str) -> bool:  # a nested column's leaves are named `column.list.element`, `a.b`
        return wanted is None or path.split(".", 1)[0] in wanted

    widest = 0.0
    for group in (metadata.row_group(i) for i in range(metadata.num_row_groups)):
        size = sum(group.column(k).total_uncompressed_size
                   for k in range(group.num_columns) if read(group.column(k).path_in_schema))
        if group.num_rows:
            widest = max(widest, size / group.num_rows)
    return max(1, min(BATCH_ROWS, int(BATCH_BYTES / widest))) if widest else BATCH_ROWS


def _typed(table: pa.Table, types: Mapping[str, pa.DataType]) -> pa.Table:
    """`table` with its null-typed columns given their dataset type (they hold nulls only)."""
    for index, column in enumerate(table.schema):
        wanted = types.get(column.name)
        if wanted is not None and pa.types.is_null(column.type) and not pa.types.is_null(wanted):
            table = table.set_column(index, column.with_type(wanted), pa.nulls(table.num_rows, wanted))
    return table


def plan_types(plans: Collection[ColumnPlan]) -> dict[str, pa.DataType]:
    """The dataset type of each planned column, for `read_batches`."""
    return {plan.name: plan.input_type for plan in plans if plan.input_type is not None}


def process_file(
    url: str,
    relative_path: str,
    plans: list[ColumnPlan],
    storage_options: Mapping[str, Any] | None = None,
    output_url: str | None = None,
    release: ReleaseStep | None = None,
    keep_metadata: bool = False,
    known: KnownTask | None = None,
) -> FileResult:
    """Transform one file by the plans; write it to `output_url` when given (scan and verify only count).
    With `known`, the run's known values are promoted and what is found is gathered (`pipeline.known`).

    The plans (and the release step's node) decide the output schema up front, so every batch and every
    file share it even where a batch holds no personal data.
    """
    values = known.values() if known is not None else None
    memo = FoundMemo()
    keyrings = {a.keyring.fingerprint for p in plans for a in p.actions.values() if a.keyring is not None}
    result = FileResult(relative_path, key_fingerprint=min(keyrings) if keyrings else None)
    writer = None
    classes: list[pa.Table] = []

    def open_writer(footer: pa.Schema) -> tuple[Any, pq.ParquetWriter]:
        """The output file and its writer, with the schema the plans (and the release node) give; the
        file is closed again if the writer cannot be made."""
        schema = _released_schema(output_schema(footer, plans, keep_metadata), release)
        sink = _open(output_url, storage_options, "wb").open()
        try:
            return sink, pq.ParquetWriter(sink, schema, compression="zstd")
        except BaseException:
            sink.close()
            raise

    try:
        for batch in read_batches(url, relative_path, [p.name for p in plans], storage_options,
                                  plan_types(plans)):
            try:
                if output_url is None:
                    table, stats = None, scan_table(batch, plans, values, memo)
                else:
                    table, stats = transform_table(batch, plans, values, memo)
                    if release is not None:
                        table, counted = release.apply(batch, table)
                        classes = add_part(classes, counted)
            except ColumnFailed as failed:
                raise DataError(f"{relative_path}: {failed}") from None
            except (pa.ArrowException, ValueError, TypeError) as error:
                raise DataError(f"{relative_path}: the file could not be transformed ({type(error).__name__})"
                                ) from None
            result.rows += batch.num_rows
            result.add(stats)
            if table is not None:
                if writer is None:  # a batch carries no key-value metadata: the footer does
                    footer = read_schema(url, relative_path, storage_options) if keep_metadata else None
                    sink, writer = open_writer(footer or batch.schema)
                writer.write_table(table)
        if output_url is not None and writer is None:  # a zero-row file still gets its (empty) output
            sink, writer = open_writer(read_schema(url, relative_path, storage_options))
    except OSError as error:
        raise DataError(
            f"{relative_path}: cannot write the output file ({error.strerror or type(error).__name__})"
        ) from None
    finally:
        if writer is not None:
            writer.close()
            sink.close()
    result.classes = merge_counts(classes) if classes else None
    if values is not None and values.gather:
        assert known is not None and known.gathered_url is not None
        try:
            result.gathered = write_gathered(values, known.gathered_url, storage_options)
        except OSError as error:
            raise DataError(f"{relative_path}: cannot write the run's known-value digests "
                            f"({error.strerror or type(error).__name__})") from None
    return result


def _released_schema(schema: pa.Schema, release: ReleaseStep | None) -> pa.Schema:
    return schema if release is None else release.schema(schema)


EXACT_FLOAT_LIMIT = 2.0**53
"""Integers from here on are not all exact in a float64: their digits may already be lost."""


def _integral_digits(values: pa.Array) -> tuple[pa.Array, bool]:
    """The integral values of a float or decimal array as digit strings, and whether any integral value is
    too large for its digits to be trusted (a float cannot hold an 18-digit ID exactly)."""
    numbers = pc.cast(values, pa.float64())
    finite = pc.filter(numbers, pc.is_finite(numbers))
    integral = pc.filter(finite, pc.equal(pc.floor(finite), finite))
    exact = pc.less(pc.abs(integral), EXACT_FLOAT_LIMIT)
    digits = pc.cast(pc.cast(pc.filter(integral, exact), pa.int64()), pa.string())
    return digits, not pc.all(exact).as_py() if len(integral) else False


def _long_integers(values: pa.Array) -> pa.Array:
    """The values of an integer column with at least `MIN_INTEGER_DIGITS` digits, the only ones that can
    be a phone or an ID (a column narrower than 64 bits has none); other columns as they are."""
    if not pa.types.is_integer(values.type):
        return values
    if values.type.bit_width < 64:
        return values.slice(0, 0)
    smallest = 10 ** (MIN_INTEGER_DIGITS - 1)
    long = pc.greater_equal(values, pa.scalar(smallest, values.type))
    if pa.types.is_signed_integer(values.type):
        long = pc.or_(long, pc.less_equal(values, pa.scalar(-smallest, values.type)))
    return values.filter(long)


def _refuse_fractional(relative_path: str, name: str, reason: str) -> PlanError:
    return PlanError(
        f"{relative_path}: column {name!r} is a float or decimal column whose integral values {reason}; "
        "cnpii does not rewrite numbers: store it as text or int64, or name it in the policy "
        "({action: redact}, or keep if it holds no personal data)"
    )


def _ids_without_x(digits: pa.Array, name: str, threshold: float) -> bool:
    """Whether 17-digit integers are resident IDs whose check character was X: an integer column cannot
    store the X, so the recognizers cannot find them, yet the digits still hold birth date and place."""
    bodies = pc.filter(digits, pc.equal(pc.utf8_length(digits), 17))
    with_x = pc.binary_join_element_wise(bodies, pa.scalar("X"), "")
    return bool(engine.find(with_x, [resident_id.ENTITY], name, threshold).validated.any())


def integer_columns_with_pii(
    url: str,
    relative_path: str,
    columns: Collection[str],
    entities: Collection[str],
    threshold: float,
    storage_options: Mapping[str, Any] | None = None,
) -> set[str]:
    """Which integer columns of one file hold phones or ID numbers (the pre-pass behind the plan).

    An integer has lost any leading zero, so it cannot be a landline: only values of at least
    `MIN_INTEGER_DIGITS` digits (a mobile) can be one. The distinct values are decided in bulk. Float
    and decimal columns (`plan.is_fractional`) are refused with a PlanError instead when their integral
    values hold one, or are too large to be exact: passing them through would leak them.
    """
    found: set[str] = set()
    if not columns:
        return found
    for batch in read_batches(url, relative_path, list(columns), storage_options):
        for name in columns:
            if name in found:
                continue
            values = pc.unique(_long_integers(pc.drop_null(batch.column(name))))
            fractional = is_fractional(values.type)
            text, inexact = _integral_digits(values) if fractional else (pc.cast(values, pa.string()), False)
            if inexact:
                raise _refuse_fractional(relative_path, name, "are too large to be exact (digits lost)")
            long = pc.filter(text, pc.greater_equal(pc.utf8_length(text), MIN_INTEGER_DIGITS))
            if len(engine.find(long, entities, name, threshold)):
                if fractional:
                    raise _refuse_fractional(relative_path, name, "hold phone or ID numbers")
                found.add(name)
            elif resident_id.ENTITY in entities and _ids_without_x(text, name, threshold):
                raise PlanError(
                    f"{relative_path}: column {name!r} holds 17-digit integers that are resident IDs whose "
                    "check character X was lost; store the column as text, or name it in the policy "
                    "({action: redact})"
                )
    return found
