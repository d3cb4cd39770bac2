"""Structured text: JSON objects written into a text column, searched field by field.

Lending apps store a borrower's contact list, an order's receiver or a call's outcome as JSON in one
text column (`[{"name": "陈英", "relation": "姐姐", "phone": "…"}, …]`). Its keys name its fields as
a header names a column: the value of a `name` member is a name whole, as in a name column, and the
free-text finders need not read the document's punctuation, keys and numbers, nor the same `姐姐` in
every row. `members` reads the members of such values in bulk; `found_in_fields` runs a text entity's
finder on the distinct field values instead of on the whole documents and places what it finds back
in the documents.

Only values that are such a document throughout are read this way: after its `"key": value` members
(a string without escapes, a number, `true`, `false`, `null`) only brackets, commas and whitespace may
be left. Anything else (an escaped quote, an array of strings, text around the document) leaves the value
to the free-text finders whole, as before. Numbers are found in the whole value either way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from recognizers.arrays import gather, utf8_buffer
from recognizers.context import column_supports
from recognizers.patterns import TextFound, matches

_STRING = '"[^"\\\\]*"'
"""A JSON string without escapes."""
_SKELETON = "^(?:[ \t\r\n\\[\\]{},:0-9.+\\-eE]|true|false|null)*$"
"""What is left of a document read field by field once its strings are taken out."""
_DOCUMENT = "^[ \t\r\n]*[\\[{]"
"""What a value that may be a JSON document starts with."""
_SPACE = np.zeros(256, dtype=bool)
_SPACE[np.frombuffer(b" \t\r\n", np.uint8)] = True
_MAY_HOLD_TEXT = "[^\\x00-\\x7f]|[A-Za-z]"
"""What a field's value holds if a name or an address can be in it: digits and signs alone cannot."""
LABEL = "："
"""What joins a field's key to its value when they are searched as free text: `borrower：高来福` reads as a
label and what it labels, as it would in a note."""
_LABEL_BYTES = len(LABEL.encode())


@dataclass(frozen=True)
class Members:
    """The fields of the values of a batch that are JSON documents throughout (`rows`), one entry for each
    key and for each string in an array: the value it is in, its key (empty in an array) and its string
    value (empty when it is not a string) with their byte offsets."""

    rows: np.ndarray
    row: np.ndarray
    key: pa.Array
    key_start: np.ndarray
    value: pa.Array
    value_start: np.ndarray
    is_string: np.ndarray


def members(values: pa.Array) -> Members | None:
    """The fields of the values that are JSON documents throughout; None when no value is one. Their
    strings are found by their quotes: with no escape in a document, every second quote opens one."""
    candidates = np.flatnonzero(matches(values, _DOCUMENT))
    if not len(candidates):
        return None
    documents = values.take(pa.array(candidates))
    skeleton = pc.replace_substring_regex(documents, _STRING, "")
    holds_string = (pc.binary_length(skeleton).to_numpy(zero_copy_only=False)
                    < pc.binary_length(documents).to_numpy(zero_copy_only=False))
    rows = candidates[matches(skeleton, _SKELETON) & holds_string]
    if not len(rows):
        return None
    data, offsets = utf8_buffer(values.take(pa.array(rows)))
    quote = np.flatnonzero(data == ord('"'))
    opening, closing = quote[0::2], quote[1::2]
    row = np.searchsorted(offsets, opening, side="right") - 1
    solid = np.flatnonzero(~_SPACE[data])
    next_solid = np.searchsorted(solid, closing + 1)
    after = solid[np.minimum(next_solid, len(solid) - 1)]
    is_key = (next_solid < len(solid)) & (after < offsets[row + 1]) & (data[after] == ord(":"))
    keyed = np.zeros(len(opening), dtype=bool)  # a string right after a key is its value
    keyed[1:] = is_key[:-1] & ~is_key[1:] & (row[1:] == row[:-1])
    field = np.flatnonzero(is_key | ~keyed)  # each key with its string value, and each string in an array
    has_value = np.zeros(len(field), dtype=bool)
    value = np.where(is_key[field], field + 1, field)
    has_value[is_key[field]] = keyed[np.minimum(field[is_key[field]] + 1, len(keyed) - 1)]
    has_value |= ~is_key[field]
    key_start = opening[field] + 1
    key_bytes = np.where(is_key[field], closing[field] - key_start, 0)
    value_start = np.where(has_value, opening[np.minimum(value, len(opening) - 1)] + 1, 0)
    value_bytes = np.where(has_value, closing[np.minimum(value, len(closing) - 1)] - value_start, 0)
    base = offsets[row[field]]
    value_at = np.where(has_value, value_start - base, 0)
    return Members(rows, rows[row[field]], gather(data, key_start, key_bytes), key_start - base,
                   gather(data, value_start, value_bytes), value_at, has_value)


Finder = Callable[[pa.Array, "str | None"], TextFound]


def found_in_fields(finder: Finder, hints: Mapping[str, tuple[str, ...]], values: pa.Array,
                    column: str | None, found: Members) -> TextFound:
    """A text entity's findings in `values` (`finder(values, column)` but for the documents): the string
    values of members whose key the entity's column `hints` name are searched as a column of that name;
    every other member as free text, its key labelling its value (`LABEL`), so a name under `borrower` or
    a key that is itself a name is found. Each distinct field is searched once. A finding that would run
    from a key into its value is placed on both."""
    plain = np.setdiff1d(np.arange(len(values)), found.rows)
    parts = [_moved(finder(values.take(pa.array(plain)), column), plain)] if len(plain) else []
    keys = pc.dictionary_encode(found.key)
    hinted_key = np.array([column_supports(k, hints) for k in keys.dictionary.to_pylist()], dtype=bool)
    hinted = hinted_key[keys.indices.to_numpy(zero_copy_only=False)] & found.is_string
    if hinted.any():
        first_key = found.key[int(np.flatnonzero(hinted)[0])].as_py()
        parts.append(_placed(finder, found.value.filter(pa.array(hinted)), first_key, found.row[hinted],
                             found.value_start[hinted], found.value_start[hinted], 0))
    other = ~hinted
    if other.any():
        key, value = found.key.filter(pa.array(other)), found.value.filter(pa.array(other))
        value = pc.if_else(pa.array(matches(value, _MAY_HOLD_TEXT)), value, "")
        key_bytes = pc.binary_length(key).to_numpy(zero_copy_only=False)
        texts = pc.if_else(pa.array(key_bytes > 0), pc.binary_join_element_wise(key, value, LABEL), value)
        parts.append(_placed(finder, texts, None, found.row[other], found.key_start[other],
                             found.value_start[other], key_bytes))
    return _together(parts)


def _placed(finder: Finder, texts: pa.Array, column: str | None, row: np.ndarray, key_start: np.ndarray,
            value_start: np.ndarray, key_bytes: np.ndarray | int) -> TextFound:
    """The findings in fields `texts` (a key of `key_bytes` bytes, `LABEL`, then the value; with
    `key_bytes` 0 and `key_start` at the value, the value alone), each distinct text searched once, placed
    at every field holding it: what falls in the key at `key_start` of value `row`, what falls in the value
    at `value_start`."""
    encoded = pc.dictionary_encode(texts)
    found = finder(encoded.dictionary, column)
    indices = encoded.indices.to_numpy(zero_copy_only=False)
    order = np.argsort(indices, kind="stable")
    count = np.bincount(indices, minlength=len(encoded.dictionary))
    first = np.cumsum(count) - count
    repeat = count[found.row]
    which = np.repeat(np.arange(len(found)), repeat)  # each finding once for each field holding it
    field = order[np.repeat(first[found.row], repeat) + np.arange(len(which))
                  - np.repeat(np.cumsum(repeat) - repeat, repeat)]
    key_bytes = np.broadcast_to(np.asarray(key_bytes, dtype=np.int64), row.shape)[field]
    prefix = np.where(key_bytes > 0, key_bytes + _LABEL_BYTES, 0)
    start, end = found.start[which], found.end[which]
    in_key = start < key_bytes
    in_value = end > prefix
    part = np.concatenate([np.flatnonzero(in_key), np.flatnonzero(in_value)])
    at = np.concatenate([key_start[field][in_key] + start[in_key],
                         value_start[field][in_value] + np.maximum(start[in_value] - prefix[in_value], 0)])
    until = np.concatenate([key_start[field][in_key] + np.minimum(end[in_key], key_bytes[in_key]),
                            value_start[field][in_value] + end[in_value] - prefix[in_value]])
    taken = which[part]
    return TextFound(row[field][part], at, until, found.subtype[taken], found.value.take(pa.array(taken)),
                     found.strength[taken], found.context[taken])


def _moved(found: TextFound, rows: np.ndarray) -> TextFound:
    """Findings in a subset of a batch, as findings in the batch (`rows`: each subset value's row)."""
    return TextFound(rows[found.row], found.start, found.end, found.subtype, found.value, found.strength,
                     found.context)


def _together(parts: list[TextFound]) -> TextFound:
    """Findings of several parts of a batch as one, ordered by value and start."""
    row = np.concatenate([p.row for p in parts])
    start = np.concatenate([p.start for p in parts])
    order = np.lexsort((start, row))
    return TextFound(row[order], start[order], np.concatenate([p.end for p in parts])[order],
                     np.concatenate([p.subtype for p in parts])[order],
                     pa.concat_arrays([p.value.cast(pa.string()) for p in parts]).take(pa.array(order)),
                     np.concatenate([p.strength for p in parts])[order],
                     np.concatenate([p.context for p in parts])[order])
