"""The entity engine: every registered entity in a batch of strings, found in bulk.

`find(values)` works on an Arrow string array (the distinct values of a column, or one string for
`detect`) and never loops over values in Python:

1. Values holding characters that fold (full-width forms, odd spaces and dashes, zero-width characters,
   numbers spoken in Chinese numerals) are folded first; the rest are used as they are.
2. Digit groups are found on the UTF-8 bytes with numpy and chained into *runs*: groups joined by one or
   two separators (`138 1234 5678`, `(0755)8600-1234`, `138.1234.5678`, `138/1234/5678`), with a `+` or
   `(` before them, an ID's check `X` after them, or a 港澳 permit's `H`/`M` before them.
3. Each run has a *shape* (digits as `d`, the separators as written, and whether a Latin letter touches
   it). Shapes repeat, so the readings of a shape — which spans of it fit which entity's layouts — are
   worked out once per distinct shape, in Python, from the layouts the entities register.
4. The digits of every reading are gathered into one fixed-width matrix per layout and judged by the
   entity's vectorized checks (segment, area code, division and date, MOD 11-2, Luhn and BIN).
5. Context (the keyword nearest before a number, and the column name) is judged by RE2 over all the
   windows at once; scores follow from strength and context; overlapping candidates in a run keep the
   best by one rule (score, then length, then the entity's rank).
6. Names and addresses have no digits to chain: their modules' finders search the batch themselves
   (`recognizers.patterns`), and their findings join the numbers' under one overlap rule: a number keeps
   its span, then the entity earlier in the registry (an address over a name inside it), then the
   longer span; what a name or an address that lost holds outside the winners is still found. A value that
   is a JSON document (a contact list, an order's receiver) is searched by
   them field by field (`recognizers.fields`): a key names its value as a header names a column. A
   value holding characters written as escapes (`\\u9648`, `%E9%99%88`) is searched as its reader
   reads it (`recognizers.escapes`).

Offsets are UTF-8 byte offsets into the original values: the pipeline replaces spans on bytes.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from recognizers.arrays import byte_offsets, gather, replaced, utf8_buffer
from recognizers.context import DEFAULT_THRESHOLD, LABEL_GAP, NEGATIVE_WORDS, WINDOW, Context, score_table
from recognizers.escapes import Views, escaped_views, found_in_views
from recognizers.fields import Members, found_in_fields, members
from recognizers.findings import Strength
from recognizers.known import KnownValues
from recognizers.layouts import Layout
from recognizers.patterns import TextFound, first_by_priority, matches, moved, together, whole_spans
from recognizers.registry import REGISTRY, EntitySpec, column_context
from recognizers.scripts import simplified
from recognizers.text import FOLDS, IGNORABLE, SPOKEN_NUMBER, fold, spell_out, translate

MIN_RUN_DIGITS = 8
"""The fewest digits a registered number has (a 港澳 permit's H/M + 8): shorter runs are never read."""
MAX_RUN_GROUPS = 12
"""The most digit groups one number spans (a mobile with a space between every digit has 11)."""
_JOINERS = np.zeros(256, dtype=bool)
_JOINERS[list(b" -./_()")] = True
_ALNUM = np.zeros(256, dtype=bool)
_ALNUM[list(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")] = True
_DIGIT = np.zeros(256, dtype=bool)
_DIGIT[list(b"0123456789")] = True
_LETTER = _ALNUM & ~_DIGIT
_ZERO_DIGITS = np.arange(256, dtype=np.uint8)
_ZERO_DIGITS[list(b"0123456789")] = ord("0")
_SHAPE = np.arange(256, dtype=np.uint8)
_SHAPE[list(b"0123456789")] = ord("d")
_SHAPE[list(b"Xx")] = ord("X")
_SHAPE[list(b"HMhm")] = ord("H")
_GROUP = re.compile(r"[dX]+")


def _re2_class(characters: Iterable[str]) -> str:
    return "[" + "".join(f"\\x{{{ord(c):x}}}" for c in sorted(characters)) + "]"


_FOLDS_RE2 = (f"[\\x{{ff10}}-\\x{{ff19}}]|[0-9]{_re2_class(FOLDS)}|{_re2_class(FOLDS)}[0-9]|"
              f"{SPOKEN_NUMBER.pattern}")
"""Values that need folding: full-width digits, a foldable character touching a digit (`（0755）`, `138－`,
a zero-width space inside a number) or a number spoken in numerals. Foldable characters away from digits
(the brackets of `联系人张三（父亲）`, a full-width colon after a label) change no finding: such values are
read as written, which spares the per-value folding that most Chinese notes would otherwise need."""
_IGNORABLE_RE2 = _re2_class(IGNORABLE)
_LIST_SEPARATOR = r"^ *(?:/|、|,|，|;|；|或|和|及) *$"
"""What stands between two numbers of a list (`电话138…/139…、0574…`): the later ones share the first's
support, however far the label is."""
LIST_LINKS = 3
"""How many numbers down a list the support of the first reaches."""


@dataclass(frozen=True)
class Found:
    """Findings in a batch, one entry per finding, ordered by value and start. `start`/`end` are UTF-8
    byte offsets into the original value at `row`; `value` holds the normalized numbers."""

    row: np.ndarray
    start: np.ndarray
    end: np.ndarray
    entity: np.ndarray
    subtype: np.ndarray
    score: np.ndarray
    validated: np.ndarray
    context: np.ndarray
    """The `Context` (as int) the score used."""
    value: pa.Array
    whole: np.ndarray
    """Whether the span is the whole value but for surrounding whitespace."""

    def __len__(self) -> int:
        return len(self.row)

    def take(self, index: np.ndarray) -> Found:
        """The findings at `index`."""
        return Found(
            self.row[index], self.start[index], self.end[index], self.entity[index], self.subtype[index],
            self.score[index], self.validated[index], self.context[index],
            self.value.take(pa.array(index, pa.int64())), self.whole[index],
        )


@dataclass(frozen=True)
class _Reading:
    layout: Layout
    rank: int
    start: int
    end: int
    positions: tuple[int, ...]
    parts: tuple[tuple[str, int, int], ...]
    inside_card_run: bool


@functools.lru_cache(maxsize=1 << 16)
def _readings(shape: str) -> tuple[_Reading, ...]:
    """Every span of a run's shape that fits a registered layout, aligned to digit groups. `shape` is the
    run's characters (digits as `d`) between the classes of its neighbours (`A`: a Latin letter)."""
    left, body, right = shape[0], shape[1:-1], shape[-1]
    groups = [m.span() for m in _GROUP.finditer(body)]
    atomic = any(layout.atomic and layout.pattern.fullmatch(body) for _, layout in _LAYOUTS)
    found = []
    for i, (group_start, _) in enumerate(groups):
        starts = [group_start]
        while starts[-1] > 0 and body[starts[-1] - 1] in "(+H" and group_start - starts[-1] < 2:
            starts.append(starts[-1] - 1)
        if i > 0 and groups[i][1] - groups[i][0] == 1:
            continue  # digits written one by one are one number: a reading starts where they start
        for j in range(i, min(len(groups), i + MAX_RUN_GROUPS)):
            group_end = groups[j][1]
            if j + 1 < len(groups) and group_end - groups[j][0] == 1:
                continue  # … and ends where they end
            if body[group_end : group_end + 1] == "." and body[group_end + 1 : group_end + 2] in ("d", "X"):
                continue  # a decimal: 13800000000.00
            ends = (group_end, group_end - 1) if body[group_end - 1] == "X" else (group_end,)
            for end, start in ((e, s) for e in ends for s in starts):  # an X may be a check character or not
                if body[start - 1 : start] == "+" and start > 0:
                    continue  # a number does not start right after a plus sign it does not include
                before = body[start - 1] if start > 0 else left
                after = body[end] if end < len(body) else right
                glued = before in "AH" or after in "AX"
                for rank, layout in _LAYOUTS:
                    if layout.alone and glued:
                        continue
                    match = layout.pattern.fullmatch(body, start, end)
                    if match is None:
                        continue
                    positions = tuple(k for k in range(start, end) if body[k] in "dXH")
                    parts = []
                    for name, (a, b) in ((n, match.span(n)) for n in layout.pattern.groupindex):
                        if a >= 0:
                            columns = [c for c, k in enumerate(positions) if a <= k < b]
                            if columns:
                                parts.append((name, columns[0], columns[-1] + 1))
                    # A run written whole as a card is one number: no phone inside it, and no shorter
                    # card that would leave its last group (`6217 9987 7948 0186 00`) in clear.
                    inside = atomic and (start, end) != (0, len(body))
                    found.append(_Reading(layout, rank, start, end, positions, tuple(parts), inside))
    return tuple(found)


_LAYOUTS: tuple[tuple[int, Layout], ...] = tuple(
    (rank, layout) for rank, spec in enumerate(REGISTRY.values()) for layout in spec.layouts
)


@dataclass(frozen=True)
class _Folding:
    """How the folded values of a batch map back to the values as written. `rows` were folded one
    character for one: `original` and `folded` hold them as written and as folded (same order), so
    character offsets agree. `maps` holds, for rows that lost characters (zero-width ones), the original
    text, the folded text and each folded character's original index."""

    rows: np.ndarray
    original: pa.Array
    folded: pa.Array
    maps: dict[int, tuple[str, str, tuple[int, ...]]]


def _fold_values(values: pa.Array) -> tuple[pa.Array, _Folding | None]:
    """`values` with the values that need it folded (`_FOLDS_RE2`), in bulk: the values are translated
    as one joined string (one character for one), numerals spelled out where a value holds a spoken
    number, and only values holding zero-width characters are folded one by one."""
    # Of ASCII values only those with a tab can need folding: the regex runs on the others alone.
    plain = pc.and_(pc.string_is_ascii(values), pc.invert(pc.match_substring(values, "\t")))
    maybe = np.flatnonzero(~pc.fill_null(plain, True).to_numpy(zero_copy_only=False))
    flagged = maybe[matches(values.take(pa.array(maybe)), _FOLDS_RE2)]
    if not len(flagged):
        return values, None
    original = values.take(pa.array(flagged))
    encoded = translate(utf8_buffer(original)[0].tobytes().decode()).encode()  # the values joined
    data = np.frombuffer(encoded, np.uint8)
    lead = np.append(np.flatnonzero((data & 0xC0) != 0x80), len(data))
    bounds = np.concatenate([[0], np.cumsum(pc.utf8_length(original).to_numpy(zero_copy_only=False))])
    offsets = lead[bounds].astype(np.int32)
    folded = pa.StringArray.from_buffers(len(original), pa.py_buffer(offsets.tobytes()),
                                         pa.py_buffer(encoded))
    spoken = np.flatnonzero(matches(folded, SPOKEN_NUMBER.pattern))
    dropping = np.flatnonzero(matches(folded, _IGNORABLE_RE2))
    maps = {}
    if len(spoken) or len(dropping):
        texts = folded.to_pylist()
        for k in spoken.tolist():
            texts[k] = spell_out(texts[k])
        for k in dropping.tolist():
            shadow = fold(original[k].as_py())
            texts[k] = shadow.text
            maps[int(flagged[k])] = (shadow.original, shadow.text, shadow.origin)
        folded = pa.array(texts, pa.string())
    whole = replaced(values, flagged, folded)
    kept = ~np.isin(np.arange(len(flagged)), dropping)
    mask = pa.array(kept)
    return whole, _Folding(flagged[kept], original.filter(mask), folded.filter(mask), maps)


def _runs(data: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Runs of digit groups: their value, start and end bytes, and the byte where their digits start."""
    size = len(data)
    is_digit = (data >= 48) & (data <= 57)
    value_start = np.zeros(size + 1, dtype=bool)
    value_start[offsets] = True
    before = np.concatenate([[False], is_digit[:-1]]) & ~value_start[:-1]
    after = np.concatenate([is_digit[1:], [False]]) & ~value_start[1:]
    starts = np.flatnonzero(is_digit & ~before)
    ends = np.flatnonzero(is_digit & ~after) + 1
    row = np.searchsorted(offsets, starts, side="right") - 1
    value_end = offsets[row + 1]
    # An ID's check character: X right after digits, not followed by a digit.
    x_at = np.minimum(ends, size - 1)
    check_x = (ends < value_end) & np.isin(data[x_at], (ord("X"), ord("x")))
    next_at = np.minimum(ends + 1, size - 1)
    check_x &= (ends + 1 >= value_end) | ~_DIGIT[data[next_at]]
    ends = ends + check_x
    digits = ends - starts - check_x
    # Join a group to the next when one or two separators stand between them in the same value.
    gap = np.append(starts[1:] - ends[:-1], 0)
    same = np.append(row[1:] == row[:-1], False)
    first = _JOINERS[data[np.minimum(ends, size - 1)]] if size else np.zeros(0, bool)
    second = _JOINERS[data[np.minimum(ends + 1, size - 1)]] if size else np.zeros(0, bool)
    joined = same & (((gap == 1) & first) | ((gap == 2) & first & second))
    # A float's `.0` (`13602452847.0`, as pandas writes a number it read as a float) is no group of the
    # number before it; a decimal's other digits are (`13800000000.00` is an amount, never read).
    single_zero = (digits == 1) & (data[np.minimum(starts, size - 1)] == ord("0"))
    point = (gap == 1) & (data[np.minimum(ends, size - 1)] == ord("."))
    joined &= ~(point & np.append(single_zero[1:] & ~joined[1:], False))
    run_first = np.flatnonzero(np.concatenate([[True], ~joined[:-1]])) if len(starts) else starts
    run_last = np.append(run_first[1:] - 1, len(starts) - 1) if len(starts) else starts
    run_digits = np.add.reduceat(digits, run_first) if len(starts) else digits
    keep = run_digits >= MIN_RUN_DIGITS
    run_first, run_last = run_first[keep], run_last[keep]
    run_row, run_start, run_end = row[run_first], starts[run_first], ends[run_last]
    digit_start = run_start.copy()
    run_value_start = offsets[run_row]
    # A `(`, `+` or `(+` before the first digits, or a permit's H/M with no letter or digit before it.
    for _ in range(2):
        prior = np.maximum(run_start - 1, 0)
        extend = (run_start > run_value_start) & np.isin(data[prior], (ord("("), ord("+")))
        run_start = run_start - extend
    prior = np.maximum(run_start - 1, 0)
    letter = (run_start > run_value_start) & (run_start == digit_start) & np.isin(data[prior], list(b"HMhm"))
    letter &= (prior == run_value_start) | ~_ALNUM[data[np.maximum(prior - 1, 0)]]
    run_start = run_start - letter
    return run_row, run_start, run_end, digit_start


def _shapes(data: np.ndarray, offsets: np.ndarray, row: np.ndarray, start: np.ndarray, end: np.ndarray
            ) -> tuple[np.ndarray, list[str]]:
    """Each run's shape id and the distinct shapes: `L` + the run with digits as `d` + `R`, where `L`/`R`
    are `A` for a Latin letter touching the run and `^`/`$` otherwise."""
    size = len(data)
    body = gather(_SHAPE[data], start, end - start) if size else pa.array([], pa.string())
    prior = data[np.maximum(start - 1, 0)]
    left = (start > offsets[row]) & _LETTER[prior]
    following = data[np.minimum(end, max(size - 1, 0))]
    right = (end < offsets[row + 1]) & _LETTER[following]
    encoded = pc.dictionary_encode(body)
    # The neighbours' classes join the body's code: shapes are told apart without building strings.
    key = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64) * 4 + left * 2 + right
    keys = pc.dictionary_encode(pa.array(key))
    bodies = encoded.dictionary.to_pylist()
    shapes = [("A" if k & 2 else "^") + bodies[k >> 2] + ("A" if k & 1 else "$")
              for k in keys.dictionary.to_pylist()]
    return keys.indices.to_numpy(zero_copy_only=False), shapes


def _re2_escape(word: str) -> str:
    return "".join("\\" + ch if ch in r".^$*+?()[]{}|\-" else ch for ch in word)


@functools.lru_cache(maxsize=64)
def _context_patterns(positive: tuple[str, ...]) -> tuple[str, str]:
    """RE2 searches over reversed, lower-cased windows: the nearest keyword (negative words first, so a
    tie goes against), and any positive keyword."""
    against = "|".join(_re2_escape(w[::-1]) for w in NEGATIVE_WORDS)
    favour = "|".join(_re2_escape(w[::-1]) for w in positive)
    return f"(?s)^(?P<gap>.*?)(?:(?P<against>{against})|(?P<for>{favour}))", favour


def contexts(windows: pa.Array, positive: tuple[str, ...]) -> np.ndarray:
    """The `Context` of each window (the folded text before a number) for an entity's keywords: the
    keyword ending nearest the number decides; a negative word counts only within `LABEL_GAP`
    characters of it, and beyond that any positive word in the window still counts for."""
    if not len(windows):
        return np.zeros(0, dtype=np.int8)
    reversed_windows = pc.utf8_reverse(pc.utf8_lower(windows))
    nearest_pattern, favour = _context_patterns(positive)
    nearest = pc.extract_regex(reversed_windows, nearest_pattern)
    matched = pc.is_valid(nearest).to_numpy(zero_copy_only=False)
    filled = pc.fill_null(nearest, pa.scalar({"gap": "", "against": "", "for": ""}, nearest.type))
    is_for = matched & (pc.utf8_length(filled.field("for")).to_numpy(zero_copy_only=False) > 0)
    close = pc.utf8_length(filled.field("gap")).to_numpy(zero_copy_only=False) <= LABEL_GAP
    against = matched & ~is_for & close
    far = np.flatnonzero(matched & ~is_for & ~close)
    result = np.where(is_for, Context.FOR, np.where(against, Context.AGAINST, Context.NONE)).astype(np.int8)
    if len(far):
        anywhere = pc.match_substring_regex(reversed_windows.take(pa.array(far)), favour)
        result[far[anywhere.to_numpy(zero_copy_only=False)]] = Context.FOR
    return result


def _windows(data: np.ndarray, value_start: np.ndarray, start: np.ndarray) -> pa.DictionaryArray:
    """The `WINDOW` characters before each start byte, within its value, with digits set to 0 (no keyword
    holds one, and windows that differ only in digits are then judged once), dictionary-encoded."""
    begin = np.maximum(value_start, start - 4 * WINDOW)
    for _ in range(3):  # move off UTF-8 continuation bytes
        inside = (begin < start) & ((data[np.minimum(begin, len(data) - 1)] & 0xC0) == 0x80)
        begin = begin + inside
    windows = pc.utf8_slice_codeunits(gather(_ZERO_DIGITS[data], begin, start - begin), -WINDOW)
    return pc.dictionary_encode(windows)


def _judge(data: np.ndarray, run_shape: np.ndarray, shapes: list[str], digit_start: np.ndarray,
           run_body_start: np.ndarray) -> dict[str, list]:
    """Candidates of every reading of every run, judged by their entities in one call per layout."""
    order = np.argsort(run_shape, kind="stable")
    bounds = np.searchsorted(run_shape[order], np.arange(len(shapes) + 1))
    pending: dict[tuple[int, int], list] = {}
    for shape_id, shape in enumerate(shapes):
        members = order[bounds[shape_id] : bounds[shape_id + 1]]
        for reading in _readings(shape):
            key = (id(reading.layout), len(reading.positions))
            pending.setdefault(key, []).append((members, reading))
    columns: dict[str, list] = {k: [] for k in ("run", "start", "end", "rank", "strength", "subtype",
                                                 "value", "layout")}
    for batches in pending.values():
        layout = batches[0][1].layout
        runs = np.concatenate([members for members, _ in batches])
        digits = np.concatenate([_at(data, run_body_start[members], reading.positions)
                                 for members, reading in batches])
        spans = np.concatenate([
            np.stack([np.full(len(members), reading.start), np.full(len(members), reading.end)], axis=1)
            for members, reading in batches
        ])
        inside = np.concatenate([np.full(len(members), r.inside_card_run) for members, r in batches])
        parts = {name: slice(a, b) for name, a, b in batches[0][1].parts}
        same_parts = all(r.parts == batches[0][1].parts for _, r in batches)
        judged = []
        if same_parts:
            judged = [(np.arange(len(runs)), layout.judge(layout, digits, parts))]
        else:  # one call per reading whose named parts sit elsewhere
            at = 0
            for members, reading in batches:
                rows = np.arange(at, at + len(members))
                at += len(members)
                parts = {name: slice(a, b) for name, a, b in reading.parts}
                judged.append((rows, layout.judge(layout, digits[rows], parts)))
        for rows, (strength, subtype, value) in judged:
            # Digits inside a number written like a card are that card's, not a phone's (a run starting
            # with 0 is a landline and its extension, never a card).
            keep = (strength > 0) & ~(inside[rows] & (data[digit_start[runs[rows]]] != ord("0")))
            chosen = np.flatnonzero(keep)
            columns["run"].append(runs[rows][chosen])
            columns["start"].append(spans[rows][chosen, 0])
            columns["end"].append(spans[rows][chosen, 1])
            columns["rank"].append(np.full(len(chosen), _RANKS[layout.entity]))
            columns["strength"].append(strength[chosen])
            columns["subtype"].append(subtype[chosen])
            columns["value"].append(value.take(pa.array(chosen, pa.int64())))
            columns["layout"].append(np.full(len(chosen), layout.whole_value_suffices))
    return columns


def _at(data: np.ndarray, start: np.ndarray, positions: tuple[int, ...]) -> np.ndarray:
    """The bytes at `positions` (ascending) after each of `start`, as a matrix: rows of a sliding window
    over `data`, so that no index is built for each byte."""
    first, span = positions[0], positions[-1] - positions[0] + 1
    window = np.lib.stride_tricks.sliding_window_view(data, span)[start + first]
    return window if span == len(positions) else window[:, np.array(positions) - first]


_RANKS = {name: rank for rank, name in enumerate(REGISTRY)}
_ENTITY_NAMES = np.array(list(REGISTRY))  # fixed-width strings: grouping by entity stays in C
_TEXT = np.array([spec.is_text for spec in REGISTRY.values()])
_ENTITY_NAMES_SORTED = np.sort(_ENTITY_NAMES)
_RANK_OF_SORTED = np.argsort(_ENTITY_NAMES)


def find(values: pa.Array, entities: Iterable[str] | None = None, column: str | None = None,
         threshold: float = DEFAULT_THRESHOLD, known: KnownValues | None = None) -> Found:
    """Findings of `entities` (all registered ones by default) in a string array, scoring at least
    `threshold`. `column` is the name of the column the values came from: a name such as `sjhm` or
    `联系电话` counts as context for every value. All entities are resolved against each other whatever
    is asked for, so asking for cards alone never reports an ID as a card. With `known`, a candidate
    below the threshold whose value the run reported elsewhere is reported (validated, with context),
    and the candidates left below it are noted there."""
    written = values.cast(pa.string()) if values.type != pa.string() else values
    values, traditional = simplified(written)
    wanted = np.isin(_ENTITY_NAMES, list(REGISTRY if entities is None else entities))
    views = escaped_views(values)
    numbers = (_numbers(values, wanted, column, threshold, known) if views is None
               else _numbers_as_read(values, views, wanted, column, threshold, known))
    if not wanted[_TEXT].any():
        return numbers
    found = _with_text(values, numbers, wanted, column, threshold, views)
    return _valued_as_written(found, written, traditional) if len(traditional) else found


def reads_numbers(values: pa.Array) -> bool:
    """Whether any of `values` holds a digit as `find` reads numbers (full-width digits and numerals read
    out folded first; an escape that stands for a digit is written with ASCII digits). Where none does,
    what `find` reports never depends on the run's known values, which are numbers."""
    folded, _ = _fold_values(values.cast(pa.string()) if values.type != pa.string() else values)
    data, _ = utf8_buffer(folded)
    return bool(((data >= ord("0")) & (data <= ord("9"))).any())


def _valued_as_written(found: Found, written: pa.Array, rows: np.ndarray) -> Found:
    """`found` with the names and addresses in `rows` (values written with traditional characters)
    valued as written: `recognizers.scripts` only lets the finders read them."""
    chosen = np.flatnonzero(_TEXT[_ranks(found.entity)] & np.isin(found.row, rows))
    if not len(chosen):
        return found
    data, offsets = utf8_buffer(written)
    start, end = found.start[chosen], found.end[chosen]
    texts = gather(data, offsets[found.row[chosen]] + start, end - start)
    value = replaced(found.value, chosen, _normalized(found.entity[chosen], texts))
    return dataclasses.replace(found, value=value)


def _numbers_as_read(values: pa.Array, views: Views, wanted: np.ndarray, column: str | None,
                     threshold: float, known: KnownValues | None) -> Found:
    """`_numbers`, where the values of `views` (holding escapes) are searched as read, so the words
    around a number count though they are escaped, and their findings placed as written."""
    plain = np.setdiff1d(np.arange(len(values)), views.rows)
    found = _numbers(values.take(pa.array(plain)), wanted, column, threshold, known)
    read = _numbers(views.read, wanted, column, threshold, known)
    start, end = views.as_written(read.row, read.start, read.end)
    both = _concat([dataclasses.replace(found, row=plain[found.row]),
                    dataclasses.replace(read, row=views.rows[read.row], start=start, end=end)])
    return both.take(np.lexsort((both.start, both.row)))


def _numbers(values: pa.Array, wanted: np.ndarray, column: str | None, threshold: float,
             known: KnownValues | None) -> Found:
    """Findings of the entities found by digit layouts (see `find`)."""
    folded, folding = _fold_values(values)
    data, offsets = utf8_buffer(folded)
    run_row, run_start, run_end, digit_start = _runs(data, offsets)
    if not len(run_row):
        return _empty()
    run_shape, shapes = _shapes(data, offsets, run_row, run_start, run_end)
    columns = _judge(data, run_shape, shapes, digit_start, run_start)
    if not columns["run"]:
        return _empty()
    run = np.concatenate(columns["run"])
    if not len(run):
        return _empty()
    row = run_row[run]
    start = run_start[run] + np.concatenate(columns["start"])
    end = run_start[run] + np.concatenate(columns["end"])
    rank = np.concatenate(columns["rank"])
    strength = np.concatenate(columns["strength"])
    subtype = np.concatenate(columns["subtype"])
    value = pa.concat_arrays([v.cast(pa.string()) for v in columns["value"]])
    suffices = np.concatenate(columns["layout"])
    whole = _whole(folded, offsets, row, start, end)
    context = np.zeros(len(run), dtype=np.int8)
    supported = column_context(column)
    windows = None
    for entity_rank, spec in enumerate(REGISTRY.values()):
        members = np.flatnonzero(rank == entity_rank)
        if not len(members):
            continue
        if spec.name in supported:
            context[members] = Context.FOR
            continue
        if windows is None:
            windows = _windows(data, offsets[row], start)
        context[members] = _distinct_contexts(windows, members, spec.context)
    # A whole value that only one entity writes that way (a bare legacy ID) is supported by being whole,
    # unless the column is named for another entity (15 digits in a card column are a card).
    if not supported:
        context = np.where(suffices & whole & (context == Context.NONE), Context.FOR, context).astype(np.int8)
    scores = score_table()[strength, context + 1]
    context, scores = _listed(data, run, run_row, run_start, run_end, rank, strength, context, scores,
                              threshold)
    keep = _resolve(run, start, end, rank, scores, threshold)
    if known is not None and known.active:
        # Numbers left in clear that overlap nothing reported: noted for the run, and reported where the
        # run reported them elsewhere (never at the cost of a number reported here), with the list rule
        # and the overlaps settled again.
        left = np.flatnonzero(_unsettled(start, end, scores, threshold, keep) & wanted[rank])
        digests = known.digests(_ENTITY_NAMES[rank[left]], value.take(pa.array(left, pa.int64())))
        known.note_pending(digests)
        promoted = left[known.promoted(digests)]
        if len(promoted):
            strength, context = strength.copy(), context.copy()
            strength[promoted], context[promoted] = Strength.VALIDATED, Context.FOR
            scores = score_table()[strength, context + 1]
            context, scores = _listed(data, run, run_row, run_start, run_end, rank, strength, context, scores,
                                      threshold)
            keep = _resolve(run, start, end, rank, scores, threshold)
    keep = keep[wanted[rank[keep]]]
    keep = keep[np.lexsort((start[keep], row[keep]))]
    base = offsets[row[keep]]
    found = Found(row[keep], start[keep] - base, end[keep] - base, _ENTITY_NAMES[rank[keep]], subtype[keep],
                  scores[keep], strength[keep] == Strength.VALIDATED, context[keep],
                  value.take(pa.array(keep, pa.int64())), whole[keep])
    return _unfold(found, folding) if folding is not None else found


def _with_text(values: pa.Array, numbers: Found, wanted: np.ndarray, column: str | None, threshold: float,
               views: Views | None) -> Found:
    """`numbers` with the findings of the text entities (names, addresses) added: every text finder runs
    whatever is asked for, so that a name inside an address is the address's. Where findings overlap,
    a number keeps its span, then the entity earlier in the registry (an address over a name inside it),
    then the longer span; a name or an address that lost keeps its pieces outside the winners (`_cut`)."""
    _, offsets = utf8_buffer(values)
    parts = [numbers]
    fields = members(values)
    if views is not None and fields is not None:  # a document's strings are read by `fields`
        views = views.without(fields.rows)
    for rank in np.flatnonzero(_TEXT).tolist():
        spec = REGISTRY[_ENTITY_NAMES[rank]]
        found = _text_found(spec, values, column, fields, views)
        scores = score_table()[found.strength, found.context + 1]
        keep = np.flatnonzero(scores >= threshold)
        if not len(keep):
            continue
        row, start, end = found.row[keep], found.start[keep], found.end[keep]
        parts.append(Found(
            row, start, end, np.full(len(keep), spec.name), found.subtype[keep], scores[keep],
            np.zeros(len(keep), dtype=bool), found.context[keep],
            found.value.take(pa.array(keep, pa.int64())),
            _whole(values, offsets, row, offsets[row] + start, offsets[row] + end),
        ))
    found = _concat(parts)
    rank = _ranks(found.entity)
    keep = first_by_priority(found.row, found.start, found.end, _priority(rank))
    cut = _cut(values, offsets, found, keep, _TEXT[rank])
    if len(cut):  # pieces of different findings may overlap each other: the same rule settles them
        found = _concat([found.take(keep), cut])
        rank = _ranks(found.entity)
        keep = first_by_priority(found.row, found.start, found.end, _priority(rank))
    keep = keep[wanted[rank[keep]]]
    return found.take(keep[np.lexsort((found.start[keep], found.row[keep]))])


def _priority(rank: np.ndarray) -> np.ndarray:
    """Which of overlapping findings of these ranks keeps its span (lowest first): numbers, then the
    registry's order."""
    return np.where(_TEXT[rank], 1, 0) * len(REGISTRY) + rank


def _cut(values: pa.Array, offsets: np.ndarray, found: Found, keep: np.ndarray, text: np.ndarray) -> Found:
    """The text findings (`text`) that lost their span to findings kept (`keep`), cut around those: each
    piece of them outside every finding kept that holds a Han character or a Latin letter (`张伟一三八…`: a
    name read into a spoken number keeps `张伟`; an address after a number it took digits from keeps its
    road). A finding dropped whole would leave its text in clear."""
    lost = text.copy()
    lost[keep] = False
    lost = np.flatnonzero(lost)
    if not len(lost):
        return found.take(lost)
    kept = keep[np.lexsort((found.start[keep], found.row[keep]))]
    kept_row = found.row[kept].astype(np.int64) << 32
    kept_start, kept_end = kept_row + found.start[kept], kept_row + found.end[kept]
    row = found.row[lost].astype(np.int64) << 32
    # The findings kept that overlap each lost one follow each other (kept ones never overlap).
    first = np.searchsorted(kept_end, row + found.start[lost], side="right")
    count = np.searchsorted(kept_start, row + found.end[lost], side="left") - first
    owner = np.repeat(np.arange(len(lost)), count + 1)
    step = np.arange(len(owner)) - np.repeat(np.cumsum(count + 1) - count - 1, count + 1)
    last = len(kept) - 1
    after = np.where(step > 0, kept_end[np.minimum(first[owner] + step - 1, last)] - row[owner], 0)
    before = np.where(step < count[owner], kept_start[np.minimum(first[owner] + step, last)] - row[owner],
                      found.end[lost][owner])
    start = np.maximum(after, found.start[lost][owner])
    end = np.minimum(before, found.end[lost][owner])
    pieces = np.flatnonzero(end > start)
    owner, start, end = lost[owner[pieces]], start[pieces], end[pieces]
    data, _ = utf8_buffer(values)
    lead, trail, texts = whole_spans(gather(data, offsets[found.row[owner]] + start, end - start))
    start, end = start + lead, start + trail  # spaces around a piece are not its
    held = np.flatnonzero(matches(texts, "\\p{Han}|[A-Za-z]"))
    owner, start, end, texts = owner[held], start[held], end[held], texts.take(pa.array(held))
    if not len(owner):
        return found.take(owner)
    entity, row = found.entity[owner], found.row[owner]
    return Found(row, start, end, entity, found.subtype[owner], found.score[owner], found.validated[owner],
                 found.context[owner], _normalized(entity, texts),
                 _whole(values, offsets, row, offsets[row] + start, offsets[row] + end))


def _ranks(entity: np.ndarray) -> np.ndarray:
    """The registry rank of each entity name."""
    return _RANK_OF_SORTED[np.searchsorted(_ENTITY_NAMES_SORTED, entity)]


def _normalized(entity: np.ndarray, texts: pa.Array) -> pa.Array:
    """The value of each written span of a text `entity`, as its module normalizes it."""
    value = texts.cast(pa.string())
    for name in np.unique(entity).tolist():
        value = pc.if_else(pa.array(entity == name), REGISTRY[name].normalize(texts), value)
    return value


def _text_found(spec: EntitySpec, values: pa.Array, column: str | None, fields: Members | None,
                views: Views | None) -> TextFound:
    """A text entity's findings in a batch: JSON documents field by field (`fields`), values holding
    escaped characters as read (`views`), the others as written."""
    if fields is None and views is None:
        return spec.finder(values, column)
    parts = []
    apart = [np.zeros(0, dtype=np.int64)]
    if fields is not None:
        parts.append(found_in_fields(spec.finder, spec.column_hints, fields))
        apart.append(fields.rows)
    if views is not None:
        parts.append(found_in_views(spec.finder, column, views))
        apart.append(views.rows)
    plain = np.setdiff1d(np.arange(len(values)), np.concatenate(apart))
    if len(plain):
        parts.append(moved(spec.finder(values.take(pa.array(plain)), column), plain))
    return together(parts)


def _concat(parts: list[Found]) -> Found:
    return Found(*(np.concatenate([getattr(p, name) for p in parts]) if name != "value"
                   else pa.concat_arrays([p.value.cast(pa.string()) for p in parts])
                   for name in ("row", "start", "end", "entity", "subtype", "score", "validated", "context",
                                "value", "whole")))


def _unsettled(start: np.ndarray, end: np.ndarray, scores: np.ndarray, threshold: float, keep: np.ndarray
               ) -> np.ndarray:
    """Candidates below the threshold that overlap no kept candidate: numbers left in clear that the run
    reports if it finds them elsewhere. Kept spans do not overlap, so the one starting last before a
    candidate ends is the only one that can overlap it."""
    below = scores < threshold  # every candidate has a strength, so a score above 0
    if not len(keep):
        return below
    order = np.argsort(start[keep], kind="stable")
    kept_start, kept_end = start[keep][order], end[keep][order]
    before = np.searchsorted(kept_start, end, side="left") - 1
    overlaps = (before >= 0) & (kept_end[np.maximum(before, 0)] > start)
    return below & ~overlaps


def _listed(data: np.ndarray, run: np.ndarray, run_row: np.ndarray, run_start: np.ndarray,
            run_end: np.ndarray, rank: np.ndarray, strength: np.ndarray, context: np.ndarray,
            scores: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Context FOR for a number without context that follows, after a list separator alone, a number of
    the same entity that is reported (up to `LIST_LINKS` numbers down the list)."""
    previous = run - 1
    linked = (run > 0) & (context == Context.NONE) & (scores < threshold)
    linked &= run_row[np.maximum(previous, 0)] == run_row[run]
    candidates = np.flatnonzero(linked)
    if not len(candidates):
        return context, scores
    gap_start = run_end[previous[candidates]]
    gap = np.maximum(run_start[run[candidates]] - gap_start, 0)
    short = gap <= 8
    candidates, gap_start, gap = candidates[short], gap_start[short], gap[short]
    separated = pc.match_substring_regex(gather(data, gap_start, gap), _LIST_SEPARATOR)
    candidates = candidates[separated.to_numpy(zero_copy_only=False)]
    entities = len(REGISTRY)
    for _ in range(LIST_LINKS):
        reported = np.zeros((run.max() + 1) * entities, dtype=bool)
        above = scores >= threshold
        reported[run[above] * entities + rank[above]] = True
        promoted = candidates[reported[previous[candidates] * entities + rank[candidates]]]
        promoted = promoted[context[promoted] == Context.NONE]
        if not len(promoted):
            break
        context = context.copy()
        context[promoted] = Context.FOR
        scores = score_table()[strength, context + 1]
    return context, scores


def _distinct_contexts(windows: pa.DictionaryArray, members: np.ndarray, positive: tuple[str, ...]
                       ) -> np.ndarray:
    """`contexts` of the windows at `members`, judged once per distinct window."""
    ids = windows.indices.to_numpy(zero_copy_only=False)[members]
    used = np.flatnonzero(np.bincount(ids, minlength=len(windows.dictionary)))
    verdicts = np.zeros(len(windows.dictionary), dtype=np.int8)
    verdicts[used] = contexts(windows.dictionary.take(pa.array(used)), positive)
    return verdicts[ids]


def _whole(values: pa.Array, offsets: np.ndarray, row: np.ndarray, start: np.ndarray, end: np.ndarray
           ) -> np.ndarray:
    """Whether each span is its value but for leading and trailing whitespace (trimmed once per value)."""
    holding = np.zeros(len(values), dtype=bool)
    holding[row] = True
    which = (np.cumsum(holding) - 1)[row]  # the position of each span's value among those holding one
    lead, trail, _ = whole_spans(values.filter(pa.array(holding)))
    return (start == offsets[row] + lead[which]) & (end == offsets[row] + trail[which])


def _resolve(run: np.ndarray, start: np.ndarray, end: np.ndarray, rank: np.ndarray, scores: np.ndarray,
             threshold: float) -> np.ndarray:
    """Indexes of the candidates kept: at least `threshold`, and where candidates of a run overlap, the
    highest score first, then the longer span, then the lower rank (the more specific check)."""
    above = np.flatnonzero(scores >= threshold)
    by_start = above[np.lexsort((start[above], run[above]))]
    same_run = run[by_start][1:] == run[by_start][:-1]
    overlaps = same_run & (start[by_start][1:] < np.maximum.accumulate(end[by_start])[:-1])
    # Runs where some candidate overlaps another are settled one by one; the rest keep every candidate.
    contested_runs = np.unique(run[by_start][1:][overlaps])
    contested = np.isin(run[by_start], contested_runs)
    kept = [by_start[~contested]]
    if len(contested_runs):
        chosen = by_start[contested]
        remaining = chosen[np.lexsort((rank[chosen], -(end[chosen] - start[chosen]), -scores[chosen],
                                       run[chosen]))]
        # Greedy by priority, all runs at once: each round keeps the best candidate left in every run
        # and drops the candidates that overlap it (itself included).
        while len(remaining):
            leading = remaining[np.concatenate([[True], run[remaining][1:] != run[remaining][:-1]])]
            kept.append(leading)
            best = leading[np.searchsorted(run[leading], run[remaining])]
            remaining = remaining[~((start[remaining] < end[best]) & (start[best] < end[remaining]))]
    return np.concatenate(kept)


def _unfold(found: Found, folding: _Folding) -> Found:
    """Byte offsets in folded values mapped back to the values as written."""
    start, end = found.start.copy(), found.end.copy()
    at = np.minimum(np.searchsorted(folding.rows, found.row), max(len(folding.rows) - 1, 0))
    hit = np.flatnonzero(folding.rows[at] == found.row) if len(folding.rows) else at[:0]
    if len(hit):
        for offsets in (start, end):
            chars = _char_index(folding.folded, at[hit], offsets[hit])
            offsets[hit] = byte_offsets(folding.original, at[hit], chars)
    for i in np.flatnonzero(np.isin(found.row, list(folding.maps))).tolist():
        original, folded, origin = folding.maps[int(found.row[i])]
        encoded = folded.encode()
        a, b = len(encoded[: start[i]].decode()), len(encoded[: end[i]].decode())
        a, b = origin[a], origin[b - 1] + 1
        start[i], end[i] = len(original[:a].encode()), len(original[:b].encode())
    return Found(found.row, start, end, found.entity, found.subtype, found.score, found.validated,
                 found.context, found.value, found.whole)


def _char_index(values: pa.Array, row: np.ndarray, byte: np.ndarray) -> np.ndarray:
    """The character index of byte offset `byte` into value `row` of `values`."""
    data, offsets = utf8_buffer(values)
    leads = np.concatenate([[0], np.cumsum((data & 0xC0) != 0x80)])
    return leads[offsets[row] + byte] - leads[offsets[row]]


def _empty() -> Found:
    none = np.zeros(0, dtype=np.int64)
    return Found(none, none, none, np.zeros(0, dtype=str), np.zeros(0, dtype=str), np.zeros(0),
                 np.zeros(0, dtype=bool), np.zeros(0, dtype=np.int8), pa.array([], pa.string()),
                 np.zeros(0, dtype=bool))


__all__ = ["Found", "contexts", "find"]
