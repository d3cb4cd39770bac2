"""Text written with escapes, read as its reader reads it and placed back where it was written.

A name written `\\u9648\\u59d0` (JSON, as Python's `json.dumps` writes anything beyond ASCII) or
`%E9%99%88%E5%A7%90` (a URL's query) is 陈姐 to whoever reads the JSON or the URL, yet no search of the
written text sees it. Such text is decoded, searched as read, and each finding is placed on the escapes
that write it: a mask then hides them whole, and a token or a fake is that of the name as read.

`read` decodes a batch in bulk, on its UTF-8 bytes: JSON strings (a JSON reader's escapes), or free text
where both kinds of escapes occur (a log line quoting JSON, a callback URL), and HTML's character
references by number (`&#29579;`, as web forms write what they take) in either. Its `Reading` places a
span of the text as read on the text as written. `escaped_views` picks the values of a batch that hold an
escaped character beyond ASCII: the engine finds numbers in them as read (the words around a number may
be escaped), and `found_in_views` runs a text entity's finder on them as read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from recognizers.arrays import utf8_buffer
from recognizers.patterns import TextFound, matches, spans

_JSON_UNIT = r"\\u[0-9a-fA-F]{4}"
"""A JSON escape of one UTF-16 unit."""
_PERCENT_BYTE = "%[0-9A-Fa-f]{2}"
"""One byte of a URL's percent-encoding."""
_JSON_ESCAPE = rf"\\u[dD][89abAB][0-9a-fA-F]{{2}}\\u[dD][c-fC-F][0-9a-fA-F]{{2}}|{_JSON_UNIT}|\\."
"""An escape of a JSON string: a surrogate pair, one UTF-16 unit, or one character after a backslash."""
_REFERENCE = "&#[0-9]{1,7};|&#[xX][0-9a-fA-F]{1,6};"
"""An HTML character reference by number (`&#29579;`, `&#x738b;`), as web forms write what they take."""
_ESCAPE = f"{_JSON_ESCAPE}|{_REFERENCE}"
_TEXT_ESCAPE = f"{_ESCAPE}|(?:{_PERCENT_BYTE})+"
"""An escape in free text: a JSON one, a character reference, or a run of percent-encoded bytes."""
WRITES_CHARACTERS = f"{_JSON_UNIT}|{_PERCENT_BYTE}|{_REFERENCE}"
"""What a span holds where it is written with escapes of characters (RE2): a number found so is read in
them, not in the digits they are written with."""
PERCENT_ESCAPED = "%[c-fC-F][0-9a-fA-F]%[89abAB][0-9a-fA-F]"
"""What a value holds when a character beyond ASCII is written in it as a URL's percent-encoded UTF-8
bytes (RE2)."""
REFERENCED = "&#[0-9]{2,7};|&#[xX][0-9a-fA-F]{2,6};"
"""What a value holds when a character beyond ASCII, or a digit, is written in it as a character
reference (RE2)."""
ESCAPED_TEXT = f"{_JSON_UNIT}|{PERCENT_ESCAPED}|{REFERENCED}"
"""What a value holds when a character is written in it as a JSON escape, percent-encoded or as a
character reference (RE2: the values searched as read)."""
Finder = Callable[[pa.Array, "str | None"], TextFound]

_HEX = np.full(256, 255, dtype=np.int64)
_HEX[np.frombuffer(b"0123456789abcdef", np.uint8)] = np.arange(16)
_HEX[np.frombuffer(b"ABCDEF", np.uint8)] = np.arange(10, 16)
_SIMPLE = np.zeros(256, dtype=np.uint8)
"""What JSON reads for the character after a backslash, where it reads one (0: the escape stands for
itself, as `\\x` does)."""
_SIMPLE[np.frombuffer(b'"\\/bfnrt', np.uint8)] = np.frombuffer(b'"\\/\b\f\n\r\t', np.uint8)
_CONTINUATION = 0
_UTF8_LENGTH = np.full(256, -1, dtype=np.int64)
"""The length of the UTF-8 sequence a byte starts (`_CONTINUATION` inside one, -1 in none: Python's strict
decoder refuses 0xC0, 0xC1 and 0xF5 up)."""
_UTF8_LENGTH[:0x80] = 1
_UTF8_LENGTH[0x80:0xC0] = _CONTINUATION
_UTF8_LENGTH[0xC2:0xE0] = 2
_UTF8_LENGTH[0xE0:0xF0] = 3
_UTF8_LENGTH[0xF0:0xF5] = 4
_SECOND_BYTE = {0xE0: (0xA0, 0xBF), 0xED: (0x80, 0x9F), 0xF0: (0x90, 0xBF), 0xF4: (0x80, 0x8F)}
"""Where a lead byte narrows the byte after it: no overlong form, no surrogate, nothing past U+10FFFF."""


@dataclass(frozen=True)
class Reading:
    """Strings as their reader reads them (`read`), and where they were written: the pieces an escape
    writes, each where it starts as read (`piece_read`, in `read`'s buffer) and as written (`piece_written`,
    in the written buffer), its length read and its size written. Between pieces, bytes are read as
    written."""

    read: pa.Array
    read_offsets: np.ndarray
    written_offsets: np.ndarray
    piece_read: np.ndarray
    piece_length: np.ndarray
    piece_written: np.ndarray
    piece_size: np.ndarray

    def as_written(self, row: np.ndarray, start: np.ndarray, end: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
        """Spans [`start`, `end`) of bytes of the values at `row` as read, placed on them as written: a
        character an escape writes spans the whole escape."""
        written = self.written_offsets[row]
        return (self._written(self.read_offsets[row] + start) - written,
                self._written(self.read_offsets[row] + end) - written)

    def _written(self, at: np.ndarray) -> np.ndarray:
        """Where the byte read at `at` (in `read`'s buffer, its end included) was written: the start of the
        piece holding it, else as far past the piece before it as it is read past it."""
        if not len(self.piece_read):
            return at
        piece = np.searchsorted(self.piece_read, at, side="right") - 1
        k = np.maximum(piece, 0)
        past = at - self.piece_read[k] - self.piece_length[k]
        written = np.where(past < 0, self.piece_written[k], self.piece_written[k] + self.piece_size[k] + past)
        return np.where(piece < 0, at, written)


def read(written: pa.Array, percent: bool | np.ndarray) -> Reading:
    """`written` as read: JSON escapes and character references, and in the values `percent` says (all
    of them, or one flag each) percent-encoded UTF-8 too, as in a URL. An escape no reader reads stands
    for itself: `\\x`, `\\u` without four hex digits, half a surrogate pair, percent-encoded bytes that
    are no UTF-8, a reference to no character."""
    data, offsets = utf8_buffer(written)
    percent = np.broadcast_to(percent, len(written))
    row, start, end, _ = spans(written, _TEXT_ESCAPE if percent.any() else _ESCAPE)
    # A run of percent-encoded bytes holds no backslash or ampersand: where it is not read, it stands
    # for itself.
    first = data[offsets[row] + start]
    kept = (first != ord("%")) | percent[row]
    row, first = row[kept], first[kept]
    start, end = offsets[row] + start[kept], offsets[row] + end[kept]
    kinds = [(first == ord(mark), pieces) for mark, pieces in
             (("\\", _json_pieces), ("&", _reference_pieces), ("%", _percent_pieces))]
    parts = [pieces(data, start[chosen], end[chosen]) for chosen, pieces in kinds]
    at, size, text, length = (np.concatenate([p[k] for p in parts]) for k in range(4))
    if sum(chosen.any() for chosen, _ in kinds) > 1:
        order = np.argsort(at, kind="stable")
        at, size, text, length = at[order], size[order], text[order], length[order]
    # A piece is never read longer than it is written: its text is written over its first bytes, and the
    # rest of its bytes are dropped.
    buffer = data.copy()
    kept = np.ones(len(data), dtype=bool)
    for k in range(text.shape[1]):
        chosen = length > k
        buffer[at[chosen] + k] = text[chosen, k]
    for k in range(1, int(size.max(initial=0))):
        kept[at[(length <= k) & (size > k)] + k] = False
    shorter = size - length
    before = np.concatenate([[0], np.cumsum(shorter)])  # bytes dropped before each piece, and in all
    read_offsets = offsets - before[np.searchsorted(at, offsets)]
    texts = pa.StringArray.from_buffers(len(written), pa.py_buffer(read_offsets.astype(np.int32).tobytes()),
                                        pa.py_buffer(buffer[kept].tobytes()))
    return Reading(texts, read_offsets, offsets, at - before[:-1], length, at, size)


def _hex(data: np.ndarray, at: np.ndarray, digits: int) -> np.ndarray:
    """The number the `digits` hex digits from each of `at` write."""
    value = np.zeros(len(at), dtype=np.int64)
    for k in range(digits):
        value = value * 16 + _HEX[data[at + k]]
    return value


def _utf8(code: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The UTF-8 bytes of each code point (an (n, 4) matrix, padded with 0) and how many there are."""
    length = 1 + (code >= 0x80) + (code >= 0x800) + (code >= 0x10000)
    text = np.zeros((len(code), 4), dtype=np.uint8)
    lead = np.array([0, 0, 0xC0, 0xE0, 0xF0])[length]
    for k in range(4):  # byte k of a sequence of `length` holds bits 6 * (length - 1 - k) up
        shift = 6 * np.maximum(length - 1 - k, 0)
        bits = np.where(k == 0, (code >> shift) | lead, 0x80 | ((code >> shift) & 0x3F))
        text[:, k] = np.where(k < length, bits, 0)
    return text, length


def _json_pieces(data: np.ndarray, start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, ...]:
    """The JSON escapes at [`start`, `end`) that a reader reads, as pieces: where each is written, its
    written size, the bytes read (`_utf8`) and how many."""
    size = end - start
    unit = (size == 6) & (data[start + 1] == ord("u"))
    pair = size == 12
    code = np.zeros(len(start), dtype=np.int64)
    code[unit] = _hex(data, start[unit] + 2, 4)
    high, low = _hex(data, start[pair] + 2, 4), _hex(data, start[pair] + 8, 4)
    code[pair] = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
    simple = ~unit & ~pair
    code[simple] = _SIMPLE[data[start[simple] + 1]]
    reads = np.where(simple, code > 0, ~(unit & (code >= 0xD800) & (code <= 0xDFFF)))
    text, length = _utf8(code[reads])
    return start[reads], size[reads], text, length


def _reference_pieces(data: np.ndarray, start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, ...]:
    """The character references at [`start`, `end`) (`&#29579;`, `&#x738b;`) that name a character, as
    pieces."""
    hexadecimal = np.isin(data[start + 2], (ord("x"), ord("X")))
    digits = start + 2 + hexadecimal
    base = np.where(hexadecimal, 16, 10)
    code = np.zeros(len(start), dtype=np.int64)
    for k in range(7):  # the digits before the `;`
        live = digits + k < end - 1
        code = np.where(live, code * base + _HEX[data[np.minimum(digits + k, len(data) - 1)]], code)
    reads = (code > 0) & (code <= 0x10FFFF) & ~((code >= 0xD800) & (code <= 0xDFFF))
    text, length = _utf8(code[reads])
    return start[reads], (end - start)[reads], text, length


def _percent_pieces(data: np.ndarray, start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, ...]:
    """The runs of percent-encoded bytes at [`start`, `end`) that are UTF-8 throughout, as pieces: each
    character on its own bytes' escapes."""
    count = (end - start) // 3
    run = np.repeat(np.arange(len(start)), count)
    first = np.cumsum(count) - count
    written_at = start[run] + 3 * (np.arange(len(run)) - first[run])
    byte = _hex(data, written_at + 1, 2)
    length = _UTF8_LENGTH[byte]
    lead = np.flatnonzero(length > 0)
    # A lead byte's sequence runs to the next lead or the end of its run, and must be as long as it says.
    run_end = (first + count)[run[lead]]
    following = np.minimum(np.append(lead[1:], len(run)), run_end)
    bad = np.zeros(len(start), dtype=bool)
    bad[run[length < 0]] = True
    bad[run[first[count > 0]][length[first[count > 0]] == _CONTINUATION]] = True
    bad[run[lead][following - lead != length[lead]]] = True
    second = np.minimum(lead + 1, max(len(byte) - 1, 0))
    for value, (low, high) in _SECOND_BYTE.items():
        narrowed = (byte[lead] == value) & ((byte[second] < low) | (byte[second] > high))
        bad[run[lead][narrowed]] = True
    lead = lead[~bad[run[lead]]]
    size = length[lead]
    text = np.zeros((len(lead), 4), dtype=np.uint8)
    for k in range(4):
        chosen = size > k
        text[chosen, k] = byte[lead[chosen] + k]
    return written_at[lead], 3 * size, text, size


@dataclass(frozen=True)
class Views:
    """The values of a batch that hold escaped characters (`rows`), as read (`reading`, whose values at
    `at` they are)."""

    rows: np.ndarray
    reading: Reading
    at: np.ndarray

    @property
    def read(self) -> pa.Array:
        """The values as read."""
        return self.reading.read.take(pa.array(self.at))

    def as_written(self, row: np.ndarray, start: np.ndarray, end: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
        """Spans of the views at `row` (positions in `rows`) as read, placed on them as written."""
        return self.reading.as_written(self.at[row], start, end)

    def without(self, rows: np.ndarray) -> Views | None:
        """These views but for the values at `rows` (None when none is left)."""
        kept = np.flatnonzero(~np.isin(self.rows, rows))
        return Views(self.rows[kept], self.reading, self.at[kept]) if len(kept) else None


def escaped_views(values: pa.Array) -> Views | None:
    """The values that hold an escaped character beyond ASCII (`ESCAPED_TEXT`), as read; None when there
    are none."""
    rows = np.flatnonzero(matches(values, ESCAPED_TEXT))
    if not len(rows):
        return None
    return Views(rows, read(values.take(pa.array(rows)), percent=True), np.arange(len(rows)))


def found_in_views(finder: Finder, column: str | None, views: Views) -> TextFound:
    """A text entity's findings in the values of `views`, searched as read and placed as written."""
    found = finder(views.read, column)
    start, end = views.as_written(found.row, found.start, found.end)
    return TextFound(views.rows[found.row], start, end, found.subtype, found.value, found.strength,
                     found.context)
