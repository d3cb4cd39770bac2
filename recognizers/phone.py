"""CN_PHONE: mainland mobile numbers, 13-digit IoT numbers and landlines with an area code.

Mobiles are 11 digits in allocated segments: 13x, 145-149, 15x but 154, 162/165/166/167, 170-178,
18x, 19x but 194. 13-digit IoT numbers (140/141/144/146/148) look like millisecond timestamps, so they
are reported only with context. Landlines are an area code (010, 02x or 0 + 3 digits, checked against
the area codes in the `phone` package's 2023 segment table) and a 7-8 digit local number that does not
start with 0 or 1. Written with +86 / 0086 / 86- / (+86), spaces, dashes, brackets or full-width forms.
Not phones: 11-digit runs starting 10/11/12, digits inside longer numbers, amounts like 13800000000.00元.

>>> compact("+86 138-0013-8000"), compact("(0755)8600 1234"), compact("+86 10 6234 5678")
('13800138000', '075586001234', '01062345678')
>>> is_valid("19412345678"), is_valid("19212345678")
(False, True)
>>> segment_info("13800138000")["carrier"]
'移动'
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

import numpy as np
import phone as phone_db

from recognizers import bank_card
from recognizers.errors import InvalidFormat
from recognizers.findings import Candidate, Strength
from recognizers.text import FoldedText, digits_of, fold

ENTITY = "CN_PHONE"

CONTEXT: tuple[str, ...] = (
    "手机",
    "电话",
    "联系方式",
    "联系",
    "致电",
    "来电",
    "回电",
    "去电",
    "拨打",
    "号码",
    "座机",
    "传真",
    "短信",
    "微信",
    "热线",
    "tel",
    "phone",
    "mobile",
    "cell",
    "fax",
    "contact",
    "call",
    "sms",
    "sjhm",
    "lxdh",
    "物联",
    "iot",
    "m2m",
    "流量卡",
    "上网卡",
    "sim",
)
COLUMN_HINTS: dict[str, tuple[str, ...]] = {
    "token": (
        "sjhm",
        "sjh",
        "lxdh",
        "dh",
        "sj",
        "lxfs",
        "gddh",
        "zj",
        "tel",
        "phone",
        "mobile",
        "cell",
        "fax",
    ),
    "joined": ("phoneno", "phonenumber", "mobileno", "mobilenumber", "telno", "telephone", "cellphone"),
    "contains": ("手机", "电话", "联系方式", "座机", "传真", "phone", "mobile"),
}

MOBILE_SEGMENT = re.compile(r"1(?:3[0-9]|4[5-9]|5[0-35-9]|6[2567]|7[0-8]|8[0-9]|9[0-35-9])[0-9]{8}")
IOT_SEGMENT = re.compile(r"14[01468][0-9]{10}")
_AREA = r"0(?:10|2[0-9]|[3-9][0-9]{2})"
_LOCAL = r"[2-9][0-9]{6,7}|[2-9][0-9]{2,3}[ -][0-9]{3,4}"
_COUNTRY = r"(?:\(\+?86\)|\+86|0086|86)[ -]?"

# Digit-aware boundaries (`\b` fails between 号 and 1); a number followed by `.5` is an amount.
_END = r"(?![0-9]|\.[0-9])"
_MOBILE = re.compile(
    rf"(?<![0-9+])(?:{_COUNTRY})?"
    rf"(?P<body>1[3-9][0-9](?:[0-9]{{8}}|[ -]?[0-9]{{4}}[ -]?[0-9]{{4}}|[0-9][ -][0-9]{{4}}[ -][0-9]{{3}})"
    rf"|14[01468][0-9]{{10}}){_END}"
)
_LANDLINE = re.compile(
    rf"(?<![0-9+])(?:(?:\+86|0086)[ -]?(?P<intl>10|2[0-9]|[3-9][0-9]{{2}})[ -]?"
    rf"|\((?P<paren>{_AREA})\)[ -]?|(?P<area>{_AREA})(?P<sep>[ -]?))"
    rf"(?P<local>{_LOCAL}){_END}"
)


@functools.cache
def _segment_table() -> phone_db.Phone:
    return phone_db.Phone()


@functools.cache
def area_places() -> dict[str, tuple[str, str]]:
    """Landline area code -> (province, city) short names from the `phone` package's records (2023); the
    city is '' where one area code serves several cities (028: 成都, 资阳, 眉山)."""
    table = _segment_table()
    places: dict[str, set[tuple[str, str]]] = {}
    for record in table.buf[8 : table.first_phone_record_offset].split(b"\0"):
        fields = record.decode().split("|")
        if len(fields) == 4:
            places.setdefault(fields[3], set()).add((fields[0], fields[1]))
    return {
        code: (next(iter(found))[0], next(iter(found))[1] if len(found) == 1 else "")
        for code, found in places.items()
    }


@functools.cache
def area_codes() -> frozenset[str]:
    """Landline area codes in use (the `phone` package's segment table, 2023)."""
    return frozenset(c for c in area_places() if re.fullmatch(_AREA, c))


def compact(number: str) -> str:
    """The national form: 11 or 13 digits for mobiles, trunk 0 + area code + local number for landlines."""
    folded = fold(number.strip())
    for candidate in find(folded):
        if candidate.start == 0 and candidate.end == len(folded.text):
            return candidate.value
    raise InvalidFormat("not a Chinese mobile, IoT or landline number in an allocated segment or area")


def validate(number: str) -> str:
    """Return the national form of a valid mobile, IoT or landline number, or raise saying why not."""
    return compact(number)


def is_valid(number: str) -> bool:
    """Whether `number` is a valid mobile, IoT or landline number."""
    try:
        validate(number)
    except ValueError:
        return False
    return True


def kind(number: str) -> str:
    """`mobile`, `iot_13_digit` or `landline` for a valid number."""
    digits = validate(number)
    if digits[0] == "0":
        return "landline"
    return "mobile" if len(digits) == 11 else "iot_13_digit"


@functools.cache
def segment_records() -> np.ndarray:
    """The `phone` package's 7-digit segment records as a structured array sorted by `prefix`, with the
    `offset` of each record's place text and its carrier `type`: `segment_info` in bulk."""
    table = _segment_table()
    record = np.dtype([("prefix", "<i4"), ("offset", "<i4"), ("type", "u1")])
    return np.frombuffer(
        table.buf, record, count=table.phone_record_count, offset=table.first_phone_record_offset
    )


def segment_info(number: str) -> dict[str, str]:
    """Province, city and carrier of a mobile's 7-digit prefix ('' where the 2023 table has no entry)."""
    info = _segment_table().find(validate(number)[:7]) or {}
    return {
        "province": info.get("province", ""),
        "city": info.get("city", ""),
        "carrier": info.get("phone_type") or "",
    }


# Digit groups joined by single separators: `6226 0936 9012 6792` is one card number, not a landline
# after a stray group; `138 0013 8000 139 1234 5678` is 22 digits, so two phones; a tab-separated row
# `13800138000<TAB>518000` is a phone and a postcode, because no card is written 11-6.
_GROUP_RUN = re.compile(r"[0-9]+(?:[ -][0-9]+)*")


def _inside_card_number(text: str, start: int, end: int) -> bool:
    for run in _GROUP_RUN.finditer(text, max(0, start - 24), min(len(text), end + 24)):
        if run.start() <= start and end <= run.end() and (run.start(), run.end()) != (start, end):
            return bank_card.written_as_card(run.group())
    return False


def find(folded: FoldedText) -> Iterator[Candidate]:
    """Mobile and landline candidates in folded text."""
    text = folded.text
    for match in _MOBILE.finditer(text):
        digits = digits_of(match.group("body"))
        if _inside_card_number(text, match.start(), match.end()):
            continue
        if MOBILE_SEGMENT.fullmatch(digits):
            yield Candidate(ENTITY, match.start(), match.end(), digits, "mobile", Strength.VALIDATED)
        elif IOT_SEGMENT.fullmatch(digits):
            yield Candidate(ENTITY, match.start(), match.end(), digits, "iot_13_digit", Strength.PLAUSIBLE)
    for match in _LANDLINE.finditer(text):
        area = (
            (match.group("intl") and "0" + match.group("intl")) or match.group("paren") or match.group("area")
        )
        local = digits_of(match.group("local"))
        if (
            area not in area_codes()
            or not 7 <= len(local) <= 8
            or _inside_card_number(text, match.start(), match.end())
        ):
            continue
        # Separators or brackets are how people write phone numbers; a bare digit run is weaker proof.
        written_as_phone = (
            match.group("area") is None or bool(match.group("sep")) or " " in match.group("local")
        )
        strength = Strength.VALIDATED if written_as_phone else Strength.PLAUSIBLE
        yield Candidate(ENTITY, match.start(), match.end(), area + local, "landline", strength)
