"""SipHash-2-4 of many short strings at once, in numpy: a keyed 64-bit digest per value.

SipHash (Aumasson and Bernstein, 2012) is a pseudorandom function designed for short inputs: without the
128-bit key its outputs cannot be predicted or inverted, so digests of resident IDs cannot be enumerated
back to IDs by whoever sees them. Python's hashlib has no vectorized form; a loop over a million values
costs seconds of interpreter time, this costs milliseconds. Values are grouped by byte length and each
group is hashed as a matrix of 64-bit words, following the specification word for word.

>>> import pyarrow as pa
>>> key = bytes(range(16))
>>> [hex(d) for d in siphash24(key, pa.array(["", bytes(range(15)).decode()])).tolist()]
['0x726fdb47dd0e0e31', '0xa129ca6149be45e5']
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from recognizers.arrays import fixed_width_bytes

_U64 = np.uint64
KEY_BYTES = 16
"""SipHash's key: 128 bits."""


def _rotl(x: np.ndarray, bits: int, spare: np.ndarray) -> None:
    """Rotate `x` left by `bits` in place (`spare`: scratch of the same shape)."""
    np.right_shift(x, _U64(64 - bits), out=spare)
    np.left_shift(x, _U64(bits), out=x)
    x |= spare


def _rounds(v0: np.ndarray, v1: np.ndarray, v2: np.ndarray, v3: np.ndarray, count: int,
            spare: np.ndarray) -> None:
    """`count` SipRounds on the state, in place."""
    for _ in range(count):
        v0 += v1
        _rotl(v1, 13, spare)
        v1 ^= v0
        _rotl(v0, 32, spare)
        v2 += v3
        _rotl(v3, 16, spare)
        v3 ^= v2
        v0 += v3
        _rotl(v3, 21, spare)
        v3 ^= v0
        v2 += v1
        _rotl(v1, 17, spare)
        v1 ^= v2
        _rotl(v2, 32, spare)


def _hash_equal_lengths(k0: np.uint64, k1: np.uint64, data: np.ndarray, length: int) -> np.ndarray:
    """SipHash-2-4 of `n` messages of `length` bytes given as an (n, length) uint8 matrix."""
    n = data.shape[0]
    blocks = length // 8 + 1  # the last block carries the remaining bytes and the length
    padded = np.zeros((n, blocks * 8), np.uint8)
    padded[:, :length] = data
    padded[:, -1] = length & 0xFF
    words = padded.view("<u8").astype(_U64, copy=False)
    v0, v1 = np.full(n, k0 ^ _U64(0x736F6D6570736575)), np.full(n, k1 ^ _U64(0x646F72616E646F6D))
    v2, v3 = np.full(n, k0 ^ _U64(0x6C7967656E657261)), np.full(n, k1 ^ _U64(0x7465646279746573))
    spare = np.empty(n, _U64)
    with np.errstate(over="ignore"):
        for i in range(blocks):
            word = np.ascontiguousarray(words[:, i])
            v3 ^= word
            _rounds(v0, v1, v2, v3, 2, spare)
            v0 ^= word
        v2 ^= _U64(0xFF)
        _rounds(v0, v1, v2, v3, 4, spare)
    return v0 ^ v1 ^ v2 ^ v3


def siphash24(key: bytes, values: pa.Array) -> np.ndarray:
    """The SipHash-2-4 digest (uint64) of each value's UTF-8 bytes under a 16-byte key; nulls hash as
    the empty string (callers keep their own null mask)."""
    if len(key) != KEY_BYTES:
        raise ValueError(f"SipHash takes a {KEY_BYTES}-byte key")
    k0, k1 = (_U64(int.from_bytes(key[i : i + 8], "little")) for i in range(0, KEY_BYTES, 8))
    text = pc.fill_null(values.cast(pa.string()), "")
    lengths = pc.binary_length(text).to_numpy(zero_copy_only=False).astype(np.int64)
    digests = np.empty(len(text), _U64)
    for length in np.unique(lengths).tolist():
        rows = np.flatnonzero(lengths == length)
        digests[rows] = _hash_equal_lengths(k0, k1, fixed_width_bytes(text.take(pa.array(rows)), length),
                                           length)
    return digests
