"""The peer baseline: Presidio, cell by cell, with cnpii's recognizers.

`python -m benchmarks.presidio_baseline INPUT --cells N` draws N non-null cells at random from all string
columns of the Parquet files in INPUT, then times Presidio's BatchAnalyzerEngine (analyze_iterator) and
AnonymizerEngine (replace, Presidio's default operator) over them, one cell at a time as a Presidio user
would. Start-up (imports, building the analyzer) and drawing the sample are not timed, so the seconds per
cell are Presidio's at its best. The last stdout line is JSON: cells, seconds, entities found.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from presidio_analyzer import BatchAnalyzerEngine
from presidio_anonymizer import AnonymizerEngine

from recognizers import ENTITIES
from recognizers.presidio_recognizers import build_analyzer

LANGUAGE = "zh"


def _string_cells(path: Path) -> pa.Array:
    """The non-null values of every string column of one file, one after another."""
    table = pq.read_table(path)
    columns = [pc.drop_null(table[f.name]) for f in table.schema if pa.types.is_string(f.type)]
    chunks = [chunk for column in columns for chunk in column.chunks]
    return pa.chunked_array(chunks, pa.string()).combine_chunks()


def sample_cells(folder: Path, cells: int, seed: int) -> list[str]:
    """`cells` string cells drawn uniformly without replacement across the files, in file order.

    Each file gives its share of the sample by its number of non-null string cells, so only one file's
    columns are in memory at a time.
    """
    rng = np.random.default_rng(seed)
    paths = sorted(folder.glob("part-*.parquet"))
    counts = [len(_string_cells(p)) for p in paths]  # one pass to size the shares
    chosen = np.sort(rng.choice(sum(counts), size=min(cells, sum(counts)), replace=False))
    bounds = np.cumsum([0, *counts])
    sample: list[str] = []
    for path, start, stop in zip(paths, bounds[:-1], bounds[1:], strict=True):
        mine = chosen[(chosen >= start) & (chosen < stop)] - start
        if mine.size:
            sample.extend(_string_cells(path).take(pa.array(mine)).to_pylist())
    return sample


def time_presidio(texts: list[str]) -> dict[str, float | int]:
    """Analyze and anonymize each text; return the seconds taken and the entities found."""
    batch = BatchAnalyzerEngine(analyzer_engine=build_analyzer(LANGUAGE))
    anonymizer = AnonymizerEngine()
    found = 0
    started = time.perf_counter()
    analyzed = batch.analyze_iterator(texts, language=LANGUAGE, entities=list(ENTITIES))
    for text, results in zip(texts, analyzed, strict=True):
        anonymizer.anonymize(text=text, analyzer_results=results)
        found += len(results)
    return {"cells": len(texts), "seconds": time.perf_counter() - started, "entities": found}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input", type=Path)
    parser.add_argument("--cells", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(json.dumps(time_presidio(sample_cells(args.input, args.cells, args.seed))))


if __name__ == "__main__":
    main()
