"""What a recognizer reports: candidates inside the detector, findings to callers.

A `Finding.value` is the canonical form of personal data (e.g. `13812345678`): it exists so that
tokenization and generalization see one value however it was written, and it is kept out of `repr`
so that a finding printed to a log never shows it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Strength(enum.IntEnum):
    """How much the characters alone prove.

    VALIDATED: a check that random digits rarely pass (MOD 11-2 + date + province, mobile segment,
    Luhn + issuer). PLAUSIBLE: right shape but weak proof (15-digit legacy IDs, IoT numbers, cards that
    fail Luhn but carry a known BIN); reported only with supporting context.
    """

    PLAUSIBLE = 1
    VALIDATED = 2


@dataclass(frozen=True, slots=True)
class Candidate:
    """A match in folded-text coordinates, before context scoring and overlap resolution."""

    entity: str
    start: int
    end: int
    value: str = field(repr=False)
    subtype: str
    strength: Strength


@dataclass(frozen=True, slots=True)
class Finding:
    """A detected entity: `start`/`end` are Python string indices into the original text."""

    entity: str
    start: int
    end: int
    score: float
    value: str = field(repr=False)
    subtype: str
    evidence: tuple[str, ...] = ()
