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
from recognizers import detect


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


def _masked(text: str, column: str | None) -> list[tuple[str, str]]:
    """The entities found in `text` with `text` display-masked at each of them."""
    findings = detect(text, column=column)
    if not findings:
        return []
    pieces, cursor = [], 0
    for finding in findings:
        written = text[finding.start : finding.end]
        target = Target(finding.entity, finding.value, finding.subtype, written, False)
        pieces += [text[cursor : finding.start], DISPLAY_MASK.replace(target) or ""]
        cursor = finding.end
    masked = "".join(pieces) + text[cursor:]
    return [(masked, finding.entity) for finding in findings]


def display_name(column: str) -> str:
    """A column name as reports may show it: display-masked where it holds personal data."""
    found = _masked(column, None)
    return found[0][0] if found else column


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
    seen: dict[tuple[str, str], None] = {}
    places = [place for path in relative_paths for place in _components(path)]
    places += [("column name", column, None) for column in columns]
    found: dict[NameFinding, None] = {}
    for kind, text, context in places:
        if (kind, text) in seen:
            continue
        seen[(kind, text)] = None
        for masked, entity in _masked(text, context):
            found[NameFinding(kind, masked, entity)] = None
    return list(found)

