"""Folding: full-width forms, odd spaces and dashes become ASCII one character for one."""

from __future__ import annotations

import random

from recognizers import text


def test_translate_is_a_character_for_character_table_lookup():
    """`translate` (a regex scan, then one `str.replace` per character present) against `str.translate`
    with the same table, on seeded strings mixing every translatable character with Chinese and ASCII."""
    rng = random.Random(7)
    table = str.maketrans(text._TRANSLATED)
    alphabet = [*text._TRANSLATED, *"借款人电话卡号0123456789 -abcXYZ，。"]
    for _ in range(300):
        sample = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 60)))
        translated = text.translate(sample)
        assert translated == sample.translate(table)
        assert len(translated) == len(sample)
