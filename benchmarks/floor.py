"""The floor: read every file of a Parquet dataset with pyarrow and write it back, no processing.

`python -m benchmarks.floor INPUT OUTPUT` copies INPUT/part-*.parquet to OUTPUT with zstd compression,
as cnpii writes its output. Files go one after another; pyarrow decodes and encodes columns on all
cores itself. The last stdout line is JSON: rows and files copied.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pyarrow.parquet as pq


def copy_dataset(source: Path, target: Path) -> dict[str, int]:
    """Read and rewrite each file; return rows and files copied."""
    target.mkdir(parents=True, exist_ok=True)
    rows = files = 0
    for path in sorted(source.glob("part-*.parquet")):
        table = pq.read_table(path)
        pq.write_table(table, target / path.name, compression="zstd")
        rows += table.num_rows
        files += 1
    return {"rows": rows, "files": files}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input", type=Path)
    parser.add_argument("output", type=Path)
    args = parser.parse_args()
    print(json.dumps(copy_dataset(args.input, args.output)))


if __name__ == "__main__":
    main()
