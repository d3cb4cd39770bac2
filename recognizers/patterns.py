"""Finding text entities in bulk: every match of a pattern in every value, spans settled by one rule.

Names and addresses are found by patterns, not by digit layouts: Arrow's RE2 kernels search a whole
batch in C, one match per value per call, so `spans` searches again after each match (a value holds few
names or addresses) until no value has one left; `alternation` writes long word lists as tries that RE2
compiles quickly; `first_by_priority` keeps one of overlapping spans (the engine settles numbers against
names and addresses with it too); `TextFound` is what a text entity's finder returns. Offsets are UTF-8
byte offsets, like the engine's.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from recognizers.arrays import utf8_buffer
from recognizers.context import Context
from recognizers.findings import Strength

HAN = "\u4e00-\u9fff\u3400-\u4dbf"
"""The CJK unified ideographs (and extension A, where rare name characters live), as a class range that
both RE2 and Python's `re` read."""
SPACE_CHARS = " \t\n\f\r"
"""Whitespace as both RE2 and Python's `re` read `\\s` in ASCII: patterns spell it out, since the two
differ on Unicode spaces, and `spans` runs a pattern in either."""
SPACE = f"[{SPACE_CHARS}]"
ORGANISATION_WORDS = (
    "有限公司", "有限责任公司", "股份公司", "公司", "集团", "商业银行", "合作银行", "银行", "信用社",
    "信用合作", "合作社", "联社", "大学", "学院", "学校", "医院", "分行", "支行", "管理局", "委员会",
    "管委会", "政府", "办事处", "派出所", "法院", "检察院", "科技", "传媒", "网络", "工作室", "商行", "商贸",
    "贸易", "实业",
)  # fmt: skip
"""Words that end an organisation's name: a division or a surname and what comes before them are the
organisation's (`深圳农村商业银行`, `户名华泰通安网络有限公司`), not an address or a person."""
MAX_MATCHES = 16
"""The most matches taken from one value."""
SMALL_BATCH = 256
"""Batches up to this many values are searched with Python's `re` (compiled once per process); larger
ones with Arrow's RE2 kernels, which compile the pattern on every call but search in C."""


def alternation(words: object) -> str:
    """An RE2 group matching any of the literal `words`, written as a trie (`深圳(?:市)?`): thousands of
    division names compile in milliseconds where a flat alternation takes a tenth of a second per call.
    At each character the longer word is tried first, as RE2 takes the first alternative that matches."""
    root: dict[str, dict] = {}
    for word in set(words):  # type: ignore[call-overload]
        node = root
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}
    return "(?:" + _trie(root) + ")"


def _trie(node: dict[str, dict]) -> str:
    branches = [_escape(ch) + _trie(child) for ch, child in sorted(node.items()) if ch]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    if "" in node:  # a word ends here: what follows is optional, tried first
        return f"(?:{body})?"
    return body


def _escape(ch: str) -> str:
    return "\\" + ch if ch in r".^$*+?()[]{}|\-/" else ch


def matches(values: pa.Array, pattern: str) -> np.ndarray:
    """Whether each value holds a match of the RE2 `pattern` (nulls do not)."""
    return pc.fill_null(pc.match_substring_regex(values, pattern), False).to_numpy(zero_copy_only=False)


def without_spaces(values: pa.Array) -> pa.Array:
    """The values with every run of whitespace (the ideographic space too) removed: a name or address
    written with and without spaces is one value."""
    return pc.replace_substring_regex(values, f"[{SPACE_CHARS}\u3000]+", "")


def spans(values: pa.Array, pattern: str, *groups: str) -> tuple[np.ndarray, ...]:
    """Row, start and end byte of every match of `pattern` in `values`, in value order, and which of the
    named `groups` (alternatives of the pattern) it matched, by position: the span is that group's.
    After a match the search goes on from the group's end. Nulls hold no match.

    `pattern` must read the same in RE2 and Python's `re` (no `\\s`, `\\b` or `\\x{…}`; both take the
    first alternative that matches), and its negated classes must leave out `MASKED`. A large batch is
    searched with Arrow, one match per value per call: the values that had one are searched again with
    the text up to its end masked, so that offsets stay put and `^` still means the start of a value."""
    if len(values) <= SMALL_BATCH:
        return _python_spans(values, pattern, groups)
    found: list[tuple[np.ndarray, ...]] = []
    row, current = np.arange(len(values)), values
    for _ in range(MAX_MATCHES):
        matched = pc.extract_regex_span(current, pattern)
        hit = pc.fill_null(pc.is_valid(matched), False).to_numpy(zero_copy_only=False)
        if not hit.any():
            break
        row, current, matched = row[hit], current.filter(pa.array(hit)), matched.filter(pa.array(hit))
        start, size = np.zeros(len(row), np.int64), np.zeros(len(row), np.int64)
        which = np.full(len(row), -1)
        for number, group in enumerate(groups):
            span = matched.field(group)
            here = pc.is_valid(span).to_numpy(zero_copy_only=False) & (which < 0)
            pair = pc.fill_null(span, pa.scalar([0, 0], span.type)).flatten().to_numpy(zero_copy_only=False)
            pair = pair.reshape(-1, 2).astype(np.int64)
            start, size, which = (np.where(here, new, old) for new, old in
                                  ((pair[:, 0], start), (pair[:, 1], size), (number, which)))
        found.append((row, start, start + size, which))
        current = _masked(current, start + size)
    if not found:
        none = np.zeros(0, dtype=np.int64)
        return none, none, none, none
    row, start, end, which = (np.concatenate([f[k] for f in found]) for k in range(4))
    order = np.lexsort((start, row))
    return row[order], start[order], end[order], which[order]


MASKED = "\x01"
"""What `spans` writes over the text it has searched: no pattern matches it."""


def _masked(values: pa.Array, upto: np.ndarray) -> pa.Array:
    """`values` with the first `upto` bytes of each replaced by `MASKED` (they end on a character)."""
    data, offsets = utf8_buffer(values)
    data = data.copy()
    total = int(upto.sum())
    firsts = np.repeat(offsets[:-1], upto)
    data[firsts + np.arange(total) - np.repeat(np.cumsum(upto) - upto, upto)] = ord(MASKED)
    return pa.StringArray.from_buffers(len(values), pa.py_buffer(offsets.astype(np.int32).tobytes()),
                                       pa.py_buffer(data))


@functools.lru_cache(maxsize=64)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _python_spans(values: pa.Array, pattern: str, groups: tuple[str, ...]) -> tuple[np.ndarray, ...]:
    """`spans` in Python for a few values (the pattern compiled once per process)."""
    compiled = _compiled(pattern)
    found: list[tuple[int, int, int, int]] = []
    for row, text in enumerate(values.to_pylist()):
        if text is None:
            continue
        position = 0
        for _ in range(MAX_MATCHES):
            match = compiled.search(text, position)
            if match is None:
                break
            which = next(k for k, group in enumerate(groups) if match.start(group) >= 0)
            begin, finish = match.span(groups[which])
            found.append((row, len(text[:begin].encode()), len(text[:finish].encode()), which))
            position = max(finish, match.start() + 1)
    if not found:
        none = np.zeros(0, dtype=np.int64)
        return none, none, none, none
    return tuple(np.array(column, dtype=np.int64) for column in zip(*found, strict=True))


def first_by_priority(row: np.ndarray, start: np.ndarray, end: np.ndarray, priority: np.ndarray
                       ) -> np.ndarray:
    """Indexes of the spans kept where spans of a value overlap: the lowest priority, then the longest
    span first; values whose spans do not overlap keep them all without a Python loop."""
    order = np.lexsort((start, row))
    # Offsets are per value: shifting each value's by its row keeps the running maximum within the value.
    shift = row[order].astype(np.int64) << 32
    reach = np.maximum.accumulate(shift + end[order])
    overlaps = np.zeros(len(order), dtype=bool)
    overlaps[1:] = shift[1:] + start[order][1:] < reach[:-1]
    contested = np.isin(row, np.unique(row[order][overlaps]))
    kept = [np.flatnonzero(~contested)]
    members = np.flatnonzero(contested)
    members = members[np.lexsort((start[members], -(end[members] - start[members]), priority[members],
                                  row[members]))]
    bounds = np.flatnonzero(np.diff(row[members])) + 1
    for group in np.split(members, bounds) if len(members) else []:
        chosen: list[int] = []
        for i in group.tolist():
            if all(end[i] <= start[j] or end[j] <= start[i] for j in chosen):
                chosen.append(i)
        kept.append(np.array(chosen, dtype=np.int64))
    return np.concatenate(kept)


def overlapping(row: np.ndarray, start: np.ndarray, end: np.ndarray, other_row: np.ndarray,
                other_start: np.ndarray, other_end: np.ndarray) -> np.ndarray:
    """Whether each span overlaps any of the other spans of its value (a binary search each)."""
    if not len(other_row):
        return np.zeros(len(row), dtype=bool)
    order = np.lexsort((other_start, other_row))
    shift = other_row[order].astype(np.int64) << 32
    begins = shift + other_start[order]
    reach = np.maximum.accumulate(shift + other_end[order])  # the furthest end so far, within the value
    before = np.searchsorted(begins, (row.astype(np.int64) << 32) + end) - 1  # the last that starts before
    return (before >= 0) & (reach[np.maximum(before, 0)] > (row.astype(np.int64) << 32) + start)


def overlapping_earlier(row: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Whether each span overlaps one that starts before it in its value (or at the same byte and is
    listed before it)."""
    order = np.lexsort((start, row))
    shift = row[order].astype(np.int64) << 32
    reach = np.maximum.accumulate(shift + end[order])
    overlaps = np.zeros(len(row), dtype=bool)
    overlaps[order[1:]] = shift[1:] + start[order][1:] < reach[:-1]
    return overlaps


def whole_spans(values: pa.Array) -> tuple[np.ndarray, np.ndarray, pa.Array]:
    """Start and end byte of each value without its surrounding whitespace, and the values so trimmed:
    a column value found whole."""
    stripped = pc.utf8_trim_whitespace(values)
    start = (pc.binary_length(values).to_numpy(zero_copy_only=False)
             - pc.binary_length(pc.utf8_ltrim_whitespace(values)).to_numpy(zero_copy_only=False))
    return start, start + pc.binary_length(stripped).to_numpy(zero_copy_only=False), stripped


@dataclass(frozen=True)
class TextFound:
    """What a text entity's finder reports for a batch: one entry per span (byte offsets into the value at
    `row`), with its subtype, normalized value, strength and context."""

    row: np.ndarray
    start: np.ndarray
    end: np.ndarray
    subtype: np.ndarray
    value: pa.Array
    strength: np.ndarray
    context: np.ndarray

    def __len__(self) -> int:
        return len(self.row)


def text_found(row: np.ndarray, start: np.ndarray, end: np.ndarray, subtype: np.ndarray, value: pa.Array,
               context: np.ndarray) -> TextFound:
    """Findings of a text entity: plausible (no checksum proves a name) and ordered by row and start."""
    order = np.lexsort((start, row))
    return TextFound(row[order], start[order], end[order], np.asarray(subtype, dtype=str)[order],
                     value.take(pa.array(order, pa.int64())), np.full(len(row), Strength.PLAUSIBLE, np.int8),
                     np.asarray(context, dtype=np.int8)[order])


def no_text_found() -> TextFound:
    """A finder's empty result."""
    none = np.zeros(0, dtype=np.int64)
    return text_found(none, none, none, np.zeros(0, dtype=str), pa.array([], pa.string()),
                      np.full(0, Context.NONE, np.int8))
