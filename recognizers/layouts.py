"""How an entity's numbers are written, for the engine: layouts over run shapes, and their judges.

A run's shape writes each digit as `d`, an ID's check character as `X`, a 港澳 permit's letter as `H`,
and keeps separators, brackets and plus signs as written (`ddd-dddd-dddd`, `(dddd)dddd dddd`). A layout
is a regular expression over shapes, with named groups for the parts its judge checks (`cc` a country
code, `area` and `local` a landline's halves, `num` the number itself). The judge gets the characters of
every span the layout matched — one row per span, one column per `d`/`X`/`H` — and decides them in
bulk: how strong each is (0: not this entity), its subtype and its normalized value.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pyarrow as pa


class Judged(NamedTuple):
    """A judge's verdict on n spans: `strength` (0, or a `Strength`), `subtype` and normalized `value`."""

    strength: np.ndarray
    subtype: np.ndarray
    value: pa.Array


Judge = Callable[["Layout", np.ndarray, Mapping[str, slice]], Judged]


@dataclass(frozen=True, eq=False)
class Layout:
    """One way an entity's number is written.

    `alone`: never touching a Latin letter (cards, permits: tracking numbers such as SF… are glued to
    letters). `atomic`: a run written whole in this layout is one number, so every shorter reading inside
    it is dropped (a card's digit groups hold no phone, and no shorter card that would leave its last
    group). `whole_value_suffices`: a plausible number that is a whole value counts as if context
    supported it (a legacy 15-digit ID in a cell), unless the column is named for another entity.
    """

    entity: str
    name: str
    pattern: re.Pattern[str]
    judge: Judge
    alone: bool = False
    atomic: bool = False
    whole_value_suffices: bool = False


def layouts(entity: str, judge: Judge, patterns: Mapping[str, tuple[str, ...]], **flags: bool
            ) -> tuple[Layout, ...]:
    """Layouts of one entity from `{name: (pattern, …)}`, sharing a judge and flags."""
    return tuple(
        Layout(entity, name, re.compile(pattern), judge, **flags)
        for name, group in patterns.items() for pattern in group
    )


def part(digits: np.ndarray, parts: Mapping[str, slice], name: str) -> np.ndarray | None:
    """The columns of a named part (None when the layout's match did not use it)."""
    where = parts.get(name)
    return None if where is None else digits[:, where]


def equals(columns: np.ndarray | None, text: str) -> np.ndarray | bool:
    """Whether each row of `columns` spells `text` (True where the part is absent)."""
    if columns is None:
        return True
    if columns.shape[1] != len(text):
        return np.zeros(len(columns), dtype=bool)
    return (columns == np.frombuffer(text.encode(), np.uint8)).all(axis=1)


class MaskLayout(NamedTuple):
    """Where a mask may show a number's characters: `preset_first`/`preset_last` shown by default, and the
    range [`hidden_from`, `hidden_to`) that is masked whatever the policy asks (a birth date, a mobile's
    middle digits). An entity's `mask_layout(number)` gives it for one normalized number, None when the
    number has no shape the entity writes (then the whole span is masked)."""

    preset_first: int
    preset_last: int
    hidden_from: int
    hidden_to: int
