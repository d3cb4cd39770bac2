"""generalize: replace an entity by a coarse attribute it encodes, and whole date or amount columns by ranges.

For an analytics receiver that needs a distribution, not the person: an ID number becomes the birth
year, a 10-year age band, the gender, the province, city or county (with its city) it was registered in;
an address the province, city or county it names (`未知` where it names none, or one that several
divisions share); a phone number its carrier, province or city (mobiles: the `phone` package's 7-digit
segment table, 2023; landlines: the area code); a card its issuing bank and card type (BIN tables). What
cannot be told is `未知`, and so is every value of a declared column that did not parse as its entity.

`to` is one choice, or a mapping from entity to choice when one rule serves several entities:

    actions:
      CN_RESIDENT_ID: {action: generalize, to: birth_year}
      CN_PHONE: {action: generalize, to: province}

A choice that fits no entity is refused when the policy is loaded; a choice used for an entity it does
not fit (`to: bank` on a phone) is refused with an ActionConfigError naming both.

`generalize_dates` and `generalize_amounts` work on whole Arrow columns (a birth date to its month or
year, an amount to a range), vectorized: they run over millions of rows.

>>> from pipeline.actions.base import Target, build_action
>>> birth_year = build_action("generalize", {"to": "birth_year"}, None)
>>> birth_year.replace(Target("CN_RESIDENT_ID", "11010519491231002X", "resident"))
'1949年'
>>> build_action("generalize", {"to": "carrier"}, None).replace(Target("CN_PHONE", "13800138000", "mobile"))
'中国移动'
>>> generalize_amounts(pa.array([999, 1000, None]), [1000.0]).to_pylist()
['<1000', '>=1000', None]
"""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import itertools
from collections.abc import Callable
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field, field_validator

from pipeline.actions.base import DECLARED, Action, ActionConfigError, Params, Target, register
from recognizers import address, bank_card, phone, resident_id, segments
from recognizers.bank_card import known_bins
from recognizers.divisions import PROVINCES, Division, division

UNKNOWN = "未知"

CHOICES: dict[str, tuple[str, ...]] = {
    resident_id.ENTITY: ("birth_year", "age_band", "gender", "province", "city", "county"),
    phone.ENTITY: ("carrier", "province", "city"),
    bank_card.ENTITY: ("bank", "card_type", "bank_and_type"),
    address.ENTITY: ("province", "city", "county"),
}
"""What each entity can be generalized to."""

_REGION_CHOICES = ("province", "city", "county")
"""ID choices that depend on the division code (the first six digits) alone."""
_ALL_CHOICES = sorted({choice for choices in CHOICES.values() for choice in choices})


def _allowed() -> str:
    return "; ".join(f"{entity}: {', '.join(choices)}" for entity, choices in CHOICES.items())


def start_of_this_year() -> dt.date:
    """January 1 of the current year: the default reference date for age bands, so that two runs in one
    year give the same bands."""
    return dt.date(dt.date.today().year, 1, 1)


class GeneralizeParams(Params):
    """`to`: one choice, or a mapping entity -> choice; `as_of`: the date ages are counted at (age_band)."""

    to: str | dict[str, str]
    as_of: dt.date = Field(default_factory=start_of_this_year)

    @field_validator("to")
    @classmethod
    def _known_choices(cls, to: str | dict[str, str]) -> str | dict[str, str]:
        if isinstance(to, str):
            if to not in _ALL_CHOICES:
                raise ValueError(f"unknown choice {to!r}; allowed: {_allowed()}")
            return to
        for entity, choice in to.items():
            if entity not in CHOICES:
                raise ValueError(f"unknown entity {entity!r}; allowed: {', '.join(CHOICES)}")
            if choice not in CHOICES[entity]:
                allowed = ", ".join(CHOICES[entity])
                raise ValueError(f"{choice!r} does not apply to {entity}; allowed: {allowed}")
        return to


    def choice_for(self, entity: str) -> str:
        """The choice that applies to `entity`; ActionConfigError names the choice and entity if none fits."""
        choice = self.to if isinstance(self.to, str) else self.to.get(entity)
        if choice is None:
            raise ActionConfigError(f"generalize: 'to' names no choice for {entity}")
        if choice not in CHOICES.get(entity, ()):
            allowed = ", ".join(CHOICES.get(entity, ())) or "none"
            raise ActionConfigError(f"generalize: to={choice!r} does not apply to {entity}; "
                                    f"allowed: {allowed}")
        return choice

    def check_entity(self, entity: str) -> None:
        self.choice_for(entity)


# --- resident ID ----------------------------------------------------------------------------------------

def _age_band(number: str, as_of: dt.date) -> str:
    born = resident_id.birth_date(number)
    age = as_of.year - born.year - ((as_of.month, as_of.day) < (born.month, born.day))
    if age < 0:
        return ""
    low = age // 10 * 10
    return f"{low}-{low + 9}岁"


def _resident_id(choice: str, number: str, as_of: dt.date) -> str:
    if choice == "birth_year":
        return f"{resident_id.birth_date(number).year}年"
    if choice == "age_band":
        return _age_band(number, as_of)
    if choice == "gender":
        return {"M": "男", "F": "女"}[resident_id.gender(number)]
    region = resident_id.region(number)
    return _region(choice, region)


def _region(choice: str, region: Division) -> str:
    if choice == "county":  # county names repeat across cities (朝阳区): the city tells them apart
        return region.city + region.county if region.county else ""
    return region.province if choice == "province" else region.city


# --- phone ----------------------------------------------------------------------------------------------

_CARRIERS = {"移动": "中国移动", "联通": "中国联通", "电信": "中国电信", "广电": "中国广电"}


@functools.cache
def _province_names() -> dict[str, str]:
    """Short province names as the `phone` table writes them (广东, 内蒙古) -> full names (广东省)."""
    return {short: full for full in PROVINCES.values() for short in (full[:2], full[:3]) if short != full}


def _province(short: str) -> str:
    names = _province_names()
    return names.get(short[:3]) or names.get(short[:2], "")


@functools.cache
def _city_names() -> dict[tuple[str, str], str]:
    """(full province, short city name as the `phone` table writes it) -> the division's full name, for
    every prefecture-level division, so a phone and an ID in one city generalize to the same text."""
    names = {}
    for code in PROVINCES:
        for prefecture in range(1, 100):
            place = division(f"{code}{prefecture:02d}00")
            if place.city:
                names.setdefault((place.province, place.city[:2]), place.city)
                names.setdefault((place.province, place.city[:3]), place.city)
    return names


def _city(province: str, short: str) -> str:
    if not short:
        return ""
    names = _city_names()
    full = names.get((province, short[:3])) or names.get((province, short[:2]))
    return full if full and full.startswith(short) else short


def _phone(choice: str, number: str) -> str:
    if number.startswith("0"):  # landline: the national form keeps the trunk 0 and the area code
        area = next((number[:n] for n in (3, 4) if number[:n] in segments.area_places()), None)
        if area is None or choice == "carrier":
            return ""
        province_short, city_short = segments.area_places()[area]
    else:
        info = segments.segment_info(number)  # the engine's national form: no second validation
        if choice == "carrier":
            return _CARRIERS.get(info["carrier"], info["carrier"])
        province_short, city_short = info["province"], info["city"]
    province = _province(province_short)
    return province if choice == "province" else _city(province, city_short)


# --- bank card ------------------------------------------------------------------------------------------

_CARD_TYPES = (  # product names are the only hint in the BIN tables; the first match wins
    (("准贷记", "准贷"), "准贷记卡"),
    (("贷记", "信用", "公务卡", "商务卡"), "信用卡"),
    (("预付", "礼物卡", "电子现金"), "预付卡"),
    (("借记", "储蓄", "灵通", "卡通", "理财", "社保", "社会保障"), "借记卡"),
)


def card_type(product: str) -> str:
    """借记卡, 信用卡, 准贷记卡 or 预付卡 from a card product name (龙卡通: 借记卡); '' if it does not say."""
    return next((kind for words, kind in _CARD_TYPES if any(w in product for w in words)), "")


def _bank_card(choice: str, number: str) -> str:
    bank = bank_card.issuer(number)
    kind = card_type(bank_card.card_product(number)) if bank else ""
    if choice == "bank":
        return bank
    if choice == "card_type":
        return kind
    return f"{bank} {kind or UNKNOWN}" if bank else ""


_DESCRIBE: dict[str, Callable[[str, str, dt.date], str]] = {
    resident_id.ENTITY: _resident_id,
    phone.ENTITY: lambda choice, number, _: _phone(choice, number),
    bank_card.ENTITY: lambda choice, number, _: _bank_card(choice, number),
    address.ENTITY: lambda choice, text, _: _region(choice, address.divisions_of(text)),
}


@register
class Generalize(Action):
    """Replace an entity by a coarse attribute: birth year, age band, gender, region, carrier, bank."""

    name = "generalize"
    Params = GeneralizeParams

    def choice_for(self, entity: str) -> str:
        """The choice that applies to `entity` (see `GeneralizeParams.choice_for`)."""
        return self.params.choice_for(entity)

    def replace(self, target: Target) -> str:
        """Short Chinese text: `1990年`, `30-39岁`, `男`, `广东省`, `深圳市`, `中国移动`, `招商银行`."""
        entity, value = target.entity, target.value
        choice = self.choice_for(entity)
        if target.subtype == DECLARED:
            return UNKNOWN
        shared = _SHARED_BY[entity](choice, value)
        if shared is None:
            return self._describe(entity, choice, value)
        return _remembered((entity, choice, self.params.as_of, "prefix", shared),
                           lambda: self._describe(entity, choice, value))

    def _describe(self, entity: str, choice: str, value: str) -> str:
        try:
            return _DESCRIBE[entity](choice, value, self.params.as_of) or UNKNOWN
        except ValueError:  # a value the format module cannot read (e.g. a travel permit has no birth date)
            return UNKNOWN

    def replace_many(self, entity: str, written: pa.Array, values: pa.Array) -> pa.Array | None:
        """`replace` in bulk: each value gets the key its description depends on (a mobile's segment
        record, a card's BIN, an ID's division code, birth date or sex digit), every distinct key is
        described once per process, and the descriptions are taken back to the rows."""
        choice = self.choice_for(entity)
        keys = _bulk_keys(entity, choice, values)
        if keys is None:
            return None
        encoded = pc.dictionary_encode(keys)
        _, first = np.unique(encoded.indices.to_numpy(zero_copy_only=False), return_index=True)
        described = [
            _remembered((entity, choice, self.params.as_of, "key", key),
                        lambda i=i: self._describe(entity, choice, values[int(i)].as_py()))
            for key, i in zip(encoded.dictionary.to_pylist(), first.tolist(), strict=True)
        ]
        return pa.array(described, pa.string()).take(encoded.indices)


def _bulk_keys(entity: str, choice: str, values: pa.Array) -> pa.Array | None:
    """What a description depends on, per value, for normalized values of one common form (18-character
    IDs, 11-digit mobiles, cards); None for a batch with others, whose values are then described alone."""
    lengths = pc.utf8_length(values)
    if entity == resident_id.ENTITY:
        if not pc.all(pc.equal(lengths, 18)).as_py():
            return None
        start, stop = (0, 6) if choice in _REGION_CHOICES else (16, 17) if choice == "gender" else (6, 14)
        return pc.utf8_slice_codeunits(values, start, stop)
    if entity == phone.ENTITY:
        mobile = pc.and_(pc.equal(lengths, 11), pc.starts_with(values, "1"))
        if not pc.all(mobile).as_py():
            return None
        records = segments.segment_records()
        prefixes = pc.cast(pc.utf8_slice_codeunits(values, 0, 7), pa.int32()).to_numpy(zero_copy_only=False)
        row = segments.segment_rows(prefixes)
        found = records[np.maximum(row, 0)]
        place = found["place"].astype(np.int64) * 256 + found["carrier"]
        return pa.array(np.where(row >= 0, place, -1))
    if entity == bank_card.ENTITY:
        return pc.fill_null(known_bins(values), "")
    return None


_SHARED_BY: dict[str, Callable[[str, str], str | None]] = {
    phone.ENTITY: lambda choice, number: number[:7],  # segment tables key on 7 digits, area codes on <= 4
    bank_card.ENTITY: lambda choice, number: number[:8],  # BINs have at most 8 digits
    resident_id.ENTITY: lambda choice, number: number[:6] if choice in _REGION_CHOICES else None,
    address.ENTITY: lambda choice, text: None,
}
"""The part of a valid number an attribute depends on: numbers sharing it share the description, so
each is looked up once per process (values are distinct, prefixes are not). None: look up every value."""
_MEMO: dict[tuple[object, ...], str] = {}
_MEMO_SIZE = 200_000


def _remembered(key: tuple[object, ...], describe: Callable[[], str]) -> str:
    """The description remembered under `key` (entity, choice, reference date and what it depends on),
    described now if it is not; the memo is bounded, and shared by the threads of a process."""
    found = _MEMO.get(key)
    if found is None:
        if len(_MEMO) >= _MEMO_SIZE:
            _MEMO.clear()
        found = _MEMO[key] = describe()
    return found


# --- whole columns --------------------------------------------------------------------------------------

_DAY = r"(?:0?[1-9]|[12][0-9]|3[01])"
_TIME = r"(?:[T ][0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?(?:Z|[+-][0-9]{2}:?[0-9]{2})?)?"
_DATE_TEXT = (
    r"^\s*(?P<year>[0-9]{4})"
    rf"(?:[-/.](?P<sep_month>0?[1-9]|1[0-2])(?:[-/.]{_DAY}{_TIME})?"  # 2024-03-15, 2024/3/5, 2024-03
    rf"|(?P<compact_month>0[1-9]|1[0-2])(?:{_DAY})?"  # 20240315, 202403
    rf"|年(?P<cn_month>0?[1-9]|1[0-2])月(?:{_DAY}日)?)"  # 2024年3月15日
    r"\s*$"
)


def _unknown_where_invalid(array: pa.Array, text: pa.Array, valid: pa.Array) -> pa.Array:
    """`text` where `valid`, 未知 where not, null where the input is null."""
    known = pc.if_else(valid, text, pa.scalar(UNKNOWN, pa.string()))
    return pc.if_else(pc.is_null(array), pa.scalar(None, pa.string()), known)


def _two_digits(month: pa.Array) -> pa.Array:
    return pc.utf8_lpad(pc.cast(month, pa.string()), width=2, padding="0")


def generalize_dates(array: pa.Array, to: Literal["month", "year"]) -> pa.Array:
    """Dates, timestamps (any unit; a zoned timestamp in its own zone) or ISO-like date strings to
    `2024-03` (month) or `2024` (year) strings. Nulls stay null; strings that are not dates become 未知,
    never passed through."""
    if to not in ("month", "year"):
        raise ValueError(f"generalize dates to 'month' or 'year', not {to!r}")
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    if pa.types.is_date(array.type) or pa.types.is_timestamp(array.type):
        year, month = pc.cast(pc.year(array), pa.string()), _two_digits(pc.month(array))
        valid = pc.is_valid(array)
    elif pa.types.is_string(array.type) or pa.types.is_large_string(array.type):
        parts = pc.extract_regex(pc.cast(array, pa.string()), _DATE_TEXT)
        year = parts.field("year")
        month = _two_digits(
            pc.binary_join_element_wise(
                parts.field("sep_month"), parts.field("compact_month"), parts.field("cn_month"), ""
            )
        )
        valid = pc.fill_null(pc.is_valid(parts), False)
    else:
        raise ValueError(f"generalize dates needs a date, timestamp or string column, not {array.type}")
    text = year if to == "year" else pc.binary_join_element_wise(year, month, "-")
    return _unknown_where_invalid(array, pc.cast(text, pa.string()), valid)


def _edge_label(edge: float) -> str:
    return str(int(edge)) if float(edge).is_integer() else str(edge)


def generalize_amounts(array: pa.Array, edges: list[float]) -> pa.Array:
    """Integer, float or decimal amounts to range labels: edges [1000, 5000] give `<1000`, `1000-5000`,
    `>=5000` (a range includes its lower edge). Nulls stay null; NaN becomes 未知."""
    if not edges or any(a >= b for a, b in itertools.pairwise(edges)):
        raise ValueError("edges must be a non-empty, strictly increasing list")
    kind = array.type
    if not (pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind)):
        raise ValueError(f"generalize amounts needs an integer, float or decimal column, not {kind}")
    labels = [f"<{_edge_label(edges[0])}"]
    labels += [f"{_edge_label(low)}-{_edge_label(high)}" for low, high in itertools.pairwise(edges)]
    labels.append(f">={_edge_label(edges[-1])}")
    # The range index is how many edges the amount reaches; decimals compare exactly against decimal edges.
    index = pa.repeat(pa.scalar(0, pa.int32()), len(array))
    for edge in edges:
        exact = pa.types.is_decimal(kind)
        bound = pa.scalar(decimal.Decimal(repr(float(edge))) if exact else edge)
        index = pc.add(index, pc.cast(pc.greater_equal(array, bound), pa.int32()))
    ranged = pc.take(pa.array(labels, pa.string()), index)
    if pa.types.is_floating(kind):
        return _unknown_where_invalid(array, ranged, pc.invert(pc.fill_null(pc.is_nan(array), False)))
    return ranged
