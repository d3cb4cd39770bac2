"""Recognize numbers in a column at Arrow speed: the fast path under `detect`.

Exports mostly hold entities as whole cells written in a few common ways (`13812345678`,
`138 1234 5678`, `11010519491231003X`, `6222 0212 3456 7890 128`), or as one number behind a label in a
remark (`备用手机13812345678`), and nearly every one is distinct, so calling `detect` per value is what
would dominate a run. This module decides those values in bulk with RE2 and numpy: the same checks as
the format modules (segment table, division code, birth date, MOD 11-2, Luhn, BIN table), on fixed-width
byte matrices, with a label's context judged once per distinct label. It reports only values whose
`detect` result is certain — one finding spanning the number — and leaves everything else (other
groupings, landlines, two numbers in one value, a label against the entity, an 18-digit value that is
both a valid ID and a Luhn-valid card in a card context, a 15-digit value a card could also claim) to
`detect`. Property tests hold the two paths to the same answers.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from recognizers import bank_card, phone, resident_id
from recognizers.context import Context, context_before, score
from recognizers.detector import FORMATS, column_context
from recognizers.divisions import PROVINCES
from recognizers.findings import Strength
from recognizers.text import fold

_ID18 = r"[1-9][0-9]{16}[0-9Xx]"
_ID15 = r"[1-9][0-9]{14}"  # legacy: plausible only, so reported where context or the column supports it
_MOBILE_WRITTEN = (
    r"(?:\+86 ?|\+86-|0086 ?|86-|\(\+86\) ?)?"
    r"(?:1[0-9]{10}|1[0-9]{2} [0-9]{4} [0-9]{4}|1[0-9]{2}-[0-9]{4}-[0-9]{4})"
)
_MOBILE_STRIP = r"^(?:\+86|0086|86-|\(\+86\))|[ -]"
_CARD = r"[1-9][0-9]{15,18}"  # 15-digit numbers (IMEIs, legacy IDs, AmEx) are left to detect
_CARD_WRITTEN = (
    r"[0-9]{4}(?: [0-9]{4}){3}(?: ?[0-9]{1,3})?|[0-9]{4}(?:-[0-9]{4}){3}(?:-?[0-9]{1,3})?"
    r"|[0-9]{6}[ -][0-9]{10,13}"
)
_NOT_DIGIT = r"[^0-9\x{ff10}-\x{ff19}]"
_LABELLED = (
    rf"^(?P<before>{_NOT_DIGIT}*?)(?P<number>{_ID18}|{_ID15}|{_MOBILE_WRITTEN}|{_CARD_WRITTEN}|{_CARD})"
    rf"(?P<after>{_NOT_DIGIT}*)$"
)
"""A value holding one number and text around it without digits: `手机 13812345678`, `卡号：6222…，请核对`."""
_LABEL_ENDS = frozenset(" \n\r:,;!?\"'=)]>，。；、！？“”‘’》】」")
"""Characters that end a label (after folding) the way the start of the text does for every recognizer's
boundary: no digit, Latin letter, sign, bracket or dot that a number pattern could take in or refuse."""
_TAIL_STARTS = frozenset(" \n\r:,;!?\"'=()[]<>，。；、！？“”‘’《》【】「」")
"""Characters that may follow the number (after folding) as the end of the text would."""


def _whole(pattern: str) -> str:
    return f"^(?:{pattern})$"


_PROVINCE_CODES = np.zeros(100, dtype=bool)
_PROVINCE_CODES[[int(code) for code in PROVINCES]] = True
_ID_WEIGHTS = np.array(resident_id.WEIGHTS, dtype=np.int64)
_ID_CHECK = np.frombuffer(resident_id.CHECK_CHARS.encode(), dtype=np.uint8)
_MOBILE_SEGMENTS = np.array(
    [bool(phone.MOBILE_SEGMENT.fullmatch(f"{head:03d}" + "0" * 8)) for head in range(1000)]
)
"""Whether an 11-digit number starting with these 3 digits is in an allocated mobile segment."""
_DAYS = np.array([0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


@dataclass(frozen=True)
class BareFindings:
    """Positions in the scanned array holding one entity as one number: the whole value, or the only
    number of a labelled value (`手机 13812345678`), with the text around it."""

    entity: str
    index: np.ndarray
    values: pa.Array
    """The normalized values (digits, upper-case `X`), as `Finding.value` would hold them."""
    subtypes: np.ndarray
    """The subtype of each value (str objects)."""
    score: float
    validated: bool
    """Whether the checks prove the entity (all but legacy 15-digit IDs, which are plausible)."""
    written: pa.Array
    """The number as written (the whole value, or the part between `before` and `after`)."""
    before: pa.Array | None = None
    """Text before the number in a labelled value; None when the number is the whole value."""
    after: pa.Array | None = None

    def __len__(self) -> int:
        return len(self.index)


def fixed_width_bytes(values: pa.Array, width: int) -> np.ndarray:
    """The bytes of equal-width ASCII strings as an (n, width) uint8 matrix (no copy)."""
    offsets = np.frombuffer(values.buffers()[1], np.int32)[values.offset : values.offset + len(values) + 1]
    data = np.frombuffer(values.buffers()[2], np.uint8)
    return data[offsets[0] : offsets[-1]].reshape(len(values), width)


def _number(digits: np.ndarray) -> np.ndarray:
    """The decimal number each row of a matrix of digit values (0-9 integers) writes."""
    return digits @ (10 ** np.arange(digits.shape[1] - 1, -1, -1, dtype=np.int64))


def _digits(matrix: np.ndarray, start: int, stop: int) -> np.ndarray:
    """The decimal number written in columns start..stop of a digit matrix (ASCII bytes)."""
    return _number(matrix[:, start:stop].astype(np.int64) - 48)


def id_check_characters(body: np.ndarray) -> np.ndarray:
    """The MOD 11-2 check character (as an ASCII byte) of each row of 17 ID digits (0-9 integers)."""
    return _ID_CHECK[body.astype(np.int64, copy=False) @ _ID_WEIGHTS % 11]


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
    body = matrix[:, :17].astype(np.int64) - 48  # one conversion for every field
    foreign = matrix[:, 0] == ord("9")
    region = np.where(foreign, _number(body[:, 1:3]), _number(body[:, 0:2]))
    year, month, day = _number(body[:, 6:10]), _number(body[:, 10:12]), _number(body[:, 12:14])
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    month_ok = (month >= 1) & (month <= 12)
    days = np.where(month_ok, _DAYS[np.clip(month, 0, 12)], 0) - ((month == 2) & ~leap)
    ymd = year * 10000 + month * 100 + day
    earliest = resident_id.EARLIEST_BIRTH
    in_range = (ymd >= earliest.year * 10000 + earliest.month * 100 + earliest.day) & (
        ymd <= today.year * 10000 + today.month * 100 + today.day
    )
    check = id_check_characters(body)
    calendar_date = month_ok & (day >= 1) & (day <= days) & in_range
    return _PROVINCE_CODES[region] & calendar_date & (check == matrix[:, 17])


def _id_subtypes(matrix: np.ndarray) -> np.ndarray:
    """`resident_id.subtype` of 18-character IDs from their first two characters."""
    names = np.full(len(matrix), "resident", dtype=object)
    names[matrix[:, 0] == ord("9")] = "foreign_permanent_resident"
    names[(matrix[:, 0] == ord("8")) & np.isin(matrix[:, 1], np.frombuffer(b"123", np.uint8))] = (
        "hk_macau_taiwan_residence_permit"
    )
    return names


def strings(matrix: np.ndarray) -> pa.Array:
    """The rows of an (n, width) uint8 matrix as a string array: the inverse of `fixed_width_bytes`."""
    rows, width = matrix.shape
    offsets = np.arange(0, (rows + 1) * width, width, dtype=np.int32)
    data = pa.py_buffer(np.ascontiguousarray(matrix))
    return pa.StringArray.from_buffers(rows, pa.py_buffer(offsets), data)


def _legacy_upgrades(digits: np.ndarray) -> np.ndarray:
    """`resident_id.upgrade` of 15-digit numbers: `19` before the 2-digit year, then the check character."""
    century = np.broadcast_to(np.frombuffer(b"19", np.uint8), (len(digits), 2))
    body = np.concatenate([digits[:, :6], century, digits[:, 6:]], axis=1)
    return np.concatenate([body, id_check_characters(body.astype(np.int64) - 48)[:, None]], axis=1)


def known_bins(values: pa.Array) -> pa.Array:
    """`bank_card.known_bin` of each value in bulk: its longest BIN prefix in the tables, else null."""
    table = bank_card.bins()
    known = pa.nulls(len(values), pa.string())
    for length in sorted({len(b) for b in table}):  # a longer BIN overrides a shorter one
        prefixes = pc.utf8_slice_codeunits(values, 0, length)
        listed = pc.is_in(prefixes, value_set=pa.array([b for b in table if len(b) == length]))
        known = pc.if_else(listed, prefixes, known)
    return known


def _candidates(values: pa.Array, pattern: str) -> np.ndarray:
    matched = pc.fill_null(pc.match_substring_regex(values, pattern), False)
    return np.flatnonzero(matched.to_numpy(zero_copy_only=False))


def _among(values: pa.Array, rows: np.ndarray, pattern: str) -> np.ndarray:
    """Those of `rows` whose value matches `pattern` (the regex runs on those rows only)."""
    return rows[_candidates(values.take(pa.array(rows)), pattern)] if len(rows) else rows


def _normalized(values: pa.Array, rows: np.ndarray, shapes: str, strip: str) -> tuple[np.ndarray, pa.Array]:
    """Those of `rows` written in one of `shapes`, and their values with `strip` (separators, a country
    prefix) removed: only those shapes reach the canonical checks."""
    shaped = _among(values, rows, _whole(shapes))
    return shaped, pc.replace_substring_regex(values.take(pa.array(shaped)), strip, "")


def _card_validated(cards: pa.Array, lengths: np.ndarray) -> np.ndarray:
    """Luhn and (a UnionPay / 16-digit Visa-Mastercard prefix, or a known BIN): a validated card. The
    BIN tables are consulted only for Luhn-valid numbers without such a prefix."""
    luhn = np.zeros(len(cards), dtype=bool)
    for width in np.unique(lengths).tolist():
        rows = np.flatnonzero(lengths == width)
        luhn[rows] = _luhn(fixed_width_bytes(cards.take(pa.array(rows)), width))
    broad = pc.match_substring_regex(cards, f"^(?:{bank_card.BROAD_ISSUER.pattern})$")
    validated = luhn & broad.to_numpy(zero_copy_only=False)
    unsure = np.flatnonzero(luhn & ~validated)
    if len(unsure):
        listed = pc.is_valid(known_bins(cards.take(pa.array(unsure))))
        validated[unsure[listed.to_numpy(zero_copy_only=False)]] = True
    return validated


def find_bare(
    values: pa.Array, entities: Iterable[str], column: str | None, threshold: float
) -> list[BareFindings]:
    """Whole values of `values` (a string array) that `detect` would report as exactly one entity
    spanning the value, grouped by entity. Values not listed must go through `detect`.

    Covered: IDs of 18 characters, and of 15 digits (legacy, plausible) where no card competes; mobiles
    written bare, 3-4-4 with spaces or dashes and with a +86 / 0086 / 86- / (+86) prefix; 16-19 digit
    cards written bare, 4-4-4-4(-1..3) or 6-10..13.
    """
    return _bare(values.cast(pa.string()), set(entities), column_context(column), threshold)


def _bare(values: pa.Array, wanted: set[str], supported: frozenset[str], threshold: float
          ) -> list[BareFindings]:
    """`find_bare` with the entities whose context is FOR (named by the column or a label) given."""
    found = []

    def report(entity: str, index: np.ndarray, normalized: pa.Array, subtypes: np.ndarray,
               strength: Strength = Strength.VALIDATED) -> None:
        value = score(strength, Context.FOR if entity in supported else Context.NONE)
        if entity in wanted and len(index) and value >= threshold:
            validated = strength is Strength.VALIDATED
            found.append(BareFindings(entity, index, normalized, subtypes, value, validated,
                                      values.take(pa.array(index))))

    # Lengths and a digits-only flag are cheap kernels: each regex runs on the lengths its shapes have.
    lengths = pc.fill_null(pc.utf8_length(values), 0).to_numpy(zero_copy_only=False)
    digits_only = pc.fill_null(pc.ascii_is_decimal(values), False).to_numpy(zero_copy_only=False)
    today = dt.date.today()
    valid_id = np.zeros(len(values), dtype=bool)
    ids = _among(values, np.flatnonzero(lengths == 18), _whole(_ID18))
    if len(ids):
        upper = pc.utf8_upper(values.take(pa.array(ids)))
        matrix = fixed_width_bytes(upper, 18)
        valid = _valid_ids(matrix, today)
        valid_id[ids[valid]] = True
        # An 18-digit ID can also be a validated card; on equal scores the detector prefers the ID, so
        # only a card context without an ID context makes the card win (left to `detect`).
        if bank_card.ENTITY in supported and resident_id.ENTITY not in supported:
            digits = matrix[:, 17] != ord("X")
            card_like = np.zeros(len(ids), dtype=bool)
            card_like[digits] = _card_validated(upper.filter(pa.array(digits)), np.full(digits.sum(), 18))
            valid &= ~card_like
        report(resident_id.ENTITY, ids[valid], upper.filter(pa.array(valid)), _id_subtypes(matrix[valid]))
    legacy = _among(values, np.flatnonzero(digits_only & (lengths == 15)), _whole(_ID15))
    if len(legacy):  # decided here only where no card candidate competes (a 15-digit known BIN or AmEx)
        taken = values.take(pa.array(legacy))
        upgraded = _legacy_upgrades(fixed_width_bytes(taken, 15))
        card_like = pc.or_(pc.is_valid(known_bins(taken)), pc.match_substring_regex(taken, "^3[47]"))
        valid = _valid_ids(upgraded, today) & ~card_like.to_numpy(zero_copy_only=False)
        report(resident_id.ENTITY, legacy[valid], strings(upgraded[valid]),
               np.full(valid.sum(), "legacy_15", dtype=object), Strength.PLAUSIBLE)
    bare = np.flatnonzero(digits_only & (lengths == 11))  # the written forms are 13-19 characters
    shaped, written = _normalized(values, np.flatnonzero(~digits_only & (lengths > 12) & (lengths < 20)),
                                  _MOBILE_WRITTEN, _MOBILE_STRIP)
    shaped = np.concatenate([bare, shaped])
    mobiles = pa.concat_arrays([values.take(pa.array(bare)), written])
    segment = _digits(fixed_width_bytes(mobiles, 11), 0, 3) if len(mobiles) else np.zeros(0, dtype=np.int64)
    hits = np.flatnonzero(_MOBILE_SEGMENTS[segment])
    mobile = np.full(len(hits), "mobile", dtype=object)
    report(phone.ENTITY, shaped[hits], mobiles.take(pa.array(hits)), mobile)
    shaped, grouped = _normalized(values, np.flatnonzero(~digits_only & (lengths > 16) & (lengths < 24)),
                                  _CARD_WRITTEN, "[ -]")
    cards = values
    if len(shaped):  # grouped cards by their digits, every other value as it is
        replaced = np.arange(len(values))
        replaced[shaped] = len(values) + np.arange(len(shaped))
        cards = pa.concat_arrays([values, grouped]).take(pa.array(replaced))
    card_lengths = pc.fill_null(pc.utf8_length(cards), 0).to_numpy(zero_copy_only=False)
    # an 18-digit valid ID is decided above
    hits = _among(cards, np.flatnonzero((card_lengths > 15) & (card_lengths < 20) & ~valid_id), _whole(_CARD))
    if len(hits):
        taken = cards.take(pa.array(hits))
        keep = _card_validated(taken, pc.utf8_length(taken).to_numpy(zero_copy_only=False))
        chosen = taken.filter(pa.array(keep))
        report(bank_card.ENTITY, hits[keep], chosen, _networks(chosen))
    return found


def _is_han(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff" or "\u3400" <= char <= "\u4dbf"


def _label_support(label: str, column_supported: frozenset[str]) -> frozenset[str] | None:
    """The entities a label supports (with those the column names), as `detect` scores a number right
    after it; None when the label ends in a character a number pattern could take in, or speaks against
    an entity (`订单号`): such values go to `detect`."""
    folded = fold(label).text
    if folded and not (folded[-1] in _LABEL_ENDS or _is_han(folded[-1])):
        return None
    supported = set(column_supported)
    for module in FORMATS:
        if module.ENTITY in column_supported:
            continue
        context = context_before(folded, len(folded), module.CONTEXT)
        if context is Context.AGAINST:
            return None
        if context is Context.FOR:
            supported.add(module.ENTITY)
    return frozenset(supported)


def _tail_ok(tail: str) -> bool:
    folded = fold(tail).text
    return not folded or folded[0] in _TAIL_STARTS or _is_han(folded[0])


def _per_distinct(array: pa.Array, decide: Callable[[str], Any]) -> tuple[np.ndarray, list[Any]]:
    """`decide` once per distinct value of `array`: the dictionary index of each row and the decisions."""
    encoded = pc.dictionary_encode(array)
    indices = encoded.indices.to_numpy(zero_copy_only=False)
    return indices, [decide(v) for v in encoded.dictionary.to_pylist()]


def find_labelled(
    values: pa.Array, entities: Iterable[str], column: str | None, threshold: float
) -> list[BareFindings]:
    """Values holding one number in a form `find_bare` covers with text around it that has no digits
    (`手机 13812345678`, `卡号：6222 0212 3456 7890，请核对`), that `detect` would report as exactly that
    one validated entity. The text counts as `detect` counts it: a label's keywords are context for
    the number after it (decided once per distinct label), and the characters touching the number must
    be ones no number pattern takes in. Values that are only whitespace around the number are left to
    `detect` (they are whole values there)."""
    values = values.cast(pa.string())
    parts = pc.extract_regex(values, _LABELLED)
    matched = np.flatnonzero(pc.is_valid(parts).to_numpy(zero_copy_only=False))
    if not len(matched):
        return []
    parts = parts.take(pa.array(matched))
    before, number, after = (parts.field(name) for name in ("before", "number", "after"))
    column_supported = column_context(column)
    labels, label_info = _per_distinct(
        before, lambda label: (_label_support(label, column_supported), bool(label.strip()))
    )
    tails, tail_info = _per_distinct(after, lambda tail: (_tail_ok(tail), bool(tail.strip())))
    tail_ok = np.array([ok for ok, _ in tail_info], dtype=bool)[tails]
    has_text = np.array([text for _, text in label_info], dtype=bool)[labels] | np.array(
        [text for _, text in tail_info], dtype=bool
    )[tails]
    label_support = [support for support, _ in label_info]
    found = []
    for supported in set(label_support) - {None}:
        chosen = [i for i, s in enumerate(label_support) if s == supported]
        rows = np.flatnonzero(np.isin(labels, chosen) & tail_ok & has_text)
        for bare in _bare(number.take(pa.array(rows)), set(entities), supported, threshold):
            at = pa.array(rows[bare.index])
            found.append(dataclasses.replace(
                bare, index=matched[rows[bare.index]], before=before.take(at), after=after.take(at)
            ))
    return found


def _networks(values: pa.Array) -> np.ndarray:
    """`bank_card.network` of each card, or `unknown`, decided once per distinct leading digits."""
    heads = pc.utf8_slice_codeunits(values, 0, bank_card.NETWORK_DIGITS)
    indices, names = _per_distinct(heads, lambda head: bank_card.network(head) or "unknown")
    return np.array(names, dtype=object)[indices]
