"""Text written with escapes, read as its reader reads it and placed back where it was written.

A name written `\\u9648\\u59d0` (JSON, as Python's `json.dumps` writes anything beyond ASCII) or
`%E9%99%88%E5%A7%90` (a URL's query) is 陈姐 to whoever reads the JSON or the URL, yet no search of the
written text sees it. Such text is decoded, searched as read, and each finding is placed on the escapes
that write it: a mask then hides them whole, and a token or a fake is that of the name as read.

`json_segments` reads a JSON string; `text_segments` reads free text, where both kinds of escapes occur
(a log line quoting JSON, a callback URL). Each returns the text as read and its pieces, so that a span
of the text as read is placed on the text as written (`as_written`). `escaped_views` picks the values of
a batch that hold an escaped character beyond ASCII: the engine finds numbers in them as read (the words
around a number may be escaped), and `found_in_views` runs a text entity's finder on them as read.
"""

from __future__ import annotations

import bisect
import functools
import json
import re
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from recognizers.patterns import TextFound, matches

_JSON_ESCAPE = r"\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}|\\u[0-9a-fA-F]{4}|\\."
"""An escape of a JSON string: a surrogate pair, one UTF-16 unit, or one character after a backslash."""
_JSON = re.compile(_JSON_ESCAPE)
_TEXT = re.compile(f"{_JSON_ESCAPE}|(?:%[0-9A-Fa-f]{{2}})+")
PERCENT_ESCAPED = "%[c-fC-F][0-9a-fA-F]%[89abAB][0-9a-fA-F]"
"""What a value holds when a character beyond ASCII is written in it as a URL's percent-encoded UTF-8
bytes (RE2)."""
ESCAPED_TEXT = f"\\\\u[0-9a-fA-F]{{4}}|{PERCENT_ESCAPED}"
"""What a value holds when a character is written in it as a JSON escape or percent-encoded (RE2: the
values searched as read)."""

Segments = tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...], tuple[int, ...]]
"""Where the pieces of a text start as read and as written, and their sizes read and written."""
Finder = Callable[[pa.Array, "str | None"], TextFound]


def read_json(written: list[str]) -> list[str]:
    """JSON strings' text as JSON reads it: all in one parse, or one by one (`json_segments`) where JSON
    cannot read them all."""
    try:
        texts = json.loads("[" + ",".join(f'"{text}"' for text in written) + "]")
        "".join(texts).encode()
    except ValueError:
        return [json_segments(text)[0] for text in written]
    return texts


@functools.lru_cache(maxsize=1 << 12)
def json_segments(written: str) -> tuple[str, Segments]:
    """A JSON string's text as JSON reads it, and its pieces (`_segments`)."""
    return _segments(written, _JSON)


@functools.lru_cache(maxsize=1 << 12)
def text_segments(written: str) -> tuple[str, Segments]:
    """Free text as read where JSON escapes and percent-encoded UTF-8 stand in it, and its pieces."""
    return _segments(written, _TEXT)


def _segments(written: str, escapes: re.Pattern[str]) -> tuple[str, Segments]:
    """`written` as read, and its pieces: the byte offsets read and written where each escaped character
    and each run between escapes starts, and their sizes read and written (`Segments`). An escape no
    reader reads (`\\x`, half a surrogate pair, percent-encoded bytes that are no UTF-8) stands for
    itself."""
    read: list[str] = []
    read_at: list[int] = []
    written_at: list[int] = []
    read_size: list[int] = []
    written_size: list[int] = []
    at = [0, 0]

    def add(text: str, size_read: int, size_written: int) -> None:
        read.append(text)
        read_at.append(at[0])
        written_at.append(at[1])
        read_size.append(size_read)
        written_size.append(size_written)
        at[0] += size_read
        at[1] += size_written

    done = 0
    for match in escapes.finditer(written):
        if match.start() > done:
            run = len(written[done : match.start()].encode())
            add(written[done : match.start()], run, run)
        done = match.end()
        escape = match.group()
        if escape[0] == "%":
            try:
                text = bytes.fromhex(escape.replace("%", "")).decode()
            except UnicodeDecodeError:
                add(escape, len(escape), len(escape))
                continue
            for character in text:  # each character on its own bytes' escapes
                size = len(character.encode())
                add(character, size, 3 * size)
            continue
        character = _json_read(escape)
        add(character, len(character.encode()), len(escape))
    if done < len(written):
        run = len(written[done:].encode())
        add(written[done:], run, run)
    return "".join(read), (tuple(read_at), tuple(written_at), tuple(read_size), tuple(written_size))


_SIMPLE = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
"""JSON's escapes of one character after a backslash."""


def _json_read(escape: str) -> str:
    """What one JSON escape (`_JSON_ESCAPE`) stands for, as JSON reads it; itself where JSON reads none
    or half a surrogate pair."""
    if escape[1] != "u":
        return _SIMPLE.get(escape[1], escape)
    code = int(escape[2:6], 16)
    if len(escape) == 12:  # a surrogate pair
        return chr(0x10000 + ((code - 0xD800) << 10) + int(escape[8:12], 16) - 0xDC00)
    return escape if 0xD800 <= code <= 0xDFFF else chr(code)


def as_written(written: Sequence[str], start: np.ndarray, end: np.ndarray, free_text: bool
               ) -> tuple[np.ndarray, np.ndarray]:
    """Spans [`start`, `end`) of bytes of each of `written` as read (a JSON string's content, or free text
    with `free_text`), placed on it as written: a character an escape writes spans the whole escape."""
    start, end = np.array(start, dtype=np.int64), np.array(end, dtype=np.int64)
    for k, text in enumerate(written):
        start[k], end[k] = _written_span(text, int(start[k]), int(end[k]), free_text)
    return start, end


@functools.lru_cache(maxsize=1 << 16)
def _written_span(written: str, at: int, until: int, free_text: bool) -> tuple[int, int]:
    segments = (text_segments if free_text else json_segments)(written)[1]
    return _written_offset(segments, at, is_end=False), _written_offset(segments, until, is_end=True)


def _written_offset(segments: Segments, offset: int, is_end: bool) -> int:
    read_at, written_at, read_size, written_size = segments
    if not read_at:
        return offset
    # The piece holding the byte at `offset` (for an end, the byte before it).
    k = max((bisect.bisect_left if is_end else bisect.bisect_right)(read_at, offset) - 1, 0)
    if read_size[k] == written_size[k]:  # a run between escapes: byte for byte
        return written_at[k] + offset - read_at[k]
    return written_at[k] + (written_size[k] if is_end else 0)


@dataclass(frozen=True)
class Views:
    """The values of a batch that hold escaped characters (`rows`), as written and as read."""

    rows: np.ndarray
    written: list[str]
    read: pa.Array

    def as_written(self, row: np.ndarray, start: np.ndarray, end: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
        """Spans of the views at `row` (positions in `rows`) as read, placed on them as written."""
        return as_written([self.written[k] for k in row.tolist()], start, end, free_text=True)

    def without(self, rows: np.ndarray) -> Views | None:
        """These views but for the values at `rows` (None when none is left)."""
        kept = np.flatnonzero(~np.isin(self.rows, rows))
        if not len(kept):
            return None
        written = [self.written[k] for k in kept.tolist()]
        return Views(self.rows[kept], written, self.read.take(pa.array(kept)))


def escaped_views(values: pa.Array) -> Views | None:
    """The values that hold an escaped character beyond ASCII (`ESCAPED_TEXT`), as read; None when there
    are none."""
    rows = np.flatnonzero(matches(values, ESCAPED_TEXT))
    if not len(rows):
        return None
    written = values.take(pa.array(rows)).to_pylist()
    return Views(rows, written, pa.array([_text_read(text) for text in written], pa.string()))


def _text_read(written: str) -> str:
    """`text_segments(written)[0]`, in one call to a decoder where only one kind of escape stands in it."""
    try:
        if "%" not in written:
            text = json.loads(f'"{written}"', strict=False)
            text.encode()
            return text
        if "\\" not in written:
            return urllib.parse.unquote(written, errors="strict")
    except ValueError:
        pass
    return text_segments(written)[0]


def found_in_views(finder: Finder, column: str | None, views: Views) -> TextFound:
    """A text entity's findings in the values of `views`, searched as read and placed as written."""
    found = finder(views.read, column)
    start, end = views.as_written(found.row, found.start, found.end)
    return TextFound(views.rows[found.row], start, end, found.subtype, found.value, found.strength,
                     found.context)
