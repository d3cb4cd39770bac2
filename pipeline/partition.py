"""Work on one input file at a time: the unit a Dask task runs.

One input file becomes one output file at the same relative path (so hive partitions and file layout
survive), read and written in batches of row groups so that memory is bounded by the batch, not the file.
Every error leaving this module names the file and a reason, never a cell value: pyarrow's messages can
quote the value that failed to convert, so they are not passed on.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import fsspec
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline.plan import ColumnPlan, output_schema
from pipeline.transform import MIN_DIGITS, ColumnStats, transform_table
from recognizers import detect

BATCH_ROWS = 65_536
"""Rows transformed at once: bounds a worker's memory whatever the file size."""


class DataError(RuntimeError):
    """An input or output file could not be processed; the message names the file and the reason."""


@dataclass
class FileResult:
    """What one file's task reports back: rows and per-column statistics (no values)."""

    relative_path: str
    rows: int = 0
    columns: dict[str, ColumnStats] = field(default_factory=dict)

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


def _batches(
    url: str, relative_path: str, columns: list[str] | None, storage_options: Mapping[str, Any] | None
):
    try:
        with _open(url, storage_options) as f:
            reader = pq.ParquetFile(f)
            yield from (pa.Table.from_batches([b]) for b in reader.iter_batches(BATCH_ROWS, columns=columns))
    except (OSError, pa.ArrowException) as error:
        raise DataError(
            f"{relative_path}: cannot read data pages ({type(error).__name__}); "
            "the file is corrupt or truncated"
        ) from None


def process_file(
    url: str,
    relative_path: str,
    plans: list[ColumnPlan],
    storage_options: Mapping[str, Any] | None = None,
    output_url: str | None = None,
) -> FileResult:
    """Transform one file by the plans; write it to `output_url` when given (scan and verify only count).

    The plans decide the output schema up front, so every batch and every file share it even where a
    batch holds no personal data.
    """
    result = FileResult(relative_path)
    schema = None
    writer = None
    try:
        for batch in _batches(url, relative_path, [p.name for p in plans], storage_options):
            try:
                table, stats = transform_table(batch, plans)
            except (pa.ArrowException, ValueError, TypeError) as error:
                raise DataError(
                    f"{relative_path}: a column could not be transformed ({type(error).__name__})"
                ) from None
            result.rows += table.num_rows
            result.add(stats)
            if output_url is not None:
                if writer is None:
                    schema = output_schema(batch.schema, plans)
                    sink = _open(output_url, storage_options, "wb").open()
                    writer = pq.ParquetWriter(sink, schema, compression="zstd")
                writer.write_table(table)
        if output_url is not None and writer is None:  # a zero-row file still gets its (empty) output
            schema = output_schema(read_schema(url, relative_path, storage_options), plans)
            sink = _open(output_url, storage_options, "wb").open()
            writer = pq.ParquetWriter(sink, schema, compression="zstd")
    except OSError as error:
        raise DataError(
            f"{relative_path}: cannot write the output file ({error.strerror or type(error).__name__})"
        ) from None
    finally:
        if writer is not None:
            writer.close()
            sink.close()
    return result


def integer_columns_with_pii(
    url: str,
    relative_path: str,
    columns: Collection[str],
    entities: Collection[str],
    threshold: float,
    storage_options: Mapping[str, Any] | None = None,
) -> set[str]:
    """Which integer columns of one file hold phones or ID numbers (the pre-pass behind the plan).

    Only values with at least `MIN_DIGITS` digits can be one; each distinct such value is checked once.
    """
    found: set[str] = set()
    if not columns:
        return found
    for batch in _batches(url, relative_path, list(columns), storage_options):
        for name in columns:
            if name in found:
                continue
            values = pc.unique(pc.drop_null(batch.column(name)))
            text = pc.cast(values, pa.string())
            long = pc.filter(text, pc.greater_equal(pc.utf8_length(text), MIN_DIGITS))
            if any(detect(v, entities, column=name, threshold=threshold) for v in long.to_pylist()):
                found.add(name)
    return found
