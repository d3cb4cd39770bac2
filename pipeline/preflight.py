"""Checks on a run's input before any work, and on its results before they are committed: what would let
personal data out through a path other than the cells.

- names (`personal_names`, `refuse_personal_names`): partition values, file names and column names
  holding personal data are refused (`pipeline.names`);
- metadata (`refuse_personal_metadata`): with `metadata: keep`, a file whose key-value metadata holds
  personal data is refused;
- a cnpii output fed back in (`refuse_cnpii_output`) is refused unless meant;
- keys (`same_key_everywhere`): results made with another key than the run's are refused.

Every refusal names the file, the place and the entity, with values display-masked.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence

import pyarrow as pa
import pyarrow.compute as pc

from pipeline import storage
from pipeline.actions.tokenize import TOKEN_SHAPE
from pipeline.keys import KeyMaterialError, Keyring
from pipeline.names import display_names, names_with_personal_data
from pipeline.partition import FileResult, plan_types, read_batches, read_schema
from pipeline.plan import ColumnPlan, Mode, is_string_like

StorageOptions = Mapping[str, object] | None
TOKEN_SAMPLE_ROWS = 1_000
"""Rows of the first file whose scanned columns are looked at for tokens: a cnpii output has them in
every row of a tokenized column."""


def personal_names(files: Sequence[storage.InputFile], columns: Sequence[str]) -> list[str]:
    """Descriptions (display-masked) of the partition values, file names and column names holding
    personal data (`pipeline.names`)."""
    found = names_with_personal_data([f.relative_path for f in files], columns)
    return [finding.describe() for finding in found]


def refuse_personal_metadata(files: Sequence[storage.InputFile], storage_options: StorageOptions) -> None:
    """With `metadata: keep`, InputError when a file's key-value metadata (schema or field level) holds
    personal data, named by file, place, key and entity (the value display-masked)."""
    for file in files:
        schema = read_schema(file.url, file.relative_path, storage_options)
        places = [("schema metadata", schema.metadata)]
        shown = display_names(schema.names)
        places += [(f"metadata of column {shown[f.name]!r}", f.metadata) for f in schema]
        for place, metadata in places:
            for key, value in (metadata or {}).items():
                found = names_with_personal_data([], [value.decode("utf-8", "replace")])
                if found:
                    name = display_names([key.decode("utf-8", "replace")]).popitem()[1]
                    raise storage.InputError(f"{file.relative_path}: {place}, key {name!r} holds "
                                             f"{found[0].entity}; drop the metadata (metadata: drop)")


def refuse_personal_names(input: str, files: Sequence[storage.InputFile],
                          plans: Sequence[ColumnPlan]) -> None:
    """InputError when a name of the dataset holds personal data: it would reach the output's paths, the
    manifest and the reports as it is."""
    found = personal_names(files, [p.name for p in plans])
    if found:
        more = f" and {len(found) - 3} more" if len(found) > 3 else ""
        raise storage.InputError(f"{input}: names hold personal data, which cnpii does not copy into an "
                                 f"output: {'; '.join(found[:3])}{more}; rename them before sharing")


def refuse_cnpii_output(input: str, files: Sequence[storage.InputFile], plans: Sequence[ColumnPlan],
                         storage_options: StorageOptions) -> None:
    """InputError when `input` is a cnpii output: it has a manifest, or the first rows of a column it
    scans hold tokens."""
    again = "de-identifying it again would tokenize its tokens and turn its generalized values into 未知"
    how = "pass --accept-cnpii-output (accept_cnpii_output=True) if that is meant"
    if storage.has_manifest(input, storage_options):
        raise storage.InputError(f"{input}: is a cnpii output (it has {storage.MANIFEST}); {again}; {how}")
    scanned = [p for p in plans if p.mode in (Mode.SCAN, Mode.DECLARED) and is_string_like(p.input_type)]
    if not scanned:
        return
    first = files[0]
    with contextlib.closing(read_batches(first.url, first.relative_path, [p.name for p in scanned],
                                         storage_options, plan_types(scanned))) as batches:
        batch = next(batches, None)
    for plan in scanned if batch is not None else ():
        values = batch.column(plan.name).combine_chunks().slice(0, TOKEN_SAMPLE_ROWS)
        values = values.dictionary_decode() if pa.types.is_dictionary(values.type) else values
        if pc.any(pc.match_substring_regex(values.cast(pa.string()), TOKEN_SHAPE)).as_py():
            raise storage.InputError(f"{first.relative_path}: column {plan.name!r} holds cnpii tokens, as a "
                                     f"cnpii output does; {again}; {how}")


def same_key_everywhere(keyring: Keyring | None, results: Sequence[FileResult]) -> None:
    """Refuse results made with another key than this process's (a Dask worker reads the key from its own
    environment): the manifest would name a key that did not make the tokens, and they could never be
    detokenized or joined with the key it names."""
    others = [r for r in results
              if keyring is not None and r.key_fingerprint not in (None, keyring.fingerprint)]
    if others:
        assert keyring is not None
        raise KeyMaterialError(f"{len(others)} of {len(results)} files were de-identified with another key "
                               f"than this process's {keyring.source.describe()}; give every Dask worker "
                               "the same key")
