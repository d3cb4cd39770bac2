"""Recognize bare whole values of a column at Arrow speed: the fast path under `detect`.

Exports mostly hold entities as whole cells written the canonical way (`13812345678`,
`11010519491231003X`, `6222021234567890128`), and nearly every one is distinct, so calling `detect` per
value is what dominates a run. This module decides those cells in bulk with RE2 and numpy: the same checks
as the format modules (segment table, division code, birth date, MOD 11-2, Luhn, BIN table), on
fixed-width byte matrices. It reports only values whose `detect` result is certain — one validated
finding spanning the whole value — and leaves everything else (grouped or prefixed forms, plausible-only
numbers, 18-digit values that are both a valid ID and a Luhn-valid card) to `detect`. A property test
holds the two paths to the same answers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from recognizers import bank_card, phone, resident_id
from recognizers.context import Context, score
from recognizers.detector import column_context
from recognizers.divisions import PROVINCES
from recognizers.findings import Strength

_ID18 = r"^[1-9][0-9]{16}[0-9Xx]$"
_MOBILE = f"^(?:{phone.MOBILE_SEGMENT.pattern})$"
_MOBILE_WRITTEN = (
    r"^(?:\+86 ?|\+86-|0086 ?|86-|\(\+86\) ?)?"
    r"(?:1[0-9]{10}|1[0-9]{2} [0-9]{4} [0-9]{4}|1[0-9]{2}-[0-9]{4}-[0-9]{4})$"
)
_MOBILE_STRIP = r"^(?:\+86|0086|86-|\(\+86\))|[ -]"
_CARD = r"^[1-9][0-9]{15,18}$"  # 15-digit numbers (IMEIs, legacy IDs, AmEx) are left to detect
_CARD_WRITTEN = (
    r"^(?:[0-9]{4} [0-9]{4} [0-9]{4} [0-9]{4}(?: [0-9]{3})?"
    r"|[0-9]{4}-[0-9]{4}-[0-9]{4}-[0-9]{4}(?:-[0-9]{3})?|[0-9]{6} (?:[0-9]{10}|[0-9]{13}))$"
)
_PROVINCE_CODES = np.zeros(100, dtype=bool)
_PROVINCE_CODES[[int(code) for code in PROVINCES]] = True
_ID_WEIGHTS = np.array(resident_id.WEIGHTS, dtype=np.int64)
_ID_CHECK = np.frombuffer(resident_id.CHECK_CHARS.encode(), dtype=np.uint8)
_DAYS = np.array([0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


@dataclass(frozen=True)
class BareFindings:
    """Positions in the scanned array holding one entity as their whole, canonical value."""

    entity: str
    index: np.ndarray
    values: list[str]
    """The normalized values (upper-case `X`), as `Finding.value` would hold them."""
    subtypes: list[str]
    score: float

    def __len__(self) -> int:
        return len(self.index)


def fixed_width_bytes(values: pa.Array, width: int) -> np.ndarray:
    """The bytes of equal-width ASCII strings as an (n, width) uint8 matrix (no copy)."""
    offsets = np.frombuffer(values.buffers()[1], np.int32)[values.offset : values.offset + len(values) + 1]
    data = np.frombuffer(values.buffers()[2], np.uint8)
    return data[offsets[0] : offsets[-1]].reshape(len(values), width)


def _digits(matrix: np.ndarray, start: int, stop: int) -> np.ndarray:
    """The decimal number written in columns start..stop of a digit matrix."""
    number = np.zeros(len(matrix), dtype=np.int64)
    for column in range(start, stop):
        number = number * 10 + (matrix[:, column].astype(np.int64) - 48)
    return number


def id_check_characters(body: np.ndarray) -> np.ndarray:
    """The MOD 11-2 check character (as an ASCII byte) of each row of 17 ID digits (0-9 integers)."""
    return _ID_CHECK[body.astype(np.int64) @ _ID_WEIGHTS % 11]


def luhn_check_digits(body: np.ndarray) -> np.ndarray:
    """The digit that makes each row of `body` (0-9 integers) pass the Luhn check once appended: the
    rightmost body digit is the one that gets doubled."""
    doubled = body[:, ::-1].astype(np.int64) * np.where(np.arange(body.shape[1]) % 2 == 0, 2, 1)
    return (10 - (doubled - 9 * (doubled > 9)).sum(axis=1) % 10) % 10


def _luhn(matrix: np.ndarray) -> np.ndarray:
    digits = matrix.astype(np.int64) - 48
    return luhn_check_digits(digits[:, :-1]) == digits[:, -1]


def _valid_ids(matrix: np.ndarray, today: dt.date) -> np.ndarray:
    """Division, birth date and MOD 11-2 check of 18-character IDs (check character upper-cased)."""
    foreign = matrix[:, 0] == ord("9")
    region = np.where(foreign, _digits(matrix, 1, 3), _digits(matrix, 0, 2))
    year, month, day = _digits(matrix, 6, 10), _digits(matrix, 10, 12), _digits(matrix, 12, 14)
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    month_ok = (month >= 1) & (month <= 12)
    days = np.where(month_ok, _DAYS[np.clip(month, 0, 12)], 0) - ((month == 2) & ~leap)
    ymd = year * 10000 + month * 100 + day
    earliest = resident_id.EARLIEST_BIRTH
    in_range = (ymd >= earliest.year * 10000 + earliest.month * 100 + earliest.day) & (
        ymd <= today.year * 10000 + today.month * 100 + today.day
    )
    check = id_check_characters(matrix[:, :17].astype(np.int64) - 48)
    calendar_date = month_ok & (day >= 1) & (day <= days) & in_range
    return _PROVINCE_CODES[region] & calendar_date & (check == matrix[:, 17])


def _id_subtypes(values: pa.Array) -> list[str]:
    heads = pc.utf8_slice_codeunits(values, 0, 2).to_pylist()
    return [
        "hk_macau_taiwan_residence_permit" if h in ("81", "82", "83") else
        "foreign_permanent_resident" if h[0] == "9" else "resident"
        for h in heads
    ]


def _known_bins(values: pa.Array) -> np.ndarray:
    table = bank_card.bins()
    known = np.zeros(len(values), dtype=bool)
    for length in sorted({len(b) for b in table}):
        prefixes = pa.array([b for b in table if len(b) == length])
        known |= pc.is_in(pc.utf8_slice_codeunits(values, 0, length), value_set=prefixes).to_numpy(
            zero_copy_only=False
        )
    return known


def _candidates(values: pa.Array, pattern: str) -> np.ndarray:
    matched = pc.fill_null(pc.match_substring_regex(values, pattern), False)
    return np.flatnonzero(matched.to_numpy(zero_copy_only=False))


def _normalized(values: pa.Array, shapes: str, strip: str) -> pa.Array:
    """Values written in one of `shapes` with `strip` (separators, a country prefix) removed; null
    for every other value, so that only those shapes reach the canonical checks."""
    shaped = pc.fill_null(pc.match_substring_regex(values, shapes), False)
    return pc.if_else(shaped, pc.replace_substring_regex(values, strip, ""), pa.scalar(None, pa.string()))


def _card_validated(cards: pa.Array, lengths: np.ndarray) -> np.ndarray:
    """Luhn and (a known BIN, or a UnionPay / 16-digit Visa-Mastercard prefix): a validated card."""
    luhn = np.zeros(len(cards), dtype=bool)
    for width in np.unique(lengths).tolist():
        rows = np.flatnonzero(lengths == width)
        luhn[rows] = _luhn(fixed_width_bytes(cards.take(pa.array(rows)), width))
    broad = pc.match_substring_regex(cards, f"^(?:{bank_card.BROAD_ISSUER.pattern})$")
    return luhn & (_known_bins(cards) | broad.to_numpy(zero_copy_only=False))


def find_bare(
    values: pa.Array, entities: Iterable[str], column: str | None, threshold: float
) -> list[BareFindings]:
    """Whole values of `values` (a string array) that `detect` would report as exactly one validated
    entity spanning the value, grouped by entity. Values not listed must go through `detect`.

    Covered: canonical IDs (18 characters), mobiles written bare, 3-4-4 with spaces or dashes and with a
    +86 / 0086 / 86- / (+86) prefix, and 16-19 digit cards written bare, 4-4-4-4(-3) or 6-10 / 6-13.
    """
    values = values.cast(pa.string())  # 32-bit offsets for the byte matrices
    wanted = set(entities)
    supported = column_context(column)
    found = []

    def report(entity: str, index: np.ndarray, normalized: pa.Array, subtypes: list[str]) -> None:
        context = Context.FOR if entity in supported else Context.NONE
        value = score(Strength.VALIDATED, context)
        if entity in wanted and len(index) and value >= threshold:
            found.append(BareFindings(entity, index, normalized.to_pylist(), subtypes, value))

    valid_id = np.zeros(len(values), dtype=bool)
    ids = _candidates(values, _ID18)
    if len(ids):
        upper = pc.utf8_upper(values.take(pa.array(ids)))
        matrix = fixed_width_bytes(upper, 18)
        valid = _valid_ids(matrix, dt.date.today())
        valid_id[ids[valid]] = True
        # An 18-digit ID can also be a validated card; on equal scores the detector prefers the ID, so
        # only a card-named column that does not also name IDs makes the card win (left to `detect`).
        if bank_card.ENTITY in supported and resident_id.ENTITY not in supported:
            digits = matrix[:, 17] != ord("X")
            card_like = np.zeros(len(ids), dtype=bool)
            card_like[digits] = _card_validated(upper.filter(pa.array(digits)), np.full(digits.sum(), 18))
            valid &= ~card_like
        chosen = upper.filter(pa.array(valid))
        report(resident_id.ENTITY, ids[valid], chosen, _id_subtypes(chosen))
    mobiles = _normalized(values, _MOBILE_WRITTEN, _MOBILE_STRIP)
    hits = _candidates(mobiles, _MOBILE)
    report(phone.ENTITY, hits, mobiles.take(pa.array(hits)), ["mobile"] * len(hits))
    cards = pc.coalesce(_normalized(values, _CARD_WRITTEN, "[ -]"), values)
    hits = _candidates(cards, _CARD)
    hits = hits[~valid_id[hits]]  # an 18-digit valid ID is decided above
    if len(hits):
        taken = cards.take(pa.array(hits))
        keep = _card_validated(taken, pc.utf8_length(taken).to_numpy(zero_copy_only=False))
        chosen = taken.filter(pa.array(keep))
        report(bank_card.ENTITY, hits[keep], chosen, _networks(chosen))
    return found


def _networks(values: pa.Array) -> list[str]:
    """`bank_card.network` of each card, or `unknown`, decided per prefix pattern in bulk."""
    names = np.full(len(values), "unknown", dtype=object)
    for name, pattern in reversed(bank_card.NETWORKS):  # the first matching pattern wins
        hit = pc.match_substring_regex(values, f"^(?:{pattern})").to_numpy(zero_copy_only=False)
        names[hit] = name
    return names.tolist()
