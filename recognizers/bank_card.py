"""CN_BANK_CARD: payment card numbers issued to Chinese customers.

Mostly 16 or 19 digits (15-19 seen), written plain or grouped 4-4-4-4(-3) (one separator or two
spaces), 6-13 or 4-6-5. Issuers: UnionPay BINs start 62 (older ones 60 or 9xxx, newer international ones
81), the Agricultural Bank's legacy 19-digit cards start 103, and Chinese banks also issue Visa,
Mastercard (16 digits: 51-55, 2221-2720), JCB and AmEx cards (e.g. 436742, CCB Visa). Luhn is strong
evidence, but some real Chinese debit cards fail it, so a known BIN with card context (卡号, 银行卡, 账号,
户名…) is accepted without it. Random digits pass Luhn one time in ten, so a Luhn pass alone is not enough:
it needs a known or UnionPay BIN, or context.
BINs come from the `cardbin` package (about 1,400 Chinese BINs) plus `data/bins.csv` for legacy BINs
it lacks. Not cards: order, serial and reference numbers, IMEIs (15 digits, Luhn-valid), ID numbers.

>>> luhn_valid("6225880123456783"), luhn_valid("6225880123456784")
(True, False)
>>> issuer("6222020000000000000")
'工商银行'
>>> validate("6222 0200 0000 0000 000")
'6222020000000000000'
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping
from importlib import resources

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from cardbin.bankbin import BANKBIN

from recognizers.arrays import decimals, fixed_width_bytes, gather, in_sorted, strings, utf8_buffer
from recognizers.building import built_once
from recognizers.checksums import luhn_check_digit, luhn_valid, luhn_valid_rows
from recognizers.errors import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength
from recognizers.findings import Strength
from recognizers.layouts import Judged, Layout, MaskLayout, layouts
from recognizers.text import fold

ENTITY = "CN_BANK_CARD"

CONTEXT: tuple[str, ...] = (
    "卡号",
    "银行卡",
    "借记卡",
    "信用卡",
    "储蓄卡",
    "贷记卡",
    "银联",
    "账号",
    "帐号",
    "账户",
    "帐户",
    "户名",
    "开户",
    "收款",
    "付款",
    "还款卡",
    "工资卡",
    "原卡",
    "新卡",
    "旧卡",
    "扣款",
    "绑定",
    "绑卡",
    "代扣",
    "转入",
    "转出",
    "尾号",
    "card",
    "account",
    "acct",
    "pan",
    "yhkh",
    "yhzh",
    "bank",
)
COLUMN_HINTS: dict[str, tuple[str, ...]] = {
    "token": ("yhkh", "yhzh", "kh", "zh", "skzh", "fkzh", "pan", "card", "acct"),
    "joined": (
        "cardno",
        "cardnumber",
        "bankcard",
        "bankcardno",
        "accountno",
        "accountnumber",
        "acctno",
        "bankaccount",
        "payeeaccount",
        "counterpartycard",
    ),
    "contains": ("卡号", "银行卡", "账号", "帐号", "账户", "card", "account"),
}

LENGTHS = range(15, 20)
UNCOMMON_LENGTHS = (15, 17, 18)
"""Card lengths a BIN must be known to issue (16 and 19 digits are the standard UnionPay lengths)."""

BROAD_ISSUERS = (("62", range(16, 20)), ("81", range(16, 20)), ("103", (19,)), ("4", (16,)),
                 ("51", (16,)), ("52", (16,)), ("53", (16,)), ("54", (16,)), ("55", (16,)))
"""Prefixes and lengths whose Luhn-valid numbers count as validated without a known BIN: UnionPay (62,
81), the Agricultural Bank's legacy 103 cards, 16-digit Visa and Mastercard (Chinese banks issue
hundreds of BINs no offline table lists), and 16-digit Mastercard numbers of the 2-series."""


@built_once
def bins() -> dict[str, str]:
    """BIN prefix (6 or 8 digits, some legacy 4-5) -> issuing bank and product, 'bank|product'."""
    table = dict(BANKBIN)
    with resources.files("recognizers").joinpath("data/bins.csv").open(encoding="utf-8") as f:
        table.update({row["bin"]: f"{row['bank']}|{row['product']}" for row in csv.DictReader(f)})
    return table


@built_once
def bin_lengths() -> dict[str, tuple[int, ...]]:
    """BIN -> the lengths its cards have, where known (`data/bin_lengths.csv`): a number of an uncommon
    length (`UNCOMMON_LENGTHS`) shorter than every one of them is not proven a card by that BIN (a 19-digit
    card's BIN does not make 17 digits a card). The standard 16 and 19 digits are always accepted (the
    table lists one length per rule, and banks issue 16-digit cards under BINs it lists with 19), and so
    are longer numbers (exports hold 19-digit numbers under BINs listed with 18)."""
    with resources.files("recognizers").joinpath("data/bin_lengths.csv").open(encoding="utf-8") as f:
        return {row["bin"]: tuple(int(n) for n in row["lengths"].split()) for row in csv.DictReader(f)}


def compact(number: str) -> str:
    """Fold full-width digits and drop spaces and dashes."""
    return re.sub(r"[ -]", "", fold(number).text).strip()


def calc_check_digit(body: str) -> str:
    """The digit that makes `body` pass the Luhn check once appended.

    >>> calc_check_digit("622202123456789012")
    '8'
    """
    return luhn_check_digit(body)


@built_once
def _bins_by_length() -> tuple[tuple[int, pa.Array], ...]:
    """The BINs of the tables grouped by length, longest first (a longer BIN overrides a shorter one)."""
    table = bins()
    return tuple((n, pa.array(sorted(b for b in table if len(b) == n)))
                 for n in sorted({len(b) for b in table}, reverse=True))


def known_bin(number: str) -> str | None:
    """The longest BIN prefix of `number` in the tables, if any (`6217` alone is not one bank)."""
    table = bins()
    return next((number[:n] for n, _ in _bins_by_length() if number[:n] in table), None)


BANK_NAMES = {
    "中国工商银行": "工商银行",
    "中国建设银行": "建设银行",
    "中国农业银行贷记卡": "农业银行",
    "邮政储蓄银行": "邮储银行",
    "招商银行信用卡中心": "招商银行",
}
"""The BIN tables name one bank several ways (邮储银行, 邮政储蓄银行): the name a release gives it, the
one the tables use most."""


def issuer(number: str) -> str:
    """The issuing bank for a known BIN, else '', under one name per bank (`BANK_NAMES`)."""
    prefix = known_bin(compact(number))
    if not prefix:
        return ""
    name = bins()[prefix].split("|")[0]
    return BANK_NAMES.get(name, name)


def card_product(number: str) -> str:
    """The card product name for a known BIN (e.g. 龙卡通), else ''."""
    prefix = known_bin(compact(number))
    return bins()[prefix].split("|", 1)[-1] if prefix else ""


NETWORKS = (
    ("UnionPay", r"62|60|81|9|103"),
    ("Visa", r"4"),
    ("Mastercard", r"5[1-5]|2(?:22[1-9]|2[3-9][0-9]|[3-6][0-9]{2}|7[01][0-9]|720)"),
    ("JCB", r"35(?:2[89]|[3-8][0-9])"),
    ("American Express", r"3[47]"),
)
"""Card networks that issue in China, by IIN prefix pattern; first match wins."""
NETWORK_DIGITS = 4
"""The most leading digits a `NETWORKS` pattern reads: cards sharing them share their network."""
_NETWORK = re.compile("|".join(pattern for _, pattern in NETWORKS))


def network(number: str) -> str:
    """The card network suggested by the IIN prefix."""
    digits = compact(number)
    return next((name for name, pattern in NETWORKS if re.match(pattern, digits)), "")


def validate(number: str) -> str:
    """Return the digits of a Luhn-valid card with a plausible issuer, or raise saying why not."""
    digits = compact(number)
    if not digits.isdigit():
        raise InvalidFormat("expected digits")
    if len(digits) not in LENGTHS:
        raise InvalidLength("expected 15 to 19 digits")
    if not (known_bin(digits) or _NETWORK.match(digits)):
        raise InvalidComponent("no card network issues this prefix")
    if not luhn_valid(digits):
        raise InvalidChecksum("Luhn check fails")
    return digits


def is_valid(number: str) -> bool:
    """Whether `number` is a Luhn-valid card number with a plausible issuer."""
    try:
        validate(number)
    except ValueError:
        return False
    return True


def _as_numbers(listed: Iterable[str]) -> np.ndarray:
    return np.sort(np.array([int(b) for b in listed], dtype=np.int64))


@built_once
def _bin_numbers() -> tuple[tuple[int, np.ndarray], ...]:
    """`_bins_by_length` as sorted integers (a BIN's length tells its leading zeros, if it had any)."""
    return tuple((n, _as_numbers(listed.to_pylist())) for n, listed in _bins_by_length())


@built_once
def _bin_numbers_too_long_for(width: int) -> dict[int, np.ndarray]:
    """By length, the BINs whose cards are all longer than `width` digits, for an uncommon width
    (`bin_lengths`)."""
    too_long = [b for b, lengths in bin_lengths().items()
                if width in UNCOMMON_LENGTHS and width < min(lengths)]
    return {n: _as_numbers(b for b in too_long if len(b) == n) for n in {len(b) for b in too_long}}


def _bin_widths(chars: np.ndarray) -> np.ndarray:
    """The length of the longest BIN in the tables each row of a matrix of ASCII digits starts with, 0
    for none (`known_bin` in bulk)."""
    widths = np.zeros(len(chars), dtype=np.int64)
    for length, numbers in _bin_numbers():  # longest first
        if length <= chars.shape[1]:
            unknown = np.flatnonzero(widths == 0)
            widths[unknown[in_sorted(decimals(chars[unknown, :length]), numbers)]] = length
    return widths


def known_bins(values: pa.Array) -> pa.Array:
    """`known_bin` of each value (digit strings) in bulk: its longest BIN prefix in the tables, else
    null."""
    data, offsets = utf8_buffer(values)
    lengths = np.diff(offsets)
    widths = np.zeros(len(values), dtype=np.int64)
    for length in np.unique(lengths).tolist():
        rows = np.flatnonzero(lengths == length)
        widths[rows] = _bin_widths(fixed_width_bytes(values.take(pa.array(rows)), length))
    prefixes = gather(data, offsets[:-1], widths)
    return pc.if_else(pa.array(widths > 0), prefixes, pa.scalar(None, pa.string()))


def _broad(chars: np.ndarray) -> np.ndarray:
    """Whether numbers of one length (ASCII rows) start with a `BROAD_ISSUERS` prefix for that length."""
    width = chars.shape[1]
    broad = np.zeros(len(chars), dtype=bool)
    for prefix, lengths in BROAD_ISSUERS:
        if width in lengths:
            broad |= (chars[:, : len(prefix)] == np.frombuffer(prefix.encode(), np.uint8)).all(axis=1)
    if width == 16:
        broad |= _networks(chars) == "Mastercard"
    return broad


@built_once
def _network_table() -> np.ndarray:
    """`network` (or `unknown`) of every possible `NETWORK_DIGITS` leading digits, by their number."""
    heads = (f"{head:0{NETWORK_DIGITS}d}" for head in range(10**NETWORK_DIGITS))
    return np.array([network(head) or "unknown" for head in heads])


def _networks(chars: np.ndarray) -> np.ndarray:
    """`network` of each card (ASCII rows of one length), or `unknown`."""
    return _network_table()[decimals(chars[:, :NETWORK_DIGITS])]


def judge(layout: Layout, chars: np.ndarray, parts: Mapping[str, slice]) -> Judged:
    """Luhn and a known BIN or a `BROAD_ISSUERS` prefix, of a length the BIN issues: validated. Other Luhn
    passes and Luhn failures with a known BIN: plausible. 15 digits (mostly IMEIs and legacy IDs) only
    with a known BIN or as AmEx; nothing starting 0 (no network's IIN does; cnpii's own tokens do)."""
    width = chars.shape[1]
    bin_widths = _bin_widths(chars)
    known = bin_widths > 0
    wrong_length = np.zeros(len(chars), dtype=bool)
    for length, listed in _bin_numbers_too_long_for(width).items():
        rows = np.flatnonzero(bin_widths == length)
        wrong_length[rows] = in_sorted(decimals(chars[rows, :length]), listed)
    luhn = luhn_valid_rows(chars - 48)
    validated = luhn & (known | _broad(chars)) & ~wrong_length
    plausible = (luhn | known) & ~validated
    if width == 15:
        amex = (chars[:, 0] == ord("3")) & np.isin(chars[:, 1], list(b"47"))
        validated &= known | amex
        plausible &= known | amex
    allowed = chars[:, 0] != ord("0")
    strength = np.where(allowed & validated, Strength.VALIDATED, np.where(allowed & plausible,
                                                                           Strength.PLAUSIBLE, 0))
    return Judged(strength.astype(np.int8), _networks(chars), strings(chars))


_SEP = r"(?P<s>[ \-]| {2})"
LAYOUTS = layouts(ENTITY, judge, {"card": (
    r"d{15,19}",
    rf"dddd{_SEP}dddd(?P=s)dddd(?P=s)dddd(?:(?P=s)?d{{1,3}})?",
    r"d{6}[ \-]d{9,13}",
    r"dddd[ \-]d{6}[ \-]d{5}",
)}, alone=True, atomic=True)
"""Bare, 4-4-4-4(-1..3) with one separator or two spaces, BIN then the rest, AmEx 4-6-5."""


MASK_KEEP = (6, 4)
"""The most of each end of a card a mask may show: the BIN and the last 4, as PCI DSS allows."""


def mask_layout(number: str) -> MaskLayout | None:
    """A card shows its BIN and last 4 (`MaskLayout`)."""
    n = len(number)
    return MaskLayout(6, 4, 6, n - 4) if n in LENGTHS else None
