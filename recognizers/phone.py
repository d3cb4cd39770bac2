"""CN_PHONE: mainland mobile numbers, 13-digit IoT numbers and landlines with an area code.

Mobiles are 11 digits in allocated segments: 13x, 145-149, 15x but 154, 162/165/166/167, 170-173,
175-178, 18x, 19x but 194; of 174 only 17400-17412 (satellite, emergency) and 1749. 13-digit IoT numbers
(1440x, 1441x, 1410x, 146xx, 148xx) look like millisecond timestamps, so they are reported only with
context. Landlines are an area code (010, 02x or 0 + 3 digits, checked against the area codes in the
vendored 2023 segment table, `recognizers.segments`) and a 7-8 digit local number not starting 0 or 1.
Written with +86 / 0086 / 86- / (+86), a trunk 0, spaces, dashes, dots, slashes, underscores, brackets,
a space between every digit, full-width forms or Chinese numerals (幺三八…). Not phones: 11-digit runs
starting 10/11/12, digits inside longer numbers, amounts like 13800000000.00元.

>>> compact("+86 138-0013-8000"), compact("(0755)8600 1234"), compact("+86 10 6234 5678")
('13800138000', '075586001234', '01062345678')
>>> is_valid("19412345678"), is_valid("19212345678")
(False, True)
>>> segment_info("13800138000")["carrier"]
'移动'
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from recognizers import segments
from recognizers.arrays import decimals, strings
from recognizers.building import built_once
from recognizers.errors import InvalidFormat
from recognizers.findings import Strength
from recognizers.layouts import Judged, Layout, MaskLayout, equals, layouts, part
from recognizers.segments import area_codes

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
    "打",
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


def compact(number: str) -> str:
    """The national form: 11 or 13 digits for mobiles, trunk 0 + area code + local number for landlines."""
    from recognizers.detector import detect  # the engine reads this module's layouts

    text = number.strip()
    found = detect(text, [ENTITY], threshold=0.0)
    if len(found) == 1 and (found[0].start, found[0].end) == (0, len(text)):
        return found[0].value
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


def segment_info(number: str) -> dict[str, str]:
    """Province, city and carrier of a mobile's 7-digit segment ('' where the vendored table has none)."""
    return segments.segment_info(validate(number))


_MOBILE_HEADS = np.zeros(1000, dtype=bool)
_MOBILE_HEADS[[*range(130, 140), *range(145, 150), *range(150, 154), *range(155, 160), 162, 165, 166, 167,
               *range(170, 174), *range(175, 179), *range(180, 194), *range(195, 200)]] = True
"""Allocated 3-digit mobile segments; the 174 block is decided on more digits (`_mobile`)."""


def _mobile(digits: np.ndarray) -> np.ndarray:
    """Whether 11-digit numbers (ASCII rows) are in allocated mobile segments: of 174, 17400-17412 and
    1749 only."""
    head = decimals(digits[:, :3])
    five = decimals(digits[:, :5])
    return _MOBILE_HEADS[head] | ((five >= 17400) & (five <= 17412)) | (decimals(digits[:, :4]) == 1749)


IOT_PREFIXES = ("1440", "1441", "1410", "146", "148")
"""The allocated 13-digit IoT ranges (China Mobile 1440x, 1441x, 148xx; Unicom 146xx; Telecom 1410x): the
rest of the 140/141/144 blocks is not in use."""


def _iot(digits: np.ndarray) -> np.ndarray:
    """Whether 13-digit numbers are in the allocated IoT ranges (`IOT_PREFIXES`)."""
    ok = np.zeros(len(digits), dtype=bool)
    for prefix in IOT_PREFIXES:
        ok |= decimals(digits[:, : len(prefix)]) == int(prefix)
    return ok


@built_once
def _area_table() -> tuple[np.ndarray, np.ndarray]:
    """Area codes as numbers, by their length of 3 and 4 digits (a code's leading 0 is implied)."""
    codes = area_codes()
    return (np.array(sorted(int(c) for c in codes if len(c) == 3)),
            np.array(sorted(int(c) for c in codes if len(c) == 4)))


def _landline(area: np.ndarray, local: np.ndarray) -> np.ndarray:
    """Whether an area code (with its trunk 0) and local number make a landline: a code in use, of the
    length its digits call for (010 and 02x have 3 digits), and 7-8 local digits not starting 0 or 1."""
    short = np.isin(area[:, 1], list(b"12"))
    length = area.shape[1]
    if length not in (3, 4) or local.shape[1] not in (7, 8):
        return np.zeros(len(area), dtype=bool)
    known = np.isin(decimals(area), _area_table()[length - 3])
    return known & (short == (length == 3)) & (area[:, 0] == ord("0")) & (local[:, 0] >= ord("2"))


def judge(layout: Layout, chars: np.ndarray, parts: Mapping[str, slice]) -> Judged:
    """Mobiles in allocated segments are validated; IoT numbers are plausible; landlines are validated,
    written as phones are (separators, brackets, a country code) or as bare digits: an area code in use
    and a local number that starts 2-9 leave few other readings of a run of 10-12 digits led by 0."""
    n = len(chars)
    country = equals(part(chars, parts, "cc"), "86") | equals(part(chars, parts, "cc"), "0086")
    country &= equals(part(chars, parts, "trunk"), "0")
    if layout.name == "mobile":
        number = part(chars, parts, "num")
        ok = country & _mobile(number)
        return Judged(np.where(ok, Strength.VALIDATED, 0).astype(np.int8),
                      np.full(n, "mobile"), strings(number))
    if layout.name == "iot":
        ok = _iot(chars)
        return Judged(np.where(ok, Strength.PLAUSIBLE, 0).astype(np.int8),
                      np.full(n, "iot_13_digit"), strings(chars))
    if layout.name == "landline_bare":
        if part(chars, parts, "cc") is not None:  # +86 / 0086 and the number without its trunk 0
            national = part(chars, parts, "national")
            chars = np.concatenate([np.full((n, 1), ord("0"), dtype=np.uint8), national], axis=1)
        short = np.isin(chars[:, 1], list(b"12"))
        strength = np.zeros(n, dtype=np.int8)
        for area_length in (3, 4):
            rows = np.flatnonzero(short == (area_length == 3))
            ok = _landline(chars[rows, :area_length], chars[rows, area_length:])
            strength[rows[ok]] = Strength.VALIDATED
        return Judged(np.where(country, strength, 0).astype(np.int8), np.full(n, "landline"), strings(chars))
    area = part(chars, parts, "area")
    if part(chars, parts, "cc") is not None:  # +86 755 …: the trunk 0 is not written
        area = np.concatenate([np.full((n, 1), ord("0"), dtype=np.uint8), area], axis=1)
    local = part(chars, parts, "local")
    ok = country & _landline(area, local)
    value = np.concatenate([area, local], axis=1)
    return Judged(np.where(ok, Strength.VALIDATED, 0).astype(np.int8),
                  np.full(n, "landline"), strings(value))


_SEP = r"[ \-./_]"
_CC = r"(?:(?P<cc>\+dd|\(\+?dd\)|dddd|dd)[ \-.]?)?"
_LOCAL = r"(?P<local>d{7,8}|d{3,4}[ \-]d{3,4})"
LAYOUTS = (
    layouts(ENTITY, judge, {
        "mobile": (
            _CC + rf"(?P<num>ddd(?P<s>{_SEP}?)dddd(?P=s)dddd|dddd[ \-]dddd[ \-]ddd|d(?: d){{10}})",
            r"(?P<trunk>d)(?P<num>d{11})",
            r"\((?P<num>ddd\)[ \-]?dddd[ \-]?dddd)",  # (139)80086114
        ),
        "iot": (r"d{13}",),
        "landline": (
            rf"(?P<area>d{{3,4}})[ \-]{_LOCAL}",
            r"(?P<area>d{3,4})(?P<local>d{3,4}[ \-]d{3,4})",
            rf"\((?P<area>d{{3,4}})\)[ \-]?{_LOCAL}",
            rf"(?P<cc>\+dd|dddd)[ \-]?(?P<area>d{{2,3}})[ \-]?{_LOCAL}",
        ),
        "landline_bare": (r"d{10,12}", r"(?P<cc>\+dd|dddd)(?P<national>d{9,11})"),
    })
)
"""Mobiles bare, 3-4-4 with one kind of separator, 4-4-3, spaced digit by digit, after a country code or
a trunk 0, or with their first three digits bracketed; IoT numbers bare; landlines with their area code
separated, bracketed or after +86, or bare (after +86 or 0086 too: `00861064370148`)."""


MASK_KEEP = (3, 4)
"""The most of each end of a phone a mask may show (`138****5678`)."""


def _area_code_length(number: str) -> int:
    """Digits of a landline's area code as written: 010 and 02x have 3, others 4; one less after +86."""
    trunk = number[0] == "0"
    short = number[1 if trunk else 0] in "12"
    return (3 if short else 4) - (0 if trunk else 1)


def mask_layout(number: str) -> MaskLayout | None:
    """A mobile or IoT number shows 3 + 4, a landline its area code + 4 (`MaskLayout`)."""
    n = len(number)
    if n == 13 or (n == 11 and number[0] not in "023456789"):  # IoT; mobile (maybe masked from digit 1)
        return MaskLayout(3, 4, 3, n - 4)
    if 9 <= n <= 12:  # landline: area code with or without the trunk 0, 7-8 digits
        area = _area_code_length(number)
        return MaskLayout(area, 4, area, n - 4)
    return None
