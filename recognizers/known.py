"""Known values: a number reported anywhere in a run is that entity wherever else it appears.

A Luhn-failing card is reported in a card column (its header is context) and missed in a memo without
context; a card whose reading sits after `订单` is suppressed although the same digits are masked two
columns away. The engine settles each value alone, so a run gathers what it reported as keyed digests
and reports a candidate below the threshold whose digest is among them (`KnownValues`).

Digests are SipHash-2-4 (`recognizers.siphash`, a keyed pseudo-random function made for short inputs)
of the normalized value under a key of its entity's own, computed in bulk with numpy. Without the key a
digest says nothing about the number, and the key never leaves the processes of the run
(`pipeline.known`).
"""

from __future__ import annotations

import hmac

import numpy as np
import pyarrow as pa

from recognizers.arrays import in_sorted
from recognizers.registry import REGISTRY
from recognizers.siphash import KEY_BYTES, siphash24

_CODES = {name: spec.token_code for name, spec in REGISTRY.items()}
EMPTY = np.zeros(0, dtype=np.uint64)


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
                digests[mine] = siphash24(key, values.take(pa.array(mine)))
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
