"""CN_RESIDENT_ID: resident identity numbers (公民身份号码, GB 11643-1999) and the numbers that share them.

18 characters: a 6-digit division code (GB/T 2260), the birth date YYYYMMDD, a 3-digit sequence (odd for
men) and an ISO 7064 MOD 11-2 check character (`X` for 10). Also covered:
- 15-digit legacy numbers (GB 11643-1989: YYMMDD, no check character), upgraded to 18 for tokens;
- residence permits of Hong Kong, Macau and Taiwan residents (810000/820000/830000, same checksum);
- the 2023 foreign permanent resident ID (first digit 9, same layout and checksum);
- 港澳居民来往内地通行证 numbers (H/M + 8 or 10 digits), reported only with context.
The division code is never a reason to reject: IDs keep the code valid at registration, and codes are
abolished and created all the time (python-stdnum rejects the standard's own 1880 example for this).

>>> calc_check_digit("11010519491231002")
'X'
>>> validate("11010519491231002x")
'11010519491231002X'
>>> is_valid("440524188001010014"), is_valid("310104198503141230")
(True, False)
>>> upgrade("110105491231002")
'11010519491231002X'
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

import numpy as np

from recognizers.arrays import decimals, strings
from recognizers.checksums import mod11_2_check_bytes, mod11_2_check_character
from recognizers.divisions import PROVINCES, Division, division
from recognizers.errors import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength
from recognizers.findings import Strength
from recognizers.layouts import Judged, Layout, MaskLayout, layouts
from recognizers.text import fold

ENTITY = "CN_RESIDENT_ID"
CONTEXT: tuple[str, ...] = (
    "身份证",
    "身份号",
    "证件",
    "公民身份",
    "居民身份",
    "居住证",
    "永居",
    "永久居留",
    "身份",
    "户籍",
    "通行证",
    "回乡证",
    "台胞证",
    "idno",
    "id no",
    "id_no",
    "id card",
    "idcard",
    "id number",
    "identity",
    "sfz",
    "zjhm",
)
COLUMN_HINTS: dict[str, tuple[str, ...]] = {
    "token": ("sfzh", "sfz", "sfzhm", "zjhm", "zjh", "gmsfhm", "idno", "idcard", "ssn"),
    "joined": (
        "idno",
        "idnumber",
        "idcard",
        "idcardno",
        "idcardnumber",
        "certno",
        "certid",
        "certnumber",
        "identityno",
        "identitynumber",
        "nationalid",
        "residentid",
        "documentno",
    ),
    "contains": ("身份证", "证件号", "证件号码", "身份号码", "idcard", "idnumber", "certno", "residentid"),
}

EARLIEST_BIRTH = dt.date(1860, 1, 1)
"""The standard's own example is born in 1880; anything older is not a living person's number."""


def compact(number: str) -> str:
    """Fold full-width forms, drop spaces and dashes, upper-case the check character."""
    return re.sub(r"[ -]", "", fold(number).text).strip().upper()


def calc_check_digit(number: str) -> str:
    """The MOD 11-2 check character for the first 17 digits of `number`."""
    return mod11_2_check_character(number)


def _birth_date(yyyymmdd: str, today: dt.date) -> dt.date:
    try:
        born = dt.date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        raise InvalidComponent("birth date is not a calendar date") from None
    if not EARLIEST_BIRTH <= born <= today:
        raise InvalidComponent("birth date is outside the plausible range")
    return born


def _check_region(number: str) -> None:
    # The 2023 foreign permanent resident ID puts 9 before the issuing province's two digits.
    region = number[1:3] if number[0] == "9" else number[:2]
    if region not in PROVINCES:
        raise InvalidComponent("province code does not exist")


def validate(number: str, today: dt.date | None = None) -> str:
    """Return the compact 18- or 15-character number, or raise a `ValidationError` saying why not."""
    number = compact(number)
    today = today or dt.date.today()
    if len(number) == 18:
        if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
            raise InvalidFormat("expected 17 digits and a digit or X")
        _check_region(number)
        _birth_date(number[6:14], today)
        if calc_check_digit(number) != number[17]:
            raise InvalidChecksum("MOD 11-2 check character does not match")
        return number
    if len(number) == 15:
        if not number.isdigit():
            raise InvalidFormat("expected 15 digits")
        _check_region(number)
        _birth_date("19" + number[6:12], today)
        return number
    raise InvalidLength("expected 18 or 15 characters")


def is_valid(number: str) -> bool:
    """Whether `number` is a valid resident ID (18 or legacy 15 characters)."""
    try:
        validate(number)
    except ValueError:
        return False
    return True


def upgrade(number: str) -> str:
    """The 18-character form of a valid number: legacy 15-digit numbers get `19` and a check character."""
    number = validate(number)
    if len(number) == 15:
        body = number[:6] + "19" + number[6:]
        return body + calc_check_digit(body)
    return number


def subtype(number: str) -> str:
    """Which kind of number this is: `resident`, `legacy_15`, `hk_macau_taiwan_residence_permit`,
    `foreign_permanent_resident`."""
    number = compact(number)
    if len(number) == 15:
        return "legacy_15"
    return str(_subtypes(np.frombuffer(number.encode(), np.uint8)[None, :])[0])


def birth_date(number: str) -> dt.date:
    """Date of birth encoded in a valid number."""
    full = upgrade(number)
    return dt.date(int(full[6:10]), int(full[10:12]), int(full[12:14]))


def gender(number: str) -> str:
    """`M` or `F` from the parity of the sequence digits (odd is male)."""
    return "M" if int(upgrade(number)[16]) % 2 else "F"


def region(number: str) -> Division:
    """The division the number was registered in (the issuing province for foreign residents)."""
    full = upgrade(number)
    return division(full[1:3] + "0000" if full[0] == "9" else full[:6])


_PROVINCE_CODES = np.zeros(100, dtype=bool)
_PROVINCE_CODES[[int(code) for code in PROVINCES]] = True
_DAYS = np.array([0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


def _plausible(matrix: np.ndarray, today: dt.date) -> np.ndarray:
    """Province and birth date of 18-character IDs (ASCII bytes): right but for the check character."""
    foreign = matrix[:, 0] == ord("9")
    region = np.where(foreign, decimals(matrix[:, 1:3]), decimals(matrix[:, 0:2]))
    year, month, day = decimals(matrix[:, 6:10]), decimals(matrix[:, 10:12]), decimals(matrix[:, 12:14])
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    month_ok = (month >= 1) & (month <= 12)
    days = np.where(month_ok, _DAYS[np.clip(month, 0, 12)], 0) - ((month == 2) & ~leap)
    ymd = year * 10000 + month * 100 + day
    earliest = EARLIEST_BIRTH.year * 10000 + EARLIEST_BIRTH.month * 100 + EARLIEST_BIRTH.day
    in_range = (ymd >= earliest) & (ymd <= today.year * 10000 + today.month * 100 + today.day)
    return _PROVINCE_CODES[region] & month_ok & (day >= 1) & (day <= days) & in_range


def _subtypes(matrix: np.ndarray) -> np.ndarray:
    """`subtype` of 18-character IDs from their first two characters."""
    permit = (matrix[:, 0] == ord("8")) & np.isin(matrix[:, 1], list(b"123"))
    return np.select([matrix[:, 0] == ord("9"), permit],
                     ["foreign_permanent_resident", "hk_macau_taiwan_residence_permit"], "resident")


def _upgraded(digits: np.ndarray) -> np.ndarray:
    """`upgrade` of 15-digit numbers: `19` before the 2-digit year, then the check character."""
    century = np.broadcast_to(np.frombuffer(b"19", np.uint8), (len(digits), 2))
    body = np.concatenate([digits[:, :6], century, digits[:, 6:]], axis=1)
    return np.concatenate([body, mod11_2_check_bytes(body.astype(np.int64) - 48)[:, None]], axis=1)


def judge(layout: Layout, chars: np.ndarray, parts: Mapping[str, slice]) -> Judged:
    """18 characters: validated with province, birth date and check character; plausible with a wrong
    check character (a typo, reported where an ID column or label supports it). 15 digits: plausible
    with province and date. A permit: plausible."""
    today = dt.date.today()
    if layout.name == "permit":
        upper = np.where(chars >= ord("a"), chars - 32, chars).astype(np.uint8)
        return Judged(np.full(len(chars), Strength.PLAUSIBLE, dtype=np.int8),
                      np.full(len(chars), "hk_macau_permit"), strings(upper))
    if layout.name == "legacy":
        upgraded = _upgraded(chars)
        strength = np.where(_plausible(upgraded, today), Strength.PLAUSIBLE, 0).astype(np.int8)
        return Judged(strength, np.full(len(chars), "legacy_15"), strings(upgraded))
    upper = chars.copy()
    upper[:, 17] = np.where(upper[:, 17] == ord("x"), ord("X"), upper[:, 17])
    right = mod11_2_check_bytes(upper[:, :17].astype(np.int64) - 48) == upper[:, 17]
    strength = np.where(_plausible(upper, today), np.where(right, Strength.VALIDATED, Strength.PLAUSIBLE), 0)
    return Judged(strength.astype(np.int8), _subtypes(upper), strings(upper))


_S = r"(?P<s>[ \-])"
LAYOUTS = (
    layouts(ENTITY, judge, {"id": (
        r"d{17}[dX]",
        rf"d{{6}}{_S}d{{8}}(?P=s)d{{3}}[dX]",
        rf"d{{6}}{_S}d{{4}}(?P=s)d{{4}}(?P=s)d{{3}}[dX]",
        rf"d{{3}}{_S}d{{3}}(?P=s)d{{4}}(?P=s)d{{4}}(?P=s)d{{3}}[dX]",
        rf"d{{4}}{_S}d{{4}}(?P=s)d{{4}}(?P=s)d{{4}}(?P=s)d[dX]",
    )})
    + layouts(ENTITY, judge, {"legacy": (r"d{15}",)}, whole_value_suffices=True)
    + layouts(ENTITY, judge, {"permit": (r"H(?:d{8}|d{10})",)}, alone=True)
)
"""18 characters bare or grouped 6-8-4, 6-4-4-4, 3-3-4-4-4 or 4-4-4-4-2; 15 digits; H/M + 8 or 10 digits."""


MASK_KEEP = (6, 4)
"""The most of each end of an ID a mask may show: the division code, and sequence + check character;
never the birth date."""


def mask_layout(number: str) -> MaskLayout | None:
    """An ID shows its first and last character by default and never its birth date; a 港澳 permit
    (H/M + 8 or 10 digits) its letter and last digit (`MaskLayout`)."""
    n = len(number)
    birth_date = {18: (6, 14), 15: (6, 12)}.get(n)
    if birth_date is not None:
        return MaskLayout(1, 1, *birth_date)
    return MaskLayout(1, 1, 1, n - 1) if n in (9, 11) else None
