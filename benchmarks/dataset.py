"""The benchmark dataset: the sample-data customers table at a chosen size, cached between runs.

One table, so that `cnpii run` sees one dataset with one schema: the customers table of
`pipeline.sample_data` (resident ID, mobile, bank card, name, address, free-text remark, dates, scores),
split into files of a fixed number of rows. Files, not the dataset, are the unit a cnpii task holds in
memory, so a fixed file size is what lets the memory check grow the dataset without growing a task.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline import sample_data

TABLE = sample_data.CUSTOMERS
TABLE_NUMBER = sample_data.TABLES.index(TABLE) + 1  # the stream `generate` uses, so the data is the same
READY = "_BENCHMARK_READY.json"


@dataclass(frozen=True)
class DatasetInfo:
    """What the report says about a dataset: its size in rows, files, bytes and string cells."""

    path: Path
    rows: int
    files: int
    bytes_on_disk: int
    bytes_uncompressed: int
    bytes_in_memory: int  # as Arrow tables, estimated from the first file: what "larger than memory" means
    string_cells: int  # non-null cells of string columns: the cells a per-cell engine must look at


def customers_dataset(data_dir: Path, rows: int, rows_per_file: int, seed: int = 0) -> Path:
    """The folder of a `rows`-row customers dataset under `data_dir`, generated unless already there."""
    files = max(2, math.ceil(rows / rows_per_file))
    folder = Path(data_dir) / f"customers-{rows}-rows-{files}-files-seed{seed}"
    marker = folder / READY
    if marker.exists():
        return folder
    people = sample_data.draw_people(rows, seed)
    table = sample_data.build_table(TABLE, people, seed, TABLE_NUMBER)
    del people
    sample_data.write_dataset(table, folder, files)
    marker.write_text(json.dumps({"rows": rows, "files": files, "seed": seed}), encoding="utf-8")
    return folder


def describe(folder: Path) -> DatasetInfo:
    """Rows, files, sizes and non-null string cells, from the Parquet footers and the first file's data."""
    paths = sorted(Path(folder).glob("part-*.parquet"))
    rows = on_disk = uncompressed = string_cells = 0
    for path in paths:
        metadata = pq.ParquetFile(path).metadata
        schema = metadata.schema.to_arrow_schema()
        strings = [i for i, f in enumerate(schema) if pa.types.is_string(f.type)]
        rows += metadata.num_rows
        on_disk += path.stat().st_size
        for g in range(metadata.num_row_groups):
            group = metadata.row_group(g)
            uncompressed += group.total_byte_size
            for c in strings:
                column = group.column(c)
                nulls = column.statistics.null_count if column.statistics is not None else 0
                string_cells += group.num_rows - (nulls or 0)
    first = pq.read_table(paths[0])
    in_memory = round(first.nbytes / max(first.num_rows, 1) * rows)
    return DatasetInfo(Path(folder), rows, len(paths), on_disk, uncompressed, in_memory, string_cells)
