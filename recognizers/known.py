"""Known values: a number reported anywhere in a run is that entity wherever else it appears.

A Luhn-failing card is reported in a card column (its header is context) and missed in a memo without
context; a card whose reading sits after `订单` is suppressed although the same digits are masked two
columns away. The engine settles each value alone, so a run gathers what it reported as keyed digests
and reports a candidate below the threshold whose digest is among them (`KnownValues`).

Digests are SipHash-2-4 (a keyed pseudo-random function made for short inputs) of the normalized value
under a key of its entity's own, computed in bulk with numpy. Without the key a digest says nothing about
the number, and the key never leaves the processes of the run (`pipeline.known`).
"""

from __future__ import annotations

import hmac
import struct

import numpy as np
import pyarrow as pa

from recognizers.arrays import in_sorted, utf8_buffer
from recognizers.registry import REGISTRY

KEY_BYTES = 16
"""SipHash's key size."""
_INIT = (0x736F6D6570736575, 0x646F72616E646F6D, 0x6C7967656E657261, 0x7465646279746573)
_CODES = {name: spec.token_code for name, spec in REGISTRY.items()}
EMPTY = np.zeros(0, dtype=np.uint64)


def _rotl(x: np.ndarray, bits: int, spare: np.ndarray) -> None:
    """Rotate `x` left by `bits` in place (`spare`: scratch of the same shape)."""
    np.left_shift(x, np.uint64(bits), out=spare)
    np.right_shift(x, np.uint64(64 - bits), out=x)
    x |= spare


def _rounds(v: list[np.ndarray], count: int, spare: np.ndarray) -> None:
    """`count` SipRounds on the state `v`, in place."""
    v0, v1, v2, v3 = v
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


def _compress(key: bytes, words: np.ndarray) -> np.ndarray:
    """SipHash-2-4 of messages given as (n, blocks) little-endian words, the last holding the tail and
    the length byte as the algorithm pads them."""
    k0, k1 = struct.unpack("<QQ", key)
    rows = len(words)
    v = [np.full(rows, (k0, k1, k0, k1)[i] ^ _INIT[i], dtype=np.uint64) for i in range(4)]
    spare = np.empty(rows, dtype=np.uint64)
    for block in range(words.shape[1]):
        m = words[:, block]
        v[3] ^= m
        _rounds(v, 2, spare)
        v[0] ^= m
    v[2] ^= np.uint64(0xFF)
    _rounds(v, 4, spare)
    return v[0] ^ v[1] ^ v[2] ^ v[3]


def siphash(key: bytes, messages: pa.Array) -> np.ndarray:
    """SipHash-2-4 under a 16-byte `key` of each value of a string or binary array (nulls as empty), as
    uint64: messages of one length are hashed together."""
    if len(key) != KEY_BYTES:
        raise ValueError(f"a SipHash key has {KEY_BYTES} bytes")
    lengths = np.diff(utf8_buffer(messages)[1])
    digests = np.empty(len(messages), dtype=np.uint64)
    for length in np.unique(lengths).tolist():  # values of one length sit side by side once taken
        rows = np.flatnonzero(lengths == length)
        padded = np.zeros((len(rows), 8 * (length // 8 + 1)), dtype=np.uint8)
        taken = messages.take(pa.array(rows)) if len(rows) < len(messages) else messages
        padded[:, :length] = utf8_buffer(taken)[0].reshape(len(rows), length)
        padded[:, -1] = length & 0xFF
        digests[rows] = _compress(key, padded.view("<u8"))
    return digests


class KnownValues:
    """One task's view of the run's known values. `promote` holds the digests the run reported elsewhere
    of values this task's file holds below the threshold: the engine reports those. With `gather`, the
    engine and the transform note the digests of what they reported and of the candidates they left
    below the threshold, for the run to match (`pipeline.known`). Holds key material: made where the
    task runs, never pickled."""

    def __init__(self, key: bytes, promote: np.ndarray = EMPTY, gather: bool = False) -> None:
        self._entity_keys = {
            name: hmac.new(key, f"cnpii known {code}".encode(), "sha256").digest()[:KEY_BYTES]
            for name, code in _CODES.items()
        }
        self.promote = np.sort(promote.astype(np.uint64))
        self.gather = gather
        self._reported: list[np.ndarray] = []
        self._pending: list[np.ndarray] = []

    def __reduce__(self):
        raise TypeError("KnownValues holds key material and is not pickled")

    @property
    def active(self) -> bool:
        """Whether the engine has anything to do with these: digests to promote, or gathering."""
        return self.gather or bool(len(self.promote))

    def digests(self, entity: np.ndarray, values: pa.Array) -> np.ndarray:
        """The keyed digest of each normalized value of the entity named beside it."""
        digests = np.empty(len(entity), dtype=np.uint64)
        for name, key in self._entity_keys.items():
            mine = np.flatnonzero(entity == name)
            if len(mine):
                digests[mine] = siphash(key, values.take(pa.array(mine)))
        return digests

    def promoted(self, digests: np.ndarray) -> np.ndarray:
        """Whether each digest is one the run reported elsewhere."""
        return in_sorted(digests, self.promote)

    def note_reported(self, digests: np.ndarray) -> None:
        """Digests of values this task reported (a no-op unless gathering)."""
        if self.gather and len(digests):
            self._reported.append(digests)

    def note_pending(self, digests: np.ndarray) -> None:
        """Digests of candidates this task left below the threshold (a no-op unless gathering)."""
        if self.gather and len(digests):
            self._pending.append(digests)

    def gathered(self) -> tuple[np.ndarray, np.ndarray]:
        """The distinct reported and pending digests, sorted."""
        return _distinct(self._reported), _distinct(self._pending)


def _distinct(parts: list[np.ndarray]) -> np.ndarray:
    """The distinct digests of `parts`, sorted."""
    if not parts:
        return EMPTY
    digests = np.sort(np.concatenate(parts))
    return digests[np.concatenate([[True], digests[1:] != digests[:-1]])]
