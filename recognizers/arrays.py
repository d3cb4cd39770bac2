"""Arrow string arrays as numpy byte matrices and back: how the engine and the actions work in bulk.

Numbers of one written shape have one width, so a batch of them is an (n, width) uint8 matrix on which a
checksum or a mask is one numpy expression.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa


def utf8_buffer(values: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """The UTF-8 bytes of a string array (no copy) and each value's offset into them, from 0 (nulls are
    empty)."""
    offsets = np.frombuffer(values.buffers()[1], np.int32)[values.offset : values.offset + len(values) + 1]
    offsets = offsets.astype(np.int64)
    data = values.buffers()[2]
    data = np.frombuffer(data, np.uint8) if data is not None else np.zeros(0, np.uint8)
    return data[offsets[0] : offsets[-1]], offsets - offsets[0]


def fixed_width_bytes(values: pa.Array, width: int) -> np.ndarray:
    """The bytes of equal-width strings as an (n, width) uint8 matrix (no copy)."""
    return utf8_buffer(values)[0].reshape(len(values), width)


def strings(matrix: np.ndarray) -> pa.Array:
    """The rows of an (n, width) uint8 matrix as a string array: the inverse of `fixed_width_bytes`."""
    rows, width = matrix.shape
    offsets = np.arange(0, (rows + 1) * width, width, dtype=np.int32)
    data = pa.py_buffer(np.ascontiguousarray(matrix, dtype=np.uint8))
    return pa.StringArray.from_buffers(rows, pa.py_buffer(offsets), data)


def decimals(digits: np.ndarray) -> np.ndarray:
    """The decimal number each row of a matrix of ASCII digits writes."""
    values = digits.astype(np.int64) - 48
    return values @ (10 ** np.arange(digits.shape[1] - 1, -1, -1, dtype=np.int64))


def in_sorted(values: np.ndarray, listed: np.ndarray) -> np.ndarray:
    """Whether each of `values` is in the sorted array `listed` (a binary search each)."""
    if not len(listed) or not len(values):
        return np.zeros(len(values), dtype=bool)
    at = np.minimum(np.searchsorted(listed, values), len(listed) - 1)
    return listed[at] == values


def ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The integers of each range [start, start + count), one range after another, without a loop."""
    counts = np.asarray(counts, dtype=np.int64)
    return (np.repeat(np.asarray(starts, dtype=np.int64), counts) + np.arange(int(counts.sum()))
            - np.repeat(np.cumsum(counts) - counts, counts))


def gather(data: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> pa.Array:
    """The byte ranges [start, start + length) of `data` as a string array, without a Python loop or an
    index per byte: ranges that overlap none before them (in start order) are cut by one `take` from a
    view of `data` whose offsets alternate between range bounds; the others (windows before numbers close
    together) go round again."""
    starts = np.asarray(starts, dtype=np.int64)
    ends = starts + np.asarray(lengths, dtype=np.int64)
    order = np.arange(len(starts)) if _ascending(starts) else np.argsort(starts, kind="stable")
    buffer = pa.py_buffer(np.ascontiguousarray(data, dtype=np.uint8))
    pieces, placed = [], []
    while len(order):
        reach = np.maximum.accumulate(np.concatenate([[0], ends[order][:-1]]))
        free = starts[order] >= reach
        chosen, order = order[free], order[~free]
        bounds = np.empty(2 * len(chosen) + 1, dtype=np.int64)
        bounds[0:-1:2], bounds[1:-1:2], bounds[-1] = starts[chosen], ends[chosen], ends[chosen[-1]]
        view = pa.LargeStringArray.from_buffers(2 * len(chosen), pa.py_buffer(bounds), buffer)
        pieces.append(view.take(pa.array(np.arange(0, 2 * len(chosen), 2))).cast(pa.string()))
        placed.append(chosen)
    if not pieces:
        return pa.array([], pa.string())
    if len(pieces) == 1 and _ascending(placed[0]):
        return pieces[0]
    position = np.empty(len(starts), dtype=np.int64)
    position[np.concatenate(placed)] = np.arange(len(starts))
    return pa.concat_arrays(pieces).take(pa.array(position))


def prefix_bytes(data: np.ndarray, start: np.ndarray, limit: np.ndarray, size: int | np.ndarray) -> pa.Array:
    """At most `size` bytes of `data` from each of `start` and before `limit`, ending on a character (a
    character cut in two would be no UTF-8)."""
    end = np.minimum(start + size, limit)
    for _ in range(3):  # off the continuation bytes of a character cut in two
        end = end - ((end < limit) & ((data[np.minimum(end, len(data) - 1)] & 0xC0) == 0x80))
    return gather(data, start, end - start)


def _ascending(values: np.ndarray) -> bool:
    return bool(np.all(values[1:] >= values[:-1]))


def replaced(values: pa.Array, rows: np.ndarray, new: pa.Array) -> pa.Array:
    """`values` with the values at `rows` (distinct positions, in the order of `new`) replaced by `new`,
    in one `take`."""
    position = np.arange(len(values))
    position[rows] = len(values) + np.arange(len(rows))
    return pa.concat_arrays([values.cast(new.type), new]).take(pa.array(position))


def byte_offsets(values: pa.Array, row: np.ndarray, char: np.ndarray) -> np.ndarray:
    """The byte offset of character `char` of value `row` of `values` (`char` at most the value's length)."""
    data, offsets = utf8_buffer(values)
    lead = np.append(np.flatnonzero((data & 0xC0) != 0x80), len(data))  # where each character starts
    return lead[np.searchsorted(lead, offsets[row]) + char] - offsets[row]


def code_points(data: np.ndarray, kept: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The characters of valid UTF-8 `data` whose bytes `kept` marks (whole characters): code point, the
    byte each starts at and its width in bytes (the code points by Python's codec, in C)."""
    at = np.flatnonzero(kept & ((data & 0xC0) != 0x80))
    point = np.frombuffer(data[kept].tobytes().decode("utf-8").encode("utf-32-le"), dtype=np.uint32)
    return point.astype(np.int64), at, _WIDTHS[data[at]]


_WIDTHS = np.array([1] * 0xC0 + [2] * 0x20 + [3] * 0x10 + [4] * 0x10, dtype=np.int64)
"""A UTF-8 character's width in bytes by its first byte."""
