"""mask: show an entity the way Chinese finance apps display it, `138****5678`.

Masking works on the span as written: separators, brackets, a `+86` / `0086` prefix and the width of the
digits (full-width stays full-width) are kept, and only characters of the number itself are replaced.
Presets (the display conventions of Chinese banks and apps; PCI DSS 4.0 req. 3.4.1 for cards):

- phone: a mobile or 13-digit IoT number keeps its first 3 and last 4 digits (`+86 138-****-5678`);
  a landline keeps its area code and last 4 digits (`010-****5678`);
- bank card: at most the BIN (first 6) and the last 4 digits (`6222 02** **** 1234`);
- name: the surname (`张**`, `欧阳**`; a pinyin or dotted minority name is masked whole);
- address: its divisions (`广东省深圳市南山区**********`; an address without them is masked whole);
- resident ID (also residence permits and the foreign permanent resident ID): first 1 and last 1
  (`1****************X`). Digits 7-14, the birth date (7-12 in a 15-digit legacy number), are masked
  whatever the parameters; a 港澳 travel permit has no birth date but is short, so it never shows more
  than its first and last character.

`keep_first` / `keep_last` replace the preset counts for every entity the action is used for; counts
that would show more than the presets allow are refused. A value of a declared column that does not
parse as its entity is masked whole (every character but whitespace), unless it is already a masked
display of the entity; that keeps masking idempotent, and masked output is never detected again.

>>> from pipeline.actions.base import Target, build_action
>>> mask = build_action("mask", {}, None)
>>> mask.replace(Target("CN_PHONE", "13812345678", "mobile", "+86 138-1234-5678"))
'+86 138-****-5678'
>>> mask.replace(Target("CN_BANK_CARD", "6222020000001234", "UnionPay", "6222 0200 0000 1234"))
'6222 02** **** 1234'
>>> mask.replace(Target("CN_PHONE", "无", "declared", "无", True))
'*'
"""

from __future__ import annotations

import re
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import ValidationInfo, field_validator

from pipeline.actions.base import DECLARED, Action, ActionConfigError, Params, Target, register
from recognizers import phone, resident_id
from recognizers.arrays import fixed_width_bytes, strings
from recognizers.escapes import WRITES_CHARACTERS
from recognizers.layouts import MaskLayout
from recognizers.patterns import matches
from recognizers.registry import REGISTRY, spec
from recognizers.text import fold

CAPS: dict[str, tuple[int, int]] = {name: spec.mask_keep for name, spec in REGISTRY.items() if spec.mask_keep}
"""The most of each end of a number that `keep_first` / `keep_last` may show, per entity."""
MAX_FIRST = max(first for first, _ in CAPS.values())
MAX_LAST = max(last for _, last in CAPS.values())

_COUNTRY_PREFIX = re.compile(r"\s*(?:\(\+?86\)|\+86|0086)")
_SEPARATORS = frozenset(" -+()")


class MaskParams(Params):
    """`keep_first` / `keep_last`: characters shown at each end instead of the preset (None: the preset);
    `char`: the mask character."""

    keep_first: int | None = None
    keep_last: int | None = None
    char: str = "*"

    @field_validator("keep_first", "keep_last")
    @classmethod
    def _within_caps(cls, count: int | None, info: ValidationInfo) -> int | None:
        most = MAX_FIRST if info.field_name == "keep_first" else MAX_LAST
        if count is not None and not 0 <= count <= most:
            raise ValueError(
                f"must be between 0 and {most}: a card shows at most its first 6 and last 4 digits, "
                "a phone its first 3 and last 4, an ID never its birth date"
            )
        return count

    @field_validator("char")
    @classmethod
    def _one_plain_character(cls, char: str) -> str:
        # A digit or letter would read as part of the number; a separator or a character that folding
        # changes or drops would be read by the recognizers as something else.
        plain = len(char) == 1 and not (char.isalnum() or char.isspace() or char in _SEPARATORS)
        if not plain or fold(char).text != char:
            raise ValueError("must be one character that is not a digit, letter, space or separator")
        return char

    def check_entity(self, entity: str) -> None:
        """Refuse counts that show more of `entity` than its display convention allows (a phone shows at
        most 3 + 4); ActionConfigError names the parameter and the entity."""
        most_first, most_last = CAPS.get(entity, (0, 0))  # an entity without caps is masked whole
        for param, count, most in (("keep_first", self.keep_first, most_first),
                                   ("keep_last", self.keep_last, most_last)):
            if count is not None and count > most:
                raise ActionConfigError(f"mask: {param}={count} shows too much of a {entity} (most: {most})")


class _Number(NamedTuple):
    """The characters of the number itself in a written span: their folded text and their positions, and
    the folded characters around them (separators, brackets, text), without a phone's country prefix."""

    text: str
    positions: list[int]
    around: str


def _number_in(written: str, entity: str, char: str) -> _Number:
    """Letters, digits and mask characters of the number, after a phone's country prefix."""
    folded = fold(written)
    text, start = folded.text, 0
    if entity == phone.ENTITY and (prefix := _COUNTRY_PREFIX.match(text)):
        start = prefix.end()
    found = [i for i, ch in enumerate(text) if i >= start and (ch == char or (ch.isascii() and ch.isalnum()))]
    number = "".join(text[i] for i in found)
    inside = set(found)
    around = "".join(text[i] for i in range(start, len(text)) if i not in inside)
    if entity == phone.ENTITY and len(number) == 13 and number.startswith("86"):
        found, number = found[2:], number[2:]  # `86` + a mobile; 13-digit IoT numbers start with 14
    positions = [folded.origin[i] for i in found] if folded.origin else found
    return _Number(number, positions, around)


def _layout(entity: str, number: str) -> MaskLayout | None:
    """The entity's mask layout for a number of this shape; None: mask the whole span."""
    layout = spec(entity).mask_layout
    return layout(number) if layout is not None else None


def _number_at_end(entity: str, written_digits: int, length: int) -> bool:
    """Whether a span's last `length` digits are its number: it has no other digits, or they are a
    country code or trunk 0 before a mobile; a 15-digit ID, normalized to 18, is all its digits."""
    return (
        written_digits == length
        or (entity == phone.ENTITY and length == 11 and written_digits > length)
        or (entity == resident_id.ENTITY and (written_digits, length) == (15, 18))
    )


def _mask_text(written: pa.Array, shown: np.ndarray, char: str) -> pa.Array:
    """Each written span with its first `shown` characters kept and every other one masked."""
    lengths = pc.utf8_length(written).to_numpy(zero_copy_only=False)
    shown = np.minimum(shown, lengths)
    chunks, order = [], []
    for count in np.unique(shown).tolist():
        rows = np.flatnonzero(shown == count)
        kept = pc.utf8_slice_codeunits(written.take(pa.array(rows)), 0, count)
        hidden = pc.binary_repeat(pa.scalar(char), pa.array(lengths[rows] - count))
        chunks.append(pc.binary_join_element_wise(kept, hidden, ""))
        order.append(rows)
    if not chunks:
        return pa.array([], pa.string())
    position = np.empty(len(written), dtype=np.int64)
    position[np.concatenate(order)] = np.arange(len(written))
    return pa.concat_arrays(chunks).take(pa.array(position))


def _mask_all(written: str, char: str) -> str:
    return "".join(ch if ch.isspace() else char for ch in written)


@register
class Mask(Action):
    """Replace the middle of a number by the mask character, keeping its written form."""

    name = "mask"
    Params = MaskParams

    def _shown(self, layout: MaskLayout, length: int) -> tuple[int, int]:
        """How many leading and trailing characters stay visible: the parameters or the preset, never
        reaching into the range that is always masked."""
        first = self.params.keep_first if self.params.keep_first is not None else layout.preset_first
        last = self.params.keep_last if self.params.keep_last is not None else layout.preset_last
        return min(first, layout.hidden_from), min(last, length - layout.hidden_to)

    def replace_many(self, entity: str, written: pa.Array, values: pa.Array) -> pa.Array | None:
        """`replace` for many spans in bulk (as written, with their normalized values). A name or address
        keeps what its entity shows (a surname, the divisions) and every other character is masked. A
        number's spans (ASCII) with one written shape (`999 9999 9999`, `+99 999-9999-9999`) share the
        positions to mask, set at once on a byte matrix, where the span's last digits are the number
        itself (a country code or trunk 0 before a mobile); other spans go through `replace`."""
        self.params.check_entity(entity)
        char = self.params.char
        shown_by = spec(entity).mask_shown
        if shown_by is not None:
            return _mask_text(written.cast(pa.string()), shown_by(written.cast(pa.string())), char)
        if not char.isascii():
            return None
        if not len(written):
            return pa.array([], pa.string())
        written = written.cast(pa.string())
        widths = pc.binary_length(written).to_numpy(zero_copy_only=False)
        lengths = pc.utf8_length(values).to_numpy(zero_copy_only=False)
        chunks, order = [], []
        # A number written with escapes (`&#49;&#51;…`, `\\u0031…`) is masked whole: the digits it is
        # written with are not its own.
        escaped = matches(written, WRITES_CHARACTERS)
        if escaped.any():
            rows = np.flatnonzero(escaped)
            texts = written.take(pa.array(rows)).to_pylist()
            chunks.append(pa.array([_mask_all(text, char) for text in texts], pa.string()))
            order.append(rows)
            widths = np.where(escaped, -1, widths)
        for width in np.unique(widths[widths >= 0]).tolist():
            rows = np.flatnonzero(widths == width)
            matrix = fixed_width_bytes(written.take(pa.array(rows)), width)
            number_chars = ((matrix >= ord("0")) & (matrix <= ord("9"))) | (matrix | 0x20 == ord("x"))
            if number_chars.all():  # numbers written without separators or prefix: one shape
                shapes, shape_of = np.array([b"9" * width]), np.zeros(len(rows), dtype=np.int64)
            else:
                shapes, shape_of = np.unique(
                    np.where(number_chars, ord("9"), matrix).view(f"S{width}").ravel(), return_inverse=True
                )
            for k, shape in enumerate(shapes.tolist()):
                members = np.flatnonzero(shape_of == k)
                count = shape.count(b"9")
                for length in np.unique(lengths[rows[members]]).tolist():
                    same = members[lengths[rows[members]] == length]
                    if _number_at_end(entity, count, length):
                        shown = min(length, count)
                        chunks.append(self._mask_shape(entity, matrix[same], shape.decode(), shown))
                    else:
                        chunks.append(pa.array([
                            self.replace(Target(entity, value, "", text))
                            for text, value in zip(written.take(pa.array(rows[same])).to_pylist(),
                                                   values.take(pa.array(rows[same])).to_pylist(), strict=True)
                        ], pa.string()))
                    order.append(rows[same])
        position = np.empty(len(written), dtype=np.int64)
        position[np.concatenate(order)] = np.arange(len(written))
        return pa.concat_arrays(chunks).take(pa.array(position))

    def _mask_shape(self, entity: str, matrix: np.ndarray, shape: str, length: int) -> pa.Array:
        """Mask the rows of `matrix`, numbers written in one shape whose last `length` number characters
        are the number (a `+86` prefix comes before them; a 15-digit ID is normalized to 18)."""
        char = self.params.char
        digits = [i for i, ch in enumerate(shape) if ch == "9"][-length:]
        layout = _layout(entity, bytes(matrix[0, digits]).decode())
        if layout is None:
            return pa.array([char * len(shape)] * len(matrix), pa.string())
        first, last = self._shown(layout, length)
        masked = matrix.copy()
        masked[:, digits[first : length - last]] = ord(char)
        return strings(masked)

    def replace(self, target: Target) -> str:
        """The span as written with the middle of the number masked (see the module docstring)."""
        self.params.check_entity(target.entity)
        char = self.params.char
        if spec(target.entity).mask_shown is not None:
            masked = self.replace_many(target.entity, pa.array([target.written]), pa.array([target.value]))
            return masked[0].as_py()
        # A value written in its canonical form (most cells of an export) is its own number text.
        canonical = target.written == target.value and target.subtype != DECLARED
        number = (
            _Number(target.value, [], "") if canonical else _number_in(target.written, target.entity, char)
        )
        layout = _layout(target.entity, number.text)
        if layout is None:
            return _mask_all(target.written, char)
        first, last = self._shown(layout, len(number.text))
        if canonical:
            written = target.written
            return written[:first] + char * (len(written) - first - last) + written[len(written) - last :]
        masked = list(target.written)
        for i in number.positions[first : len(number.positions) - last]:
            masked[i] = char
        result = "".join(masked)
        if target.subtype != DECLARED:
            return result
        # A declared value that did not parse stays only if it is already this mask's display of the
        # entity, with separators around it and nothing else: then masking it again changes nothing.
        already_masked = (
            char in number.text
            and result == target.written
            and all(ch.isspace() or ch in _SEPARATORS for ch in number.around)
        )
        return target.written if already_masked else _mask_all(target.written, char)

