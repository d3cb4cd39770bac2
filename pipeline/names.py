"""Personal data in the names of a dataset: hive partition values, file names and column names.

A lending export partitioned by `mobile=13812345678/` or written as `customer_1101…_139….parquet`, or a
column named `备注13812345678`, carries personal data outside any cell: the output paths, the manifest
and the reports would repeat it. Names are data, so they are scanned with the same recognizers, and a
run is refused (exit 2) while one holds an entity, naming the place and the entity with the value
display-masked; `scan` lists them; verify counts them as leaks. Renaming the files or columns is left to
the sender, who knows what the receiver expects.

>>> [f.describe() for f in names_with_personal_data(["mobile=13812345678/part-0.parquet"], ["n"])]
['partition value mobile=138****5678 holds CN_PHONE']
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pipeline.actions import Target
from pipeline.storage import PARQUET_SUFFIXES
from pipeline.transform import DISPLAY_MASK
from recognizers.detector import detect_many


@dataclass(frozen=True)
class NameFinding:
    """One name holding personal data: where (partition value, file name, column name), the name with
    the entity display-masked, and the entity."""

    kind: str
    masked: str
    entity: str

    def describe(self) -> str:
        """`partition value mobile=138****5678 holds CN_PHONE`."""
        return f"{self.kind} {self.masked} holds {self.entity}"


def _masked(texts: Sequence[str], column: str | None) -> list[list[tuple[str, str]]]:
    """For each of `texts`, the entities found in it with the text display-masked at each of them. The
    texts are searched in one engine call: a call costs a few milliseconds whatever it holds, and a table
    may have hundreds of columns."""
    masked_texts: list[list[tuple[str, str]]] = []
    for text, findings in zip(texts, detect_many(texts, column=column), strict=True):
        pieces, cursor = [], 0
        for finding in findings:
            written = text[finding.start : finding.end]
            target = Target(finding.entity, finding.value, finding.subtype, written, False)
            pieces += [text[cursor : finding.start], DISPLAY_MASK.replace(target) or ""]
            cursor = finding.end
        masked = "".join(pieces) + text[cursor:]
        masked_texts.append([(masked, finding.entity) for finding in findings])
    return masked_texts


def display_names(columns: Sequence[str]) -> dict[str, str]:
    """Column names as reports may show them: display-masked where they hold personal data."""
    distinct = list(dict.fromkeys(columns))
    return {column: found[0][0] if found else column
            for column, found in zip(distinct, _masked(distinct, None), strict=True)}


def _components(relative_path: str) -> Iterable[tuple[str, str, str | None]]:
    """(kind, text, column context) for each folder and the file name of a relative path."""
    *folders, file = relative_path.split("/")
    for folder in folders:
        key, is_hive, _ = folder.partition("=")
        yield ("partition value", folder, key) if is_hive else ("folder name", folder, None)
    stem = next((file[: -len(s)] for s in PARQUET_SUFFIXES if file.lower().endswith(s)), file)
    yield "file name", stem, None


def names_with_personal_data(relative_paths: Sequence[str], columns: Sequence[str]) -> list[NameFinding]:
    """Every distinct name of the dataset (path components of its files, its column names) that holds
    an entity, in order of first appearance."""
    places = [place for path in relative_paths for place in _components(path)]
    places += [("column name", column, None) for column in columns]
    places = list(dict.fromkeys(places))  # each distinct name once (its context goes with its kind)
    by_context: dict[str | None, list[int]] = {}
    for number, (_, _, context) in enumerate(places):
        by_context.setdefault(context, []).append(number)
    masked: dict[int, list[tuple[str, str]]] = {}
    for context, numbers in by_context.items():
        masked.update(zip(numbers, _masked([places[n][1] for n in numbers], context), strict=True))
    found: dict[NameFinding, None] = {}
    for number, (kind, _, _) in enumerate(places):
        for text, entity in masked[number]:
            found[NameFinding(kind, text, entity)] = None
    return list(found)
