"""Synthetic Chinese financial exports: the data cnpii is developed, tested and demonstrated on.

`generate(out, rows, seed)` writes five Parquet datasets, one folder per table, each split into several
`part-NNNNN.parquet` files that share one schema:

=============  ==================================================================================
customers      one row per synthetic person: name, resident ID, mobile, bank card, address, birth
               date, gender, city, sign-up time, credit score and a free-text remark (`rows` rows)
loans          loan applications of those customers: borrower ID, amount, term, contact phone
transactions   card transactions: the customer's card, a counterparty card, a 转账附言 memo
call_notes     call-centre notes an agent (工号) wrote about a customer
contacts       the contact lists (联系人) lending apps collect from a borrower's phone
=============  ==================================================================================

Every value is synthetic: names and addresses come from Faker's zh_CN provider, numbers are drawn at
random and then given valid check characters, so no row describes a real person. The tables copy the
quirks of real exports, because those quirks are what detection has to survive:

* Resident IDs carry a valid ISO 7064 MOD 11-2 check character (GB 11643-1999); some end in a
  lower-case x; about 2 % are 15-digit legacy numbers (GB 11643-1989) held by people born before 1985.
  `birth_date` and `gender` agree with the ID (digits 7-14, and the parity of digits 15-17).
* PII in numeric columns. `loans.borrower_id_number` is int64: the export inferred a numeric type and
  coerced the IDs ending in X to null (what `pandas.to_numeric(errors="coerce")` does).
  `loans.contact_phone` and `contacts.phone_int` hold phones as int64, a few with the 86 country code.
* Phones in the notations people type: `+86 138 1234 5678`, `138-1234-5678`, `+8613812345678`,
  `0086-…`; landlines such as `0755-86001234` and `(010)62345678`; full-width digits in some call notes
  (typed with a Chinese input method).
* Bank cards are Luhn-valid on real Chinese BINs (cardbin's table and the big banks' best-known BINs),
  mostly 19 or 16 digits, some grouped in fours (`6222 0200 …`) or with the BIN split off.
* Free text mentions PII in a minority of rows, next to hard negatives that look like PII and are not:
  order numbers (订单号), millisecond-timestamp serial numbers (流水号), amounts such as
  `13800000000.00元`, and 11-digit agent numbers starting 129, which is no mobile segment.
* PII columns have some nulls.

All tables describe one population, so a customer's ID in `loans` is the one in `customers`, and the
card in `transactions.account_no` is the customer's card. Output is deterministic for a seed (with the
same Faker and pyarrow versions, byte for byte). Large runs stay fast because Faker fills small pools
once and numpy and pyarrow assemble the columns; no Python code runs per row.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import itertools
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from string import Formatter
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from cardbin.bankbin import BANKBIN
from faker import Faker
from faker.providers.ssn.zh_CN import Provider as FakerChineseSSN

from recognizers.checksums import luhn_check_digits, mod11_2_check_bytes

T = TypeVar("T")
Column = Callable[["Rows"], pa.Array]
Style = Callable[[pa.Array], pa.Array]

# Faker values are drawn into pools of this size once; rows then pick from the pools.
POOL_SIZE = 2048
FIRST_CUSTOMER_ID = 10_000_001

LEGACY_ID_SHARE = 0.02

# County-level division codes from Faker's GB/T 2260 list, plus the 81/82/83 prefixes of residence
# permits for Hong Kong, Macau and Taiwan residents. 71 (Taiwan) is not issued to mainland residents.
AREA_CODES = tuple(
    code
    for code in FakerChineseSSN.area_codes
    if code[:2] in {"81", "82", "83"} or (code[:2] != "71" and not code.endswith("00"))
)

# Voice mobile segments as MIIT allocates them, 16x/17x/19x included.
MOBILE_SEGMENTS = (
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "145", "147", "149",
    "150", "151", "152", "153", "155", "156", "157", "158", "159", "162", "165", "166", "167",
    "170", "171", "172", "173", "175", "176", "177", "178", "180", "181", "182", "183", "184",
    "185", "186", "187", "188", "189", "190", "191", "192", "193", "195", "196", "197", "198", "199",
)  # fmt: skip

# Landline area codes whose local numbers have 8 digits (010 Beijing, 02x, large cities).
AREA_CODES_8_DIGIT_LANDLINES = (
    "010", "020", "021", "022", "023", "024", "025", "027", "028", "029",
    "0755", "0571", "0512", "0532", "0574", "0731", "0757", "0769",
)  # fmt: skip

# The BINs of the big banks' debit cards that dominate real exports (ICBC, ABC, CCB, CMB, BOC, BoCom,
# PSBC); they take WELL_KNOWN_BIN_SHARE of the cards, the rest of cardbin's 6-digit BINs share the rest.
WELL_KNOWN_BINS = (
    "622202", "621226", "622848", "621700", "622700", "436742",
    "622588", "621661", "601382", "622260", "621799", "622188",
)  # fmt: skip
WELL_KNOWN_BIN_SHARE = 0.6
OTHER_BINS = tuple(sorted(b for b in BANKBIN if len(b) == 6 and b not in WELL_KNOWN_BINS))
CARD_LENGTHS = ((19, 0.60), (16, 0.35), (18, 0.03), (17, 0.02))

# Call-centre agent numbers (工号): 11 digits starting 129, not a mobile segment.
FIRST_AGENT_ID = 12_911_600_000
AGENT_ID_SPAN = 100_000

# Address-book names that are not full names (kinship terms are left out: `relation` says those).
CONTACT_NICKNAMES = ("老王", "张哥", "王总", "李经理", "小张", "房东", "刘老师", "阿芳", "陈姐")


# --------------------------------------------------------------------------------------------------
# Digits and strings, built as numpy matrices and turned into Arrow strings without a per-row loop


def _ascii_strings(codes: np.ndarray) -> pa.Array:
    """Turn an (n, width) matrix of ASCII codes into n strings of that width."""
    n, width = codes.shape
    data = pa.py_buffer(np.ascontiguousarray(codes, dtype=np.uint8))
    offsets = pa.py_buffer(np.arange(0, (n + 1) * width, width, dtype=np.int32))
    return pa.Array.from_buffers(pa.string(), n, [None, offsets, data])


def _digit_strings(digits: np.ndarray) -> pa.Array:
    """Turn an (n, width) matrix of digits 0-9 into n digit strings."""
    return _ascii_strings(digits + ord("0"))


def _digit_matrix(codes: Sequence[str]) -> np.ndarray:
    """The digits of equally long digit strings, one row per string."""
    return np.frombuffer("".join(codes).encode(), dtype=np.uint8).reshape(len(codes), -1) - ord("0")


def _int_digits(values: np.ndarray, width: int) -> np.ndarray:
    """The `width` decimal digits of each value, most significant first."""
    return (values[:, None] // 10 ** np.arange(width - 1, -1, -1)) % 10


def _random_days(rng: np.random.Generator, n: int, start: str, end: str) -> np.ndarray:
    """n dates drawn uniformly from [start, end)."""
    first, stop = np.datetime64(start, "D"), np.datetime64(end, "D")
    return first + rng.integers(0, (stop - first).astype(int), n).astype("timedelta64[D]")


def _random_times(rng: np.random.Generator, n: int, start: str, end: str) -> np.ndarray:
    """n millisecond timestamps drawn uniformly from [start, end), naive local time as exports hold it."""
    first, stop = np.datetime64(start, "ms"), np.datetime64(end, "ms")
    return first + rng.integers(0, (stop - first).astype(np.int64), n).astype("timedelta64[ms]")


def _yyyymmdd(dates: np.ndarray) -> np.ndarray:
    """Dates as integers such as 19491231."""
    years = dates.astype("datetime64[Y]").astype(np.int64) + 1970
    months = dates.astype("datetime64[M]")
    month_numbers = months.astype(np.int64) % 12 + 1
    days = (dates - months.astype("datetime64[D]")).astype(np.int64) + 1
    return years * 10_000 + month_numbers * 100 + days


def _yuan(cents: np.ndarray) -> pa.Array:
    """Amounts in yuan with two decimals, as finance exports store money."""
    return pc.cast(pa.array(cents / 100), pa.decimal128(14, 2))


# --------------------------------------------------------------------------------------------------
# Mixing: rows draw one option by weight; each option builds the values of its rows


def mix(
    rng: np.random.Generator,
    n: int,
    weighted: Sequence[tuple[T, float]],
    build: Callable[[T, np.ndarray], pa.Array],
) -> pa.Array:
    """Give each of n rows an option drawn by weight, build each option's values, return them in row order.

    `build(option, rows)` gets the positions of the rows that drew `option` and returns one value each.
    """
    options = [option for option, _ in weighted]
    weights = np.array([weight for _, weight in weighted], dtype=float)
    choice = rng.choice(len(options), size=n, p=weights / weights.sum())
    positions, parts = [], []
    for index, option in enumerate(options):
        rows = np.flatnonzero(choice == index)
        if rows.size:
            positions.append(rows)
            parts.append(build(option, rows))
    if not parts:
        return build(options[0], np.empty(0, dtype=np.intp))
    return pa.concat_arrays(parts).take(np.argsort(np.concatenate(positions)))


def restyle(rng: np.random.Generator, values: pa.Array, styles: Sequence[tuple[Style, float]]) -> pa.Array:
    """Write each value in one of `styles`, drawn by weight: real columns mix notations."""
    return mix(rng, len(values), styles, lambda style, rows: style(values.take(rows)))


def with_nulls(rng: np.random.Generator, values: pa.Array, share: float) -> pa.Array:
    """Blank out about `share` of the values: exports leave optional fields empty."""
    return pc.if_else(rng.random(len(values)) < share, pa.scalar(None, values.type), values)


def _unchanged(values: pa.Array) -> pa.Array:
    return values


def _rewrite(pattern: str, replacement: str) -> Style:
    """A style that rewrites values with an RE2 pattern; `replacement` may use \\1, \\2…"""
    return functools.partial(pc.replace_substring_regex, pattern=pattern, replacement=replacement)


def _group_in_fours(values: pa.Array) -> pa.Array:
    """Card numbers as printed on the card: `6222 0200 1234 5678 901`."""
    return pc.utf8_rtrim(pc.replace_substring_regex(values, r"(\d{4})", r"\1 "), characters=" ")


def _fullwidth(values: pa.Array) -> pa.Array:
    """Digits, X, + and - as full-width characters, as a Chinese input method types them."""
    for char in "0123456789X+-":
        values = pc.replace_substring(values, char, chr(ord(char) + 0xFEE0))
    return values


AS_IS: tuple[tuple[Style, float], ...] = ((_unchanged, 1.0),)
_MOBILE = r"^(\d{3})(\d{4})(\d{4})$"
MOBILE_STYLES: tuple[tuple[Style, float], ...] = (
    (_unchanged, 0.86),
    (_rewrite(_MOBILE, r"+86 \1 \2 \3"), 0.04),
    (_rewrite(_MOBILE, r"\1-\2-\3"), 0.04),
    (_rewrite(_MOBILE, r"+86\1\2\3"), 0.03),
    (_rewrite(_MOBILE, r"\1 \2 \3"), 0.02),
    (_rewrite(_MOBILE, r"(+86)\1\2\3"), 0.01),
)
TEXT_MOBILE_STYLES = (
    *MOBILE_STYLES,
    (_rewrite(_MOBILE, r"0086-\1-\2-\3"), 0.03),
    (_rewrite(_MOBILE, r"86-\1\2\3"), 0.02),
)
# Integer columns cannot hold '+': an export that dropped it leaves 8613812345678.
INT_PHONE_STYLES = ((_unchanged, 0.95), (_rewrite("^", "86"), 0.05))
CARD_STYLES = ((_unchanged, 0.90), (_group_in_fours, 0.07), (_rewrite(r"^(\d{6})", r"\1 "), 0.03))
# Lower-casing changes only the IDs that end in X.
ID_STYLES = ((_unchanged, 0.7), (pc.utf8_lower, 0.3))
TEXT_ID_STYLES = (*ID_STYLES, (_rewrite(r"^(\d{6})(\d{8})(\d{3}[\dXx])$", r"\1 \2 \3"), 0.1))
_LANDLINE = r"^(0\d{2,3})-(\d+)$"
LANDLINE_STYLES = (
    (_unchanged, 0.5),
    (_rewrite(_LANDLINE, r"(\1)\2"), 0.25),
    (_rewrite(_LANDLINE, r"（\1）\2"), 0.1),
    (_rewrite(_LANDLINE, r"\1 \2"), 0.15),
)
NOTE_STYLES = ((_unchanged, 0.92), (_fullwidth, 0.08))


# --------------------------------------------------------------------------------------------------
# Numbers with their real structure and check characters


def resident_ids(
    rng: np.random.Generator, birth_dates: np.ndarray, sequence: np.ndarray, legacy: np.ndarray
) -> pa.Array:
    """GB 11643-1999 numbers (area code, YYYYMMDD, sequence, MOD 11-2 check character); GB 11643-1989
    15-digit numbers (area code, YYMMDD, sequence, no check character) where `legacy` is set."""
    n = len(birth_dates)
    area = _digit_matrix(AREA_CODES)[rng.integers(0, len(AREA_CODES), n)]
    body = np.hstack([area, _int_digits(_yyyymmdd(birth_dates), 8), _int_digits(sequence, 3)])
    check = mod11_2_check_bytes(body)
    current = _ascii_strings(np.column_stack([body + ord("0"), check]))
    old = _digit_strings(np.delete(body, [6, 7], axis=1))  # drop the century
    return pc.if_else(legacy, old, current)


def mobile_numbers(rng: np.random.Generator, n: int) -> pa.Array:
    """11-digit mobile numbers in assigned voice segments."""
    segment = _digit_matrix(MOBILE_SEGMENTS)[rng.integers(0, len(MOBILE_SEGMENTS), n)]
    return _digit_strings(np.hstack([segment, rng.integers(0, 10, (n, 8))]))


def landline_numbers(rng: np.random.Generator, n: int) -> pa.Array:
    """Landlines such as `0755-86001234`: area code, dash, 8-digit local number not starting 0 or 1."""
    area = pa.array(AREA_CODES_8_DIGIT_LANDLINES).take(rng.integers(0, len(AREA_CODES_8_DIGIT_LANDLINES), n))
    local = rng.integers(0, 10, (n, 8))
    local[:, 0] = rng.integers(2, 9, n)
    return pc.binary_join_element_wise(area, _digit_strings(local), "-")


def _card_bins(rng: np.random.Generator, n: int) -> np.ndarray:
    """n six-digit BINs: the well-known ones WELL_KNOWN_BIN_SHARE of the time, others from cardbin."""
    well_known = rng.random(n) < WELL_KNOWN_BIN_SHARE
    return np.where(
        well_known[:, None],
        _digit_matrix(WELL_KNOWN_BINS)[rng.integers(0, len(WELL_KNOWN_BINS), n)],
        _digit_matrix(OTHER_BINS)[rng.integers(0, len(OTHER_BINS), n)],
    )


def _cards_of_length(rng: np.random.Generator, n: int, length: int) -> pa.Array:
    """n card numbers of one length: BIN, random account digits, Luhn check digit."""
    body = np.hstack([_card_bins(rng, n), rng.integers(0, 10, (n, length - 7))])
    return _digit_strings(np.column_stack([body, luhn_check_digits(body)]))


def card_numbers(rng: np.random.Generator, n: int) -> pa.Array:
    """Luhn-valid bank card numbers on Chinese BINs, lengths drawn from CARD_LENGTHS."""
    return mix(rng, n, CARD_LENGTHS, lambda length, rows: _cards_of_length(rng, rows.size, length))


def phones_as_int64(rng: np.random.Generator, mobiles: pa.Array) -> pa.Array:
    """Mobile numbers as a numeric export stores them, some with the 86 country code."""
    return pc.cast(restyle(rng, mobiles, INT_PHONE_STYLES), pa.int64())


# --------------------------------------------------------------------------------------------------
# The population


@dataclasses.dataclass(frozen=True)
class FakerPools:
    """Values drawn from Faker zh_CN once; rows pick from them by index."""

    surnames: pa.Array
    male_given_names: pa.Array
    female_given_names: pa.Array
    addresses: pa.Array
    cities: pa.Array  # the city of the address at the same index

    @classmethod
    def draw(cls, seed: int, size: int = POOL_SIZE) -> FakerPools:
        fake = Faker("zh_CN")
        fake.seed_instance(seed)
        # city_name() is a real city; Faker's city() also invents ones such as 宇市.
        cities = [f"{fake.city_name()}市" for _ in range(size)]
        return cls(
            surnames=pa.array([fake.last_name() for _ in range(size)]),
            male_given_names=pa.array([fake.first_name_male() for _ in range(size)]),
            female_given_names=pa.array([fake.first_name_female() for _ in range(size)]),
            addresses=pa.array([_street_address(fake, city) for city in cities]),
            cities=pa.array(cities),
        )


def _street_address(fake: Faker, city: str) -> str:
    """An address such as 湖南省长沙市锡山区兰州路12号. Faker does not match the province to the city."""
    return f"{fake.province()}{city}{fake.district()}区{fake.street_name()}{fake.random_int(1, 999)}号"


@dataclasses.dataclass(frozen=True)
class People:
    """The synthetic customers every table describes, one entry each, values in canonical form."""

    customer_id: pa.Array  # int64
    name: pa.Array
    gender: pa.Array  # 男 / 女, from the parity of the ID's sequence number
    birth_date: pa.Array  # date32, the date inside the ID
    id_number: pa.Array  # 18 characters with an upper-case X, or 15 digits (legacy)
    mobile: pa.Array  # 11 digits
    bank_card: pa.Array  # 16-19 digits, Luhn-valid
    address: pa.Array
    city: pa.Array

    def __len__(self) -> int:
        return len(self.customer_id)


def draw_people(n: int, seed: int) -> People:
    """n synthetic customers whose ID, birth date, gender and given name agree."""
    rng = _stream(seed, 0, 0)
    pools = FakerPools.draw(seed)
    legacy = rng.random(n) < LEGACY_ID_SHARE
    birth_dates = _random_days(rng, n, "1950-01-01", "2006-01-01")
    birth_dates[legacy] = _random_days(rng, int(legacy.sum()), "1940-01-01", "1985-01-01")
    sequence = rng.integers(0, 1000, n)
    male = sequence % 2 == 1  # GB 11643: odd sequence numbers are men
    given_name = pc.if_else(
        male,
        pools.male_given_names.take(rng.integers(0, POOL_SIZE, n)),
        pools.female_given_names.take(rng.integers(0, POOL_SIZE, n)),
    )
    home = rng.integers(0, POOL_SIZE, n)
    return People(
        customer_id=pa.array(FIRST_CUSTOMER_ID + np.arange(n, dtype=np.int64)),
        name=pc.binary_join_element_wise(pools.surnames.take(rng.integers(0, POOL_SIZE, n)), given_name, ""),
        gender=pc.if_else(male, "男", "女"),
        birth_date=pa.array(birth_dates, pa.date32()),
        id_number=resident_ids(rng, birth_dates, sequence, legacy),
        mobile=mobile_numbers(rng, n),
        bank_card=card_numbers(rng, n),
        address=pools.addresses.take(home),
        city=pools.cities.take(home),
    )


def _stream(seed: int, table: int, column: int) -> np.random.Generator:
    """The random stream of one column of one table (table 0 is the population), so adding a column
    leaves the others unchanged. Always three numbers: numpy seeds [s] and [s, 0] identically."""
    return np.random.default_rng([seed, table, column])


@dataclasses.dataclass(frozen=True)
class Rows:
    """One table's rows as a column generator sees them: whom each row is about, and a random stream."""

    people: People
    person: np.ndarray  # index into people, one per row
    rng: np.random.Generator

    def __len__(self) -> int:
        return len(self.person)

    def their(self, values: pa.Array) -> pa.Array:
        """The row's own person's value of a People attribute."""
        return values.take(self.person)

    def strangers(self, values: pa.Array) -> pa.Array:
        """A randomly drawn person's value, such as a counterparty's card or a contact's name."""
        return values.take(self.rng.integers(0, len(self.people), len(self)))

    def subset(self, rows: np.ndarray) -> Rows:
        """The rows at these positions, for building part of a column."""
        return Rows(self.people, self.person[rows], self.rng)


# --------------------------------------------------------------------------------------------------
# Free text: templates whose {slots} are filled per row


def _slot_name(rows: Rows) -> pa.Array:
    return rows.strangers(rows.people.name)


def _slot_phone(rows: Rows) -> pa.Array:
    return restyle(rows.rng, mobile_numbers(rows.rng, len(rows)), TEXT_MOBILE_STYLES)


def _slot_card(rows: Rows) -> pa.Array:
    return restyle(rows.rng, rows.strangers(rows.people.bank_card), CARD_STYLES)


def _slot_own_id(rows: Rows) -> pa.Array:
    return restyle(rows.rng, rows.their(rows.people.id_number), TEXT_ID_STYLES)


def _slot_landline(rows: Rows) -> pa.Array:
    return landline_numbers(rows.rng, len(rows))


def _slot_order_number(rows: Rows) -> pa.Array:
    """19-digit order numbers: order date then 11 digits. Hard negative for cards and IDs."""
    dates = _yyyymmdd(_random_days(rows.rng, len(rows), "2022-01-01", "2025-01-01"))
    return pa.array(dates * 10**11 + rows.rng.integers(0, 10**11, len(rows))).cast(pa.string())


def _slot_serial_number(rows: Rows) -> pa.Array:
    """13-digit millisecond timestamps used as serial numbers. Hard negative for phones."""
    times = _random_times(rows.rng, len(rows), "2022-01-01", "2025-01-01")
    return pa.array(times.astype(np.int64)).cast(pa.string())


def _slot_phone_like_amount(rows: Rows) -> pa.Array:
    """Amounts such as 13800000000.00: eleven digits like a mobile, but money. Hard negative."""
    return pc.binary_join_element_wise(mobile_numbers(rows.rng, len(rows)), ".00", "")


def _slot_amount(rows: Rows) -> pa.Array:
    return pa.array(rows.rng.integers(1, 400, len(rows)) * 50).cast(pa.string())


def _slot_agent_id(rows: Rows) -> pa.Array:
    return agent_ids(rows).cast(pa.string())


def _slot_month(rows: Rows) -> pa.Array:
    return pa.array(rows.rng.integers(1, 13, len(rows))).cast(pa.string())


SLOTS: Mapping[str, Column] = {
    "name": _slot_name,
    "phone": _slot_phone,
    "card": _slot_card,
    "own_id": _slot_own_id,
    "landline": _slot_landline,
    "order_no": _slot_order_number,
    "serial_no": _slot_serial_number,
    "phone_like_amount": _slot_phone_like_amount,
    "amount": _slot_amount,
    "agent": _slot_agent_id,
    "month": _slot_month,
}


def fill(template: str, rows: Rows, slots: Mapping[str, Column] = SLOTS) -> pa.Array:
    """One template filled for every row from `slots`, e.g. '转给{name}' becomes '转给张伟', '转给李娜'…"""
    parts: list[Any] = []
    for literal, slot, _, _ in Formatter().parse(template):
        if literal:
            parts.append(pa.scalar(literal))
        if slot is not None:
            parts.append(slots[slot](rows))
    if not any(isinstance(part, pa.Array) for part in parts):
        return pa.repeat(pa.scalar(template), len(rows))
    return pc.binary_join_element_wise(*parts, "")


def render(rows: Rows, templates: Sequence[tuple[str, float]]) -> pa.Array:
    """Free text: each row draws a template by weight and gets its slots filled."""
    return mix(rows.rng, len(rows), templates, lambda template, where: fill(template, rows.subset(where)))


REMARK_TEMPLATES = (
    ("", 30), ("VIP客户", 8), ("已实名认证", 10), ("请勿在工作时间致电", 5), ("老客户，额度{amount}元", 6),
    ("资料已核实", 8), ("地址待更新", 4), ("备用手机{phone}", 4), ("工资卡{card}", 3),
    ("紧急联系人{name} {phone}", 2),
)  # fmt: skip
PURPOSE_TEMPLATES = (
    ("装修", 20), ("购买家电", 12), ("教育培训", 8), ("经营周转", 15), ("医疗", 6), ("旅游", 5),
    ("购车首付，担保人{name}，电话{phone}", 2), ("归还他行欠款，卡号{card}", 2),
    ("资金周转，{month}月内还清", 6), ("婚庆", 4),
)  # fmt: skip
MEMO_TEMPLATES = (
    ("转账", 20), ("工资", 8), ("房租{month}月", 6), ("还款", 8), ("生活费", 5), ("红包", 5),
    ("微信转账", 6), ("支付宝提现", 4), ("{name}还款", 6), ("转给{name}，电话{phone}", 3),
    ("还信用卡 卡号{card}", 3), ("代{name}还款，卡号{card}", 2), ("订单号{order_no}", 8),
    ("流水号{serial_no}", 5), ("退款{phone_like_amount}元", 2),
    ("货款 订单号{order_no} 联系人{name} {phone}", 2),
)  # fmt: skip
NOTE_TEMPLATES = (
    ("客户来电咨询还款日期，已告知。", 20), ("客户称本月{month}号前还款。", 12), ("外呼无人接听。", 12),
    ("客户情绪激动，投诉催收频繁，已安抚。", 5), ("工号{agent}跟进，客户承诺本周还款。", 8),
    ("客户申请延期{month}个月，已提交审核。", 6),
    ("客户要求修改预留手机号为{phone}，已核实身份证{own_id}后办理。", 4),
    ("客户称卡号{card}被冻结，已转后台处理。", 3), ("回拨{phone}无人接听，转工号{agent}。", 4),
    ("客户提供新联系人{name}，电话{phone}。", 3), ("客户报身份证号{own_id}，核对一致。", 3),
    ("客户提供单位电话{landline}。", 2), ("客户已还款{amount}元，流水号{serial_no}。", 4),
    ("退款{phone_like_amount}元为系统误录，已更正。", 1),
)  # fmt: skip


# --------------------------------------------------------------------------------------------------
# Column generators: each returns one value per row


def _their(field: str, styles: Sequence[tuple[Style, float]] = AS_IS, nulls: float = 0.0) -> Column:
    """A column holding the row's own person's value of `field`, in mixed styles, with some nulls."""

    def column(rows: Rows) -> pa.Array:
        values = rows.their(getattr(rows.people, field))
        return with_nulls(rows.rng, restyle(rows.rng, values, styles), nulls)

    return column


def _text(
    templates: Sequence[tuple[str, float]], nulls: float, styles: Sequence[tuple[Style, float]] = AS_IS
) -> Column:
    """A free-text column drawn from templates."""

    def column(rows: Rows) -> pa.Array:
        return with_nulls(rows.rng, restyle(rows.rng, render(rows, templates), styles), nulls)

    return column


def _one_of(*values: Any) -> Column:
    """A column whose values are drawn uniformly from `values`."""
    return lambda rows: pa.array(values).take(rows.rng.integers(0, len(values), len(rows)))


def _numbered(first: int) -> Column:
    """A surrogate key: first, first + 1, …"""
    return lambda rows: pa.array(first + np.arange(len(rows), dtype=np.int64))


def _days(start: str, end: str) -> Column:
    return lambda rows: pa.array(_random_days(rows.rng, len(rows), start, end))


def _times(start: str, end: str) -> Column:
    return lambda rows: pa.array(_random_times(rows.rng, len(rows), start, end))


def credit_scores(rows: Rows) -> pa.Array:
    """Scores on the 350-950 scale Chinese credit apps use, bunched around 650."""
    return pa.array(np.clip(rows.rng.normal(650, 80, len(rows)), 350, 950).astype(np.int32))


def borrower_ids_as_int64(rows: Rows) -> pa.Array:
    """The borrower's ID as a numeric export column: IDs ending in X did not parse and became null."""
    ids = rows.their(rows.people.id_number)
    return pc.cast(pc.if_else(pc.ends_with(ids, "X"), pa.scalar(None, pa.string()), ids), pa.int64())


def loan_amounts(rows: Rows) -> pa.Array:
    """Principal in steps of 500 yuan, 1,000 to 200,000."""
    return _yuan(rows.rng.integers(2, 401, len(rows)) * 500_00)


def transaction_amounts(rows: Rows) -> pa.Array:
    """Amounts with fen, log-normal around a few hundred yuan."""
    return _yuan(np.round(rows.rng.lognormal(10, 1.5, len(rows))))


def applicant_phones_as_int64(rows: Rows) -> pa.Array:
    return with_nulls(rows.rng, phones_as_int64(rows.rng, rows.their(rows.people.mobile)), 0.08)


def counterparty_cards(rows: Rows) -> pa.Array:
    """Another customer's card, a card from outside the bank's customers, or none (cash, fees)."""
    kinds = (("customer", 0.6), ("outsider", 0.3), ("none", 0.1))

    def cards(kind: str, where: np.ndarray) -> pa.Array:
        if kind == "customer":
            return rows.subset(where).strangers(rows.people.bank_card)
        if kind == "outsider":
            return card_numbers(rows.rng, where.size)
        return pa.nulls(where.size, pa.string())

    return mix(rows.rng, len(rows), kinds, cards)


def agent_ids(rows: Rows) -> pa.Array:
    return pa.array(FIRST_AGENT_ID + rows.rng.integers(0, AGENT_ID_SPAN, len(rows)))


def contact_names(rows: Rows) -> pa.Array:
    """Names as saved in a phone's address book: mostly full names, some nicknames."""
    nicknames = pa.array(CONTACT_NICKNAMES)

    def names(kind: str, where: np.ndarray) -> pa.Array:
        if kind == "full name":
            return rows.subset(where).strangers(rows.people.name)
        return nicknames.take(rows.rng.integers(0, len(nicknames), where.size))

    return mix(rows.rng, len(rows), (("full name", 0.85), ("nickname", 0.15)), names)


def contact_phones(rows: Rows) -> pa.Array:
    """Mostly mobiles in mixed notations, some landlines (work, home), a few missing."""

    def phones(kind: str, where: np.ndarray) -> pa.Array:
        if kind == "mobile":
            return restyle(rows.rng, mobile_numbers(rows.rng, where.size), MOBILE_STYLES)
        return restyle(rows.rng, landline_numbers(rows.rng, where.size), LANDLINE_STYLES)

    return with_nulls(
        rows.rng, mix(rows.rng, len(rows), (("mobile", 0.85), ("landline", 0.15)), phones), 0.04
    )


def contact_phones_as_int64(rows: Rows) -> pa.Array:
    """The numeric phone field some app versions filled: a mobile in about a third of the rows."""
    return with_nulls(rows.rng, phones_as_int64(rows.rng, mobile_numbers(rows.rng, len(rows))), 0.65)


# --------------------------------------------------------------------------------------------------
# Tables


@dataclasses.dataclass(frozen=True)
class TableSpec:
    """A table: its name, its size relative to customers, and a generator and Arrow type per column."""

    name: str
    rows_per_customer: float
    columns: Mapping[str, tuple[pa.DataType, Column]]
    one_row_per_customer: bool = False

    @property
    def schema(self) -> pa.Schema:
        return pa.schema([(name, data_type) for name, (data_type, _) in self.columns.items()])

    def row_count(self, customers: int) -> int:
        return customers if self.one_row_per_customer else max(1, round(customers * self.rows_per_customer))


CUSTOMERS = TableSpec(
    "customers",
    1.0,
    {
        "customer_id": (pa.int64(), _their("customer_id")),
        "name": (pa.string(), _their("name", nulls=0.01)),
        "id_number": (pa.string(), _their("id_number", ID_STYLES, nulls=0.02)),
        "mobile": (pa.string(), _their("mobile", MOBILE_STYLES, nulls=0.03)),
        "bank_card": (pa.string(), _their("bank_card", CARD_STYLES, nulls=0.05)),
        "address": (pa.string(), _their("address", nulls=0.04)),
        "birth_date": (pa.date32(), _their("birth_date", nulls=0.01)),
        "gender": (pa.string(), _their("gender")),
        "city": (pa.string(), _their("city")),
        "created_at": (pa.timestamp("ms"), _times("2015-01-01", "2025-01-01")),
        "credit_score": (pa.int32(), credit_scores),
        "remark": (pa.string(), _text(REMARK_TEMPLATES, nulls=0.3)),
    },
    one_row_per_customer=True,
)
LOANS = TableSpec(
    "loans",
    0.6,
    {
        "loan_id": (pa.int64(), _numbered(50_000_001)),
        "customer_id": (pa.int64(), _their("customer_id")),
        "borrower_id_number": (pa.int64(), borrower_ids_as_int64),
        "amount": (pa.decimal128(14, 2), loan_amounts),
        "term_months": (pa.int32(), _one_of(3, 6, 9, 12, 18, 24, 36)),
        "apply_date": (pa.date32(), _days("2019-01-01", "2025-01-01")),
        "status": (pa.string(), _one_of("申请中", "已放款", "已结清", "逾期", "已拒绝")),
        "contact_phone": (pa.int64(), applicant_phones_as_int64),
        "purpose": (pa.string(), _text(PURPOSE_TEMPLATES, nulls=0.1)),
    },
)
TRANSACTIONS = TableSpec(
    "transactions",
    3.0,
    {
        "txn_id": (pa.int64(), _numbered(900_000_000_001)),
        "account_no": (pa.string(), _their("bank_card", CARD_STYLES, nulls=0.01)),
        "counterparty_card": (pa.string(), counterparty_cards),
        "amount": (pa.decimal128(14, 2), transaction_amounts),
        "txn_time": (pa.timestamp("ms"), _times("2023-01-01", "2025-01-01")),
        "channel": (pa.string(), _one_of("手机银行", "网上银行", "ATM", "柜面", "快捷支付", "POS")),
        "memo": (pa.string(), _text(MEMO_TEMPLATES, nulls=0.1)),
    },
)
CALL_NOTES = TableSpec(
    "call_notes",
    0.4,
    {
        "note_id": (pa.int64(), _numbered(70_000_001)),
        "customer_id": (pa.int64(), _their("customer_id")),
        "agent_id": (pa.int64(), agent_ids),
        "note": (pa.string(), _text(NOTE_TEMPLATES, nulls=0.02, styles=NOTE_STYLES)),
        "created_at": (pa.timestamp("ms"), _times("2023-01-01", "2025-01-01")),
    },
)
CONTACTS = TableSpec(
    "contacts",
    2.0,
    {
        "customer_id": (pa.int64(), _their("customer_id")),
        "contact_name": (pa.string(), contact_names),
        "relation": (
            pa.string(),
            _one_of("父亲", "母亲", "配偶", "子女", "兄弟姐妹", "同事", "朋友", "其他"),
        ),
        "contact_phone": (pa.string(), contact_phones),
        "phone_int": (pa.int64(), contact_phones_as_int64),
    },
)
TABLES = (CUSTOMERS, LOANS, TRANSACTIONS, CALL_NOTES, CONTACTS)


def build_table(spec: TableSpec, people: People, seed: int, table_number: int) -> pa.Table:
    """Generate one table: pick whom each row is about, then run every column generator on its own stream."""
    n = spec.row_count(len(people))
    if spec.one_row_per_customer:
        person = np.arange(n)
    else:
        person = _stream(seed, table_number, 0).integers(0, len(people), n)
    columns = [
        pc.cast(column(Rows(people, person, _stream(seed, table_number, number))), data_type)
        for number, (data_type, column) in enumerate(spec.columns.values(), start=1)
    ]
    return pa.Table.from_arrays(columns, schema=spec.schema)


def write_dataset(table: pa.Table, folder: Path, files: int) -> None:
    """Split `table` into `files` Parquet files part-00000.parquet … in `folder`, replacing earlier parts."""
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("part-*.parquet"):
        stale.unlink()
    bounds = np.linspace(0, table.num_rows, files + 1).astype(int)
    for part, (start, stop) in enumerate(itertools.pairwise(bounds)):
        pq.write_table(table.slice(start, stop - start), folder / f"part-{part:05d}.parquet")


def generate(out: str | Path, rows: int = 2000, seed: int = 0, files_per_table: int = 2) -> dict[str, int]:
    """Write the sample tables as Parquet datasets under OUT/<table>/part-00000.parquet …; return rows
    written per table. `rows` is the number of customers; the other tables scale with it."""
    if rows < 1 or files_per_table < 1 or seed < 0:
        raise ValueError(
            "rows and files_per_table must be at least 1 and seed at least 0, "
            f"got rows={rows}, files_per_table={files_per_table}, seed={seed}"
        )
    people = draw_people(rows, seed)
    counts = {}
    for number, spec in enumerate(TABLES, start=1):
        table = build_table(spec, people, seed, number)
        write_dataset(table, Path(out) / spec.name, files_per_table)
        counts[spec.name] = table.num_rows
    return counts


def _integer_at_least(minimum: int) -> Callable[[str], int]:
    """An argparse type for integers no smaller than `minimum`."""

    def parse(text: str) -> int:
        value = int(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return parse


def main(argv: list[str] | None = None) -> int:
    """`cnpii sample-data OUT`: write the synthetic tables; the last stdout line is a JSON summary."""
    parser = argparse.ArgumentParser(
        prog="cnpii sample-data", description="Write synthetic Chinese financial exports as Parquet datasets."
    )
    parser.add_argument("out", help="folder to write one sub-folder per table into")
    parser.add_argument(
        "--rows", type=_integer_at_least(1), default=2000, help="customers; other tables scale (default 2000)"
    )
    parser.add_argument(
        "--seed", type=_integer_at_least(0), default=0, help="random seed; same seed, same data (default 0)"
    )
    parser.add_argument(
        "--files-per-table", type=_integer_at_least(1), default=2, help="Parquet files per table (default 2)"
    )
    args = parser.parse_args(argv)
    try:
        counts = generate(args.out, rows=args.rows, seed=args.seed, files_per_table=args.files_per_table)
    except OSError as error:
        print(f"cnpii sample-data: cannot write {args.out}: {error.strerror}", file=sys.stderr)
        return 3
    print(json.dumps({"out": str(args.out), "rows": counts}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
