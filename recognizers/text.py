"""Fold the many ways Chinese text writes a number into plain ASCII, keeping a map back to the original.

Exports mix full-width digits (`１３８`), full-width `Ｘ`/`＋`/`（）`, ideographic and no-break spaces,
assorted dashes, and zero-width characters pasted in from chat apps. Detection runs on a folded shadow
copy so that one set of ASCII patterns covers all of them, and every span found is mapped back to
offsets in the text as the user wrote it (spans always index the original string).

>>> folded = fold("手机１３８\u200b0013８000")
>>> folded.text
'手机13800138000'
>>> folded.span(2, 13)
(2, 14)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# One character in, one character out: the folded text keeps its length, so offsets stay valid.
_FULLWIDTH = {0xFF10 + i: ord("0") + i for i in range(10)}
_FULLWIDTH.update({0xFF21 + i: ord("A") + i for i in range(26)})
_FULLWIDTH.update({0xFF41 + i: ord("a") + i for i in range(26)})
_PUNCTUATION = {
    "＋": "+",
    "（": "(",
    "）": ")",
    "：": ":",
    "\u3000": " ",  # ideographic space
    "\u00a0": " ",  # no-break space
    "\u2007": " ",
    "\u2009": " ",
    "\u202f": " ",
    "\t": " ",
    "－": "-",
    "\u2010": "-",
    "\u2011": "-",
    "\u2012": "-",
    "\u2013": "-",
    "\u2014": "-",
    "\u2015": "-",
    "\u2212": "-",
    "\ufe63": "-",
}
_TRANSLATED = {chr(k): chr(v) for k, v in _FULLWIDTH.items()} | _PUNCTUATION

_NUMERALS = str.maketrans("〇零一二三四五六七八九幺", "001234567891")
"""Digits as call transcripts spell them (幺 is how 1 is read out in numbers)."""
SPOKEN_NUMBER = re.compile("[〇零一二三四五六七八九幺](?: ?[〇零一二三四五六七八九幺]){6,}")
"""Seven or more numerals in a row (single spaces between groups allowed): a number read out digit by
digit, not a word (一五一十 has four)."""

# Characters that render as nothing; they are dropped from the shadow copy (so the map is needed).
IGNORABLE = frozenset("\u200b\u200c\u200d\u2060\ufeff\u00ad")


@dataclass(frozen=True, slots=True)
class FoldedText:
    """A folded shadow of `original`; `origin[i]` is the original index of folded character i.

    `origin` is None when folding kept every character in place (the common case), which saves
    building an index list for the millions of plain ASCII cells in a column.
    """

    original: str
    text: str
    origin: tuple[int, ...] | None

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Map a [start, end) span of the folded text back to the original text."""
        if self.origin is None:
            return start, end
        return self.origin[start], self.origin[end - 1] + 1


FOLDS = frozenset(_TRANSLATED) | IGNORABLE
"""Every character that folding changes or drops (numerals change only in runs: `SPOKEN_NUMBER`)."""


_TRANSLATABLE = re.compile("[" + "".join(re.escape(c) for c in sorted(_TRANSLATED)) + "]")


def translate(text: str) -> str:
    """Full-width forms to ASCII, spaces and dashes unified: one character for one, so offsets stay valid
    (the engine translates a batch of values joined into one string). The few distinct characters
    present are found by one regex scan, then replaced each in one pass (`str.replace` beats
    `str.translate`, and the scan beats building a set of every character)."""
    for character in set(_TRANSLATABLE.findall(text)):
        text = text.replace(character, _TRANSLATED[character])
    return text


def spell_out(text: str) -> str:
    """Numbers spoken in Chinese numerals written as digits, one character for one."""
    return SPOKEN_NUMBER.sub(lambda m: m.group().translate(_NUMERALS), text)


def fold(text: str) -> FoldedText:
    """Return the folded shadow of `text` (full-width forms to ASCII, spaces and dashes unified, numbers
    spoken in Chinese numerals to digits)."""
    if text.isascii():
        return FoldedText(text, text.replace("\t", " "), None)
    folded = spell_out(translate(text))
    if not any(ch in IGNORABLE for ch in folded):
        return FoldedText(text, folded, None)
    kept = [(i, ch) for i, ch in enumerate(folded) if ch not in IGNORABLE]
    return FoldedText(text, "".join(ch for _, ch in kept), tuple(i for i, _ in kept))


def digits_of(text: str) -> str:
    """The ASCII digits of an already folded token, in order (separators and prefixes dropped)."""
    return "".join(ch for ch in text if "0" <= ch <= "9")
