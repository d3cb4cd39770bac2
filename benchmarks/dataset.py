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

import numpy as np
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


STATUSES = ("正常", "逾期", "结清", "核销")


def quasi_identifier_dataset(data_dir: Path, rows: int, rows_per_file: int, seed: int = 0) -> Path:
    """A loans-shaped table of quasi-identifiers only, for measuring risk at scale: a borrower id (about
    0.6 loans' worth of distinct people), birth date, gender, county code and a loan status (the sensitive
    column). Generated file by file with numpy, so 10,000,000 rows take seconds and little memory."""
    files = max(2, math.ceil(rows / rows_per_file))
    folder = Path(data_dir) / f"quasi-identifiers-{rows}-rows-{files}-files-seed{seed}"
    marker = folder / READY
    if marker.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    counties = pa.array(sample_data.AREA_CODES, pa.string())
    first_day = np.datetime64("1950-01-01").astype(int)
    days = np.datetime64("2005-12-31").astype(int) - first_day
    for number in range(files):
        n = min(rows_per_file, rows - number * rows_per_file)
        table = pa.table({
            "borrower": pa.array(rng.integers(0, int(rows * 0.6), n)),
            "birth_date": pa.array((first_day + rng.integers(0, days, n)).astype("datetime64[D]")),
            "gender": pa.array(np.where(rng.integers(0, 2, n) == 1, "男", "女")),
            "county": counties.take(pa.array(rng.integers(0, len(counties), n))),
            "status": pa.array(STATUSES).take(pa.array(rng.integers(0, len(STATUSES), n))),
        })
        pq.write_table(table, folder / f"part-{number:05d}.parquet", compression="zstd")
    marker.write_text(json.dumps({"rows": rows, "files": files, "seed": seed}), encoding="utf-8")
    return folder
