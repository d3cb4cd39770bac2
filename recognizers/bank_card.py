"""CN_BANK_CARD: payment card numbers issued to Chinese customers.

Mostly 16 or 19 digits (15-19 seen), written plain or grouped 4-4-4-4(-3), 6-13 or 4-6-5. Issuers:
UnionPay BINs start 62 (older ones 60 or 9xxx), and Chinese banks also issue Visa, Mastercard, JCB and
AmEx cards (e.g. 436742, CCB Visa). Luhn is strong evidence, but some real Chinese debit cards fail it,
so a known BIN with card context (卡号, 银行卡, 账号, 户名…) is accepted without it. Random digits pass
Luhn one time in ten, so a Luhn pass alone is not enough: it needs a known or UnionPay BIN, or context.
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
import functools
import re
from collections.abc import Iterator
from importlib import resources

from cardbin.bankbin import BANKBIN

from recognizers.errors import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength
from recognizers.findings import Candidate, Strength
from recognizers.text import FoldedText, digits_of, fold

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

_GROUPED = (
    r"[0-9]{4}(?:[ -][0-9]{4}){3}(?:[ -]?[0-9]{1,3})?"  # 4-4-4-4 and 4-4-4-4-3
    r"|[0-9]{6}[ -][0-9]{9,13}"  # BIN, then the rest
    r"|[0-9]{4}[ -][0-9]{6}[ -][0-9]{5}"  # AmEx 4-6-5
)
# Card numbers are not glued to Latin letters, while tracking numbers (SF…, JD…) and USCC codes are.
_NUMBER = re.compile(rf"(?<![0-9A-Za-z])(?:{_GROUPED}|[0-9]{{15,19}})(?![0-9A-Za-z]|\.[0-9])")

_SHAPE = re.compile(rf"(?:{_GROUPED}|[0-9]{{15,19}})")

# Card networks that issue in China, by IIN prefix.
_NETWORK = re.compile(r"62|4|5[1-5]|2(?:2[2-9]|[3-6][0-9]|7[01])|35(?:2[89]|[3-8][0-9])|3[47]")
# Prefixes whose Luhn-valid numbers count as validated without a known BIN: UnionPay at any length, and
# 16-digit Visa / Mastercard (Chinese banks issue hundreds of BINs that no offline table lists).
BROAD_ISSUER = re.compile(r"62[0-9]{13,17}|(?:4|5[1-5])[0-9]{15}")


@functools.cache
def bins() -> dict[str, str]:
    """BIN prefix (6 or 8 digits, some legacy 4-5) -> issuing bank and product, 'bank|product'."""
    table = dict(BANKBIN)
    with resources.files("recognizers").joinpath("data/bins.csv").open(encoding="utf-8") as f:
        table.update({row["bin"]: f"{row['bank']}|{row['product']}" for row in csv.DictReader(f)})
    return table


def compact(number: str) -> str:
    """Fold full-width digits and drop spaces and dashes."""
    return re.sub(r"[ -]", "", fold(number).text).strip()


def calc_check_digit(body: str) -> str:
    """The digit that makes `body` pass the Luhn check once appended (the rightmost body digit is doubled).

    >>> calc_check_digit("622202123456789012")
    '8'
    """
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    """The Luhn (ISO/IEC 7812) check over all digits of `number`."""
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def known_bin(number: str) -> str | None:
    """The longest BIN prefix of `number` in the tables, if any (`6217` alone is not one bank)."""
    table = bins()
    return next((number[:n] for n in (8, 6, 5, 4) if number[:n] in table), None)


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
    ("UnionPay", r"62|60|9"),
    ("Visa", r"4"),
    ("Mastercard", r"5[1-5]|2[2-7]"),
    ("JCB", r"35"),
    ("American Express", r"3[47]"),
)
"""Card networks by IIN prefix pattern, first match wins."""
NETWORK_DIGITS = 2
"""The most leading digits a `NETWORKS` pattern reads: cards sharing them share their network."""


def network(number: str) -> str:
    """The card network suggested by the IIN prefix."""
    digits = compact(number)
    return next((name for name, pattern in NETWORKS if re.match(pattern, digits)), "")


def written_as_card(run: str) -> bool:
    """Whether a run of digit groups is laid out like a card number: 15-19 digits, plain or in card
    groups (4-4-4-4, 6-13, 4-6-5), not starting with 0 (no card network's IIN does; a landline's
    trunk 0 does: `0755-8600-1234-8023` is a phone with its extension)."""
    return (
        run[:1] != "0" and bool(_SHAPE.fullmatch(run)) and len(digits_of(run)) in LENGTHS
    )


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


def _strength(digits: str) -> Strength | None:
    if digits[0] == "0":
        return None  # ISO/IEC 7812: major industry identifier 0 is not a payment card (cnpii's own tokens)
    bin_known = known_bin(digits) is not None
    if len(digits) == 15 and not (bin_known or digits[:2] in ("34", "37")):
        return None  # 15 digits is mostly IMEIs and legacy IDs; only AmEx and known BINs qualify
    if luhn_valid(digits):
        return Strength.VALIDATED if bin_known or BROAD_ISSUER.fullmatch(digits) else Strength.PLAUSIBLE
    return Strength.PLAUSIBLE if bin_known else None


def find(folded: FoldedText) -> Iterator[Candidate]:
    """Card candidates: Luhn + a known BIN, UnionPay, or 16-digit Visa/Mastercard prefix is validated;
    other Luhn passes and Luhn failures with a known BIN are plausible (need context)."""
    for match in _NUMBER.finditer(folded.text):
        digits = digits_of(match.group())
        if len(digits) not in LENGTHS:
            continue
        strength = _strength(digits)
        if strength is not None:
            yield Candidate(
                ENTITY, match.start(), match.end(), digits, network(digits) or "unknown", strength
            )
