"""Structured text: JSON objects written into a text column, searched field by field.

Lending apps store a borrower's contact list, an order's receiver or a call's outcome as JSON in one
text column (`[{"name": "陈英", "relation": "姐姐", "phone": "…"}, …]`). Its keys name its fields as
a header names a column: the value of a `name` member is a name whole, as in a name column, and the
free-text finders need not read the document's punctuation, keys and numbers, nor the same `姐姐` in
every row. `members` reads the members of such values in bulk; `found_in_fields` runs a text entity's
finder on the distinct field values instead of on the whole documents and places what it finds back
in the documents.

Only values that are such a document throughout are read this way: once its strings are taken out, only
brackets, braces, commas, colons, whitespace, numbers, `true`, `false` and `null` may be left. Anything
else (text around the document, a string left open) leaves the value to the free-text finders whole.
Strings are read as JSON reads them (`recognizers.escapes`): Python's `json.dumps` writes every
character beyond ASCII as an escape (`\\u9648\\u59d0`), which no free-text search sees but every reader
of the JSON does; a string holding a URL's percent-encoded text (`/cb?name=%E9%99%88…`) is read as the
URL's reader reads it too. A finding in an escaped string is placed on the escapes that write it.
Numbers are found in the whole value either way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from recognizers.arrays import gather, ranges, replaced, utf8_buffer
from recognizers.context import column_supports
from recognizers.escapes import PERCENT_ESCAPED, REFERENCED, Finder, Reading, read
from recognizers.patterns import TextFound, matches, together

_STRING = '"(?:[^"\\\\]|\\\\.)*"'
"""A JSON string (escapes in it included)."""
_BETWEEN = "[ \\t\\r\\n\\[\\]{},:0-9.+\\-eE]*"
"""What may stand between the strings, `true`, `false` and `null` of a document read field by field."""
_DOCUMENT = f"^[ \\t\\r\\n]*[\\[{{]{_BETWEEN}(?:(?:{_STRING}|true|false|null){_BETWEEN})*$"
"""A JSON document throughout (the brackets are not matched up: any order of them is read as one)."""
_SPACE = np.zeros(256, dtype=bool)
_SPACE[np.frombuffer(b" \t\r\n", np.uint8)] = True
_MAY_HOLD_TEXT = "[^\\x00-\\x7f]|[A-Za-z]"
"""What a field's value holds if a name or an address can be in it: digits and signs alone cannot."""
LABEL = "："
"""What joins a field's key to its value when they are searched as free text: `borrower：高来福` reads as a
label and what it labels, as it would in a note."""
_LABEL_BYTES = len(LABEL.encode())


@dataclass(frozen=True)
class Strings:
    """The keys or the values of a batch's members as read (`text`): those holding an escape are the
    values at `index` of `reading` (-1 for the others, which read as written)."""

    text: pa.Array
    reading: Reading | None
    index: np.ndarray

    @classmethod
    def of(cls, written: pa.Array, backslash: np.ndarray) -> Strings:
        """The strings `written` as read: JSON escapes in those holding a `backslash`, character
        references, and the percent-encoded text of a URL (`PERCENT_ESCAPED`) as the URL's reader reads
        it."""
        index = np.full(len(written), -1, dtype=np.int64)
        percent = matches(written, PERCENT_ESCAPED)
        escaped = backslash | percent | matches(written, REFERENCED)
        if not escaped.any():
            return cls(written, None, index)
        at = np.flatnonzero(escaped)
        index[at] = np.arange(len(at))
        reading = read(written.take(pa.array(at)), percent=percent[at])
        return cls(replaced(written, at, reading.read), reading, index)


@dataclass(frozen=True)
class Members:
    """The fields of the values of a batch that are JSON documents throughout (`rows`), one entry for each
    key and for each string in an array: the value it is in, its key (empty in an array) and its string
    value (empty when it is not a string) as JSON reads them, with the byte offsets where they are
    written."""

    rows: np.ndarray
    row: np.ndarray
    key: Strings
    key_start: np.ndarray
    value: Strings
    value_start: np.ndarray
    is_string: np.ndarray


def members(values: pa.Array) -> Members | None:
    """The fields of the values that are JSON documents throughout; None when no value is one. Their
    strings are found by their quotes: every second quote that no backslash escapes opens one."""
    rows = np.flatnonzero(matches(values, _DOCUMENT) & matches(values, '"'))
    if not len(rows):
        return None
    data, offsets = utf8_buffer(values.take(pa.array(rows)))
    quote = np.flatnonzero(data == ord('"'))
    slash = data == ord("\\")
    slashes = np.concatenate([[0], np.cumsum(slash)])
    if slashes[-1]:  # a quote after an odd run of backslashes is a character of its string
        last_other = np.maximum.accumulate(np.where(slash, -1, np.arange(len(data))))
        run = quote - 1 - last_other[np.maximum(quote - 1, 0)]
        quote = quote[(quote == 0) | (run % 2 == 0)]
    opening, closing = quote[0::2], quote[1::2]
    row = np.searchsorted(offsets, opening, side="right") - 1
    solid = np.flatnonzero(~_SPACE[data])
    next_solid = np.searchsorted(solid, closing + 1)
    after = solid[np.minimum(next_solid, len(solid) - 1)]
    is_key = (next_solid < len(solid)) & (after < offsets[row + 1]) & (data[after] == ord(":"))
    keyed = np.zeros(len(opening), dtype=bool)  # a string right after a key is its value
    keyed[1:] = is_key[:-1] & ~is_key[1:] & (row[1:] == row[:-1])
    field = np.flatnonzero(is_key | ~keyed)  # each key with its string value, and each string in an array
    value = np.minimum(np.where(is_key[field], field + 1, field), len(opening) - 1)
    has_value = ~is_key[field] | keyed[value]
    key_start = opening[field] + 1
    key_end = np.where(is_key[field], closing[field], key_start)
    value_start = np.where(has_value, opening[value] + 1, key_end)
    value_end = np.where(has_value, closing[value], key_end)
    base = offsets[row[field]]
    key = Strings.of(gather(data, key_start, key_end - key_start), slashes[key_end] > slashes[key_start])
    value = Strings.of(gather(data, value_start, value_end - value_start),
                       slashes[value_end] > slashes[value_start])
    return Members(rows, rows[row[field]], key, key_start - base, value, value_start - base, has_value)


def found_in_fields(finder: Finder, hints: Mapping[str, tuple[str, ...]], found: Members) -> TextFound:
    """A text entity's findings in the documents of a batch (`found.rows`): the string values of members
    whose key the entity's column `hints` name are searched as a column of that name; every other member
    as free text, its key labelling its value (`LABEL`), so a name under `borrower` or a key that is
    itself a name is found. Fields are searched as JSON reads them (`\\u9648\\u59d0` is 陈姐), each
    distinct one once, and their findings placed on the text as written. A finding that would run from a
    key into its value is placed on both."""
    parts: list[TextFound] = []
    key, value = found.key.text, found.value.text
    keys = pc.dictionary_encode(key)
    hinted_key = np.array([column_supports(k, hints) for k in keys.dictionary.to_pylist()], dtype=bool)
    hinted = hinted_key[keys.indices.to_numpy(zero_copy_only=False)] & found.is_string
    if hinted.any():
        first_key = key[int(np.flatnonzero(hinted)[0])].as_py()
        parts.append(_placed(finder, value.filter(pa.array(hinted)), first_key, np.flatnonzero(hinted),
                             np.zeros(int(hinted.sum()), dtype=np.int64), found))
    other = np.flatnonzero(~hinted)
    if len(other):
        key, value = key.take(pa.array(other)), value.take(pa.array(other))
        value = pc.if_else(pa.array(matches(value, _MAY_HOLD_TEXT)), value, "")
        key_bytes = pc.binary_length(key).to_numpy(zero_copy_only=False)
        texts = pc.if_else(pa.array(key_bytes > 0), pc.binary_join_element_wise(key, value, LABEL), value)
        parts.append(_placed(finder, texts, None, other, key_bytes, found))
    return together(parts)


def _placed(finder: Finder, texts: pa.Array, column: str | None, fields: np.ndarray, key_bytes: np.ndarray,
            found: Members) -> TextFound:
    """The findings in `texts`, the text of `fields` as JSON reads them (a key of `key_bytes` bytes,
    `LABEL`, then the value; with `key_bytes` 0, the value alone), each distinct text searched once, placed
    on every field holding it: what falls in the key on the key, what falls in the value on the value."""
    encoded = pc.dictionary_encode(texts)
    searched = finder(encoded.dictionary, column)
    indices = encoded.indices.to_numpy(zero_copy_only=False)
    order = np.argsort(indices, kind="stable")
    count = np.bincount(indices, minlength=len(encoded.dictionary))
    first = np.cumsum(count) - count
    repeat = count[searched.row]
    which = np.repeat(np.arange(len(searched)), repeat)  # each finding once for each field holding it
    piece = order[ranges(first[searched.row], repeat)]
    key_bytes = key_bytes[piece]
    prefix = np.where(key_bytes > 0, key_bytes + _LABEL_BYTES, 0)
    start, end = searched.start[which], searched.end[which]
    in_key, in_value = np.flatnonzero(start < key_bytes), np.flatnonzero(end > prefix)
    field = fields[piece]
    at = np.concatenate([start[in_key], np.maximum(start[in_value] - prefix[in_value], 0)])
    until = np.concatenate([np.minimum(end[in_key], key_bytes[in_key]), end[in_value] - prefix[in_value]])
    field = np.concatenate([field[in_key], field[in_value]])
    on_value = np.concatenate([np.zeros(len(in_key), dtype=bool), np.ones(len(in_value), dtype=bool)])
    _as_written(found, field, on_value, at, until)
    taken = which[np.concatenate([in_key, in_value])]
    origin = np.where(on_value, found.value_start[field], found.key_start[field])
    return TextFound(found.row[field], origin + at, origin + until, searched.subtype[taken],
                     searched.value.take(pa.array(taken)), searched.strength[taken], searched.context[taken])


def _as_written(found: Members, field: np.ndarray, on_value: np.ndarray, at: np.ndarray, until: np.ndarray
                ) -> None:
    """Byte offsets into the fields as JSON reads them made offsets into the fields as written (in place):
    a character an escape writes spans the whole escape."""
    for side, strings in ((on_value, found.value), (~on_value, found.key)):
        if strings.reading is not None:
            chosen = np.flatnonzero(side & (strings.index[field] >= 0))
            at[chosen], until[chosen] = strings.reading.as_written(strings.index[field[chosen]], at[chosen],
                                                                   until[chosen])
