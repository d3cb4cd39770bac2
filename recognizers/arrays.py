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


def gather(data: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> pa.Array:
    """The byte ranges [start, start + length) of `data` as a string array (one gather, no Python loop)."""
    lengths = lengths.astype(np.int64)
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    index = np.repeat(starts.astype(np.int64) - offsets[:-1], lengths) + np.arange(offsets[-1])
    return pa.LargeStringArray.from_buffers(
        len(lengths), pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(data[index]))
    ).cast(pa.string())
