"""Personal data in the names of a dataset: hive partition values, file names and column names.

A lending export partitioned by `mobile=13812345678/` or written as `customer_1101…_139….parquet`, or a
column named `备注13812345678`, carries personal data outside any cell: the output paths, the manifest
and the reports would repeat it. Names are data, so they are scanned with the same recognizers, and a
run is refused (exit 2) while one holds an entity, naming the place and the entity with the value
display-masked; `scan` lists them. With `rewrite_names`, a run writes every such name in its
de-identified form instead (`Renaming`: each entity replaced as the policy's default action for it
replaces it, e.g. `mobile=CNPH_…/`), refusing names that would become one.

>>> [f.describe() for f in names_with_personal_data(["mobile=13812345678/part-0.parquet"], ["n"])]
['partition value mobile=138****5678 holds CN_PHONE']
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from pipeline.actions import Action, Target
from pipeline.transform import DISPLAY_MASK
from recognizers import detect

_PARQUET_SUFFIXES = (".parquet", ".parq", ".pq")


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
    stem = next((file[: -len(s)] for s in _PARQUET_SUFFIXES if file.lower().endswith(s)), file)
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


def _rewritten(text: str, column: str | None, actions: Mapping[str, Action]) -> str:
    """`text` with each entity replaced as `actions[entity]` replaces a span (a redaction marks it)."""
    pieces, cursor = [], 0
    for finding in detect(text, column=column):
        written = text[finding.start : finding.end]
        target = Target(finding.entity, finding.value, finding.subtype, written, False)
        replaced = actions[finding.entity].replace(target) or f"<{finding.entity}>"
        pieces += [text[cursor : finding.start], replaced]
        cursor = finding.end
    return "".join(pieces) + text[cursor:]


@dataclass(frozen=True)
class Renaming:
    """The de-identified names of a dataset's files and columns (unchanged where they hold nothing)."""

    paths: dict[str, str]
    columns: dict[str, str]

    @classmethod
    def of(cls, relative_paths: Sequence[str], columns: Sequence[str], actions: Mapping[str, Action],
           where: str) -> Renaming:
        """Rewrite every name; ValueError naming `where` when two names would become one (a mask that
        keeps too little to tell them apart: a keyed token would not)."""
        paths = {path: "/".join(_rewritten(text, context, actions) + suffix
                                for (_, text, context), suffix in _with_suffixes(path))
                 for path in relative_paths}
        renamed = {column: _rewritten(column, None, actions) for column in columns}
        for kind, mapping in (("file paths", paths), ("column names", renamed)):
            if len(set(mapping.values())) < len(mapping):
                raise ValueError(f"{where}: two {kind} would have one de-identified name; choose an action "
                                 "that tells values apart (tokenize) for the entities in names")
        return cls(paths, renamed)


def _with_suffixes(relative_path: str) -> Iterable[tuple[tuple[str, str, str | None], str]]:
    """The path's components with what follows each scanned text (the file's Parquet suffix)."""
    components = list(_components(relative_path))
    file = relative_path.rsplit("/", 1)[-1]
    for index, component in enumerate(components):
        yield component, (file[len(component[1]) :] if index == len(components) - 1 else "")
