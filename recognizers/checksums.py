"""The two check-digit schemes the entities use, each written once for one number and for many.

Luhn (ISO/IEC 7812) protects card numbers; ISO 7064 MOD 11-2 protects resident ID numbers. The scalar
functions take digit strings; the vector ones take an (n, width) matrix of digit values (0-9 integers),
one number per row, so that a batch of distinct values is checked in one numpy expression.

>>> luhn_check_digit("622202123456789012"), luhn_valid("6225880123456783")
('8', True)
>>> mod11_2_check_character("11010519491231002")
'X'
"""

from __future__ import annotations

import numpy as np

MOD11_2_WEIGHTS = np.array((7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2), dtype=np.int64)
"""2^(17-i) mod 11 for the 17 body digits of a resident ID."""
MOD11_2_CHARACTERS = "10X98765432"
_MOD11_2_BYTES = np.frombuffer(MOD11_2_CHARACTERS.encode(), dtype=np.uint8)


def _digits(number: str) -> np.ndarray:
    return np.frombuffer(number.encode(), dtype=np.uint8)[None, :].astype(np.int64) - 48


_LUHN_DOUBLED = np.array([0, 2, 4, 6, 8, 1, 3, 5, 7, 9], dtype=np.uint8)
"""A digit doubled, with the digits of the product summed (7 -> 14 -> 5)."""


def luhn_check_digits(body: np.ndarray) -> np.ndarray:
    """The digit (0-9) that makes each row of `body` pass the Luhn check once appended: the rightmost
    body digit is the one that gets doubled."""
    backwards = body[:, ::-1].astype(np.uint8, copy=False)
    total = (_LUHN_DOUBLED[backwards[:, ::2]].sum(axis=1, dtype=np.int64)
             + backwards[:, 1::2].sum(axis=1, dtype=np.int64))
    return (10 - total % 10) % 10


def luhn_valid_rows(digits: np.ndarray) -> np.ndarray:
    """Whether each row of digit values passes the Luhn check (its last digit is the check digit)."""
    return luhn_check_digits(digits[:, :-1]) == digits[:, -1]


def luhn_check_digit(body: str) -> str:
    """The digit that makes `body` pass the Luhn check once appended."""
    return str(int(luhn_check_digits(_digits(body))[0]))


def luhn_valid(number: str) -> bool:
    """The Luhn check over all digits of `number`."""
    return bool(luhn_valid_rows(_digits(number))[0])


def mod11_2_check_bytes(body: np.ndarray) -> np.ndarray:
    """The MOD 11-2 check character (as an ASCII byte) of each row of 17 digit values."""
    return _MOD11_2_BYTES[body.astype(np.int64, copy=False) @ MOD11_2_WEIGHTS % 11]


def mod11_2_check_character(body: str) -> str:
    """The MOD 11-2 check character (`0`-`9` or `X`) for the first 17 digits of `body`."""
    return chr(mod11_2_check_bytes(_digits(body[:17]))[0])
