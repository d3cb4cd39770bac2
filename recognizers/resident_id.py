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
from collections.abc import Iterator

from recognizers.divisions import PROVINCES, Division, division
from recognizers.errors import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength
from recognizers.findings import Candidate, Strength
from recognizers.text import FoldedText, fold

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

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
EARLIEST_BIRTH = dt.date(1860, 1, 1)
"""The standard's own example is born in 1880; anything older is not a living person's number."""

_SEP = r"[ -]"
_BODY18 = (
    rf"[0-9]{{17}}[0-9Xx]"
    rf"|[0-9]{{6}}{_SEP}[0-9]{{8}}{_SEP}[0-9]{{3}}[0-9Xx]"
    rf"|[0-9]{{6}}{_SEP}[0-9]{{4}}{_SEP}[0-9]{{4}}{_SEP}[0-9]{{3}}[0-9Xx]"
    rf"|[0-9]{{3}}{_SEP}[0-9]{{3}}{_SEP}[0-9]{{4}}{_SEP}[0-9]{{4}}{_SEP}[0-9]{{3}}[0-9Xx]"
)
# Digit-aware boundaries: `\b` does not separate a CJK character from a digit.
_NUMBER = re.compile(rf"(?<![0-9])(?:{_BODY18}|[0-9]{{15}})(?![0-9])")
_PERMIT = re.compile(r"(?<![0-9A-Za-z])[HMhm][0-9]{8}(?:[0-9]{2})?(?![0-9A-Za-z])")


def compact(number: str) -> str:
    """Fold full-width forms, drop spaces and dashes, upper-case the check character."""
    return re.sub(r"[ -]", "", fold(number).text).strip().upper()


def calc_check_digit(number: str) -> str:
    """The MOD 11-2 check character for the first 17 digits of `number`."""
    total = sum(int(d) * w for d, w in zip(number[:17], WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


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
    if number[:2] in ("81", "82", "83"):
        return "hk_macau_taiwan_residence_permit"
    if number[0] == "9":
        return "foreign_permanent_resident"
    return "resident"


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


def find(folded: FoldedText) -> Iterator[Candidate]:
    """Candidates in folded text: checksummed 18-character numbers are validated, the rest plausible."""
    text = folded.text
    for match in _NUMBER.finditer(text):
        try:
            number = validate(match.group())
        except ValueError:
            continue
        strength = Strength.VALIDATED if len(number) == 18 else Strength.PLAUSIBLE
        yield Candidate(ENTITY, match.start(), match.end(), upgrade(number), subtype(number), strength)
    for match in _PERMIT.finditer(text):
        yield Candidate(
            ENTITY, match.start(), match.end(), match.group().upper(), "hk_macau_permit", Strength.PLAUSIBLE
        )
