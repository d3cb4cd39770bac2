"""Finding text entities in bulk: every match of a pattern in every value, spans settled by one rule.

Names and addresses are found by patterns, not by digit layouts: `spans` finds every match in a whole
batch with one RE2 replacement in C, which writes where each match and its named group end after it;
`alternation` writes long word lists as tries that RE2 compiles quickly; `first_by_priority` keeps one
of overlapping spans (the engine settles numbers against names and addresses with it too); `TextFound`
is what a text entity's finder returns. Offsets are UTF-8 byte offsets, like the engine's.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
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
    "贸易", "实业", "事务所", "律师事务", "律所",
)  # fmt: skip
"""Words that end an organisation's name: a division or a surname and what comes before them are the
organisation's (`深圳农村商业银行`, `户名华泰通安网络有限公司`), not an address or a person."""
SMALL_BATCH = 256
"""Batches up to this many values are searched with Python's `re` (compiled once per process); larger
ones with Arrow's RE2 kernels, which compile the pattern on every call but search in C."""


def alternation(words: Iterable[str]) -> str:
    """An RE2 group matching any of the literal `words`, written as a trie (`深圳(?:市)?`): thousands of
    division names compile in milliseconds where a flat alternation takes a tenth of a second per call.
    At each character the longer word is tried first, as RE2 takes the first alternative that matches.
    Each set of words is written once a process: finders ask for theirs on every batch."""
    return _alternation(frozenset(words))


@functools.cache
def _alternation(words: frozenset[str]) -> str:
    root: dict[str, dict] = {}
    for word in words:
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
    named `groups` (alternatives of the pattern) it matched, by position: the span is that group's. With
    no `groups` the span is the whole match (which is 0), and RE2 extracts no group: its cheapest search.
    Matches do not overlap: after one the search goes on from its end. Nulls hold no match.

    `pattern` must read the same in RE2 and Python's `re` (no `\\s`, `\\b` or `\\x{…}`; both take the
    first alternative that matches), hold no capturing group but the named `groups` (at most four), each
    at the top level of its alternative, and never match an empty string. A large batch is searched with
    Arrow's RE2 kernels in one pass for all matches (`_replaced_spans`); its few values that hold a byte
    that pass writes (`_RECORD`) are searched as a small one."""
    if len(values) <= SMALL_BATCH:
        return _python_spans(values, pattern, groups)
    data, offsets = utf8_buffer(values)
    written = np.flatnonzero((data >= _RECORD[0]) & (data <= _RECORD[-1]))
    odd = np.unique(np.searchsorted(offsets, written, side="right") - 1)
    if not len(odd):
        return _replaced_spans(values, pattern, groups)
    usual = np.setdiff1d(np.arange(len(values)), odd)
    found = [_replaced_spans(values.take(pa.array(usual)), pattern, groups),
             _python_spans(values.take(pa.array(odd)), pattern, groups)]
    row = np.concatenate([usual[found[0][0]], odd[found[1][0]]])
    start, end, which = (np.concatenate([f[k] for f in found]) for k in (1, 2, 3))
    order = np.lexsort((start, row))
    return row[order], start[order], end[order], which[order]


_RECORD = b"\x03\x04\x05"
"""What `_replaced_spans` writes after each match: the end of the match, then each group's text, the end
of the group, the text after the group within its alternative, and the end of that (for a pattern without
groups, the whole match is that group)."""


def _replaced_spans(values: pa.Array, pattern: str, groups: tuple[str, ...]) -> tuple[np.ndarray, ...]:
    """`spans` by one RE2 replacement of every match (`_split_groups`): each match is kept and followed by
    a record of each group's text and of the text after it, so that where the group ends (the match's
    end less the text after it) and starts is read off the bytes of the result with numpy."""
    end_mark, group_mark, after_mark = (chr(byte) for byte in _RECORD)
    rewrite = "\\0" + end_mark + "".join(f"\\{2 * k + 1}{group_mark}\\{2 * k + 2}{after_mark}"
                                         for k in range(len(groups)))
    if not groups:  # the whole match, recorded as a group that is all of it with nothing after it
        rewrite += "\\0" + group_mark + after_mark
    replaced = pc.replace_substring_regex(values, _split_groups(pattern, groups), rewrite)
    data, offsets = utf8_buffer(replaced)
    recorded = 1 + 2 * max(len(groups), 1)  # bytes written after each match
    marks = np.flatnonzero((data >= _RECORD[0]) & (data <= _RECORD[-1])).reshape(-1, recorded)
    if not len(marks):
        none = np.zeros(0, dtype=np.int64)
        return none, none, none, none
    row = np.searchsorted(offsets, marks[:, 0], side="right") - 1
    group_length = marks[:, 1::2] - np.concatenate([marks[:, :1], marks[:, 2:-1:2]], axis=1) - 1
    after_length = marks[:, 2::2] - marks[:, 1::2] - 1
    which = np.argmax(group_length > 0, axis=1)  # groups never match an empty string
    taken = np.arange(len(marks))
    # Bytes written before each match's end in its value: the records of the matches before it.
    record = marks[:, -1] - marks[:, 0] + 1
    written = np.cumsum(record) - record
    first = np.searchsorted(row, row)  # the first match of each one's value (rows are ascending)
    end = marks[:, 0] - offsets[row] - (written - written[first]) - after_length[taken, which]
    return row, end - group_length[taken, which], end, which


@functools.lru_cache(maxsize=64)
def _split_groups(pattern: str, groups: tuple[str, ...]) -> str:
    """`pattern` with each named group of `groups` made two numbered ones: the group's body, and the text
    after it up to the end of the group that holds it (or of the pattern)."""
    if len(groups) > 4:  # a rewrite names groups 1 to 9 only, two for each
        raise ValueError("spans: at most four named groups")
    opened: list[int] = []  # where the groups open that hold the current position
    closing: dict[int, int] = {}
    position = 0
    while position < len(pattern):
        ch = pattern[position]
        if ch == "\\":
            position += 1
        elif ch == "[":  # a class: its brackets and parentheses are characters
            position += 2 if pattern[position + 1] == "^" else 1
            while pattern[position] != "]":
                position += 2 if pattern[position] == "\\" else 1
        elif ch == "(":
            named = pattern.startswith("(?P<", position)
            if pattern[position + 1] != "?" or (named and pattern[position + 4 : pattern.index(">", position)]
                                                not in groups):
                raise ValueError("spans: a pattern holds no capturing group but the named ones")
            opened.append(position)
        elif ch == ")":
            closing[opened.pop()] = position
        position += 1
    cuts: list[tuple[int, int, int, int]] = []  # a group's start, its body's, its close, its holder's close
    for group in groups:
        begin = pattern.index(f"(?P<{group}>")
        holders = [o for o, c in closing.items() if o < begin and closing[begin] < c]
        holder = closing[max(holders)] if holders else len(pattern)
        cuts.append((begin, begin + len(f"(?P<{group}>"), closing[begin], holder))
    for begin, body, close, holder in sorted(cuts, reverse=True):
        pattern = (pattern[:begin] + "(" + pattern[body:close] + ")(" + pattern[close + 1 : holder] + ")"
                   + pattern[holder:])
    return pattern


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
        for match in compiled.finditer(text):
            which = next((k for k, group in enumerate(groups) if match.start(group) >= 0), 0)
            begin, finish = match.span(groups[which] if groups else 0)
            found.append((row, len(text[:begin].encode()), len(text[:finish].encode()), which))
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


def moved(found: TextFound, rows: np.ndarray) -> TextFound:
    """Findings in a subset of a batch, as findings in the batch (`rows`: each subset value's row)."""
    return TextFound(rows[found.row], found.start, found.end, found.subtype, found.value, found.strength,
                     found.context)


def together(parts: list[TextFound]) -> TextFound:
    """Findings in several parts of a batch as one, ordered by value and start."""
    if not parts:
        return no_text_found()
    row = np.concatenate([p.row for p in parts])
    start = np.concatenate([p.start for p in parts])
    order = np.lexsort((start, row))
    return TextFound(row[order], start[order], np.concatenate([p.end for p in parts])[order],
                     np.concatenate([p.subtype for p in parts])[order],
                     pa.concat_arrays([p.value.cast(pa.string()) for p in parts]).take(pa.array(order)),
                     np.concatenate([p.strength for p in parts])[order],
                     np.concatenate([p.context for p in parts])[order])
