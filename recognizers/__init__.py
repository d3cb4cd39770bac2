"""Recognizers for Chinese personal data: resident ID numbers, phone numbers, bank card numbers, names and
addresses.

`detect(text)` returns `Finding`s with offsets into the original text. Each entity has a module with its
format knowledge in python-stdnum's vocabulary (`compact`, `validate`, `is_valid`, …): `resident_id`,
`phone`, `bank_card`, `address`, `person_name`. Presidio users plug the same detection into their
AnalyzerEngine through `recognizers.presidio_recognizers`.
"""

from recognizers.context import DEFAULT_THRESHOLD
from recognizers.detector import ENTITIES, detect
from recognizers.findings import Finding

__all__ = ["DEFAULT_THRESHOLD", "ENTITIES", "Finding", "detect"]
