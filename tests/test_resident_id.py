"""Resident ID format rules (GB 11643-1999) and their edge cases."""

import datetime as dt

import pytest

from recognizers import resident_id
from recognizers.errors import InvalidChecksum, InvalidComponent, InvalidLength


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("11010519491231002x", "11010519491231002X"),  # lower-case x
        ("１１０１０５１９４９１２３１００２Ｘ", "11010519491231002X"),  # full-width digits and Ｘ
        ("440524188001010014", "440524188001010014"),  # born 1880, code abolished since: still valid
        ("310104 19850314 1236", "310104198503141236"),
        ("810000198808080152", "810000198808080152"),  # Hong Kong residence permit
        ("911840198001010013", "911840198001010013"),  # 2023 foreign permanent resident ID
        ("110199199001010117", "110199199001010117"),  # county code unknown to GB/T 2260
        ("110105491231002", "110105491231002"),  # legacy 15-digit
    ],
)
def test_validate_accepts_real_formats(number, expected):
    assert resident_id.validate(number) == expected


@pytest.mark.parametrize(
    ("number", "error"),
    [
        ("310104198503141230", InvalidChecksum),
        ("310104198502301234", InvalidComponent),  # 30 February
        ("310104209901011235", InvalidComponent),  # born in the future
        ("990104198503141232", InvalidComponent),  # province 99
        ("1101051949123100", InvalidLength),
    ],
)
def test_validate_rejects_with_reason(number, error):
    with pytest.raises(error):
        resident_id.validate(number)


def test_future_is_relative_to_today():
    assert resident_id.validate("310104209901011235", today=dt.date(2100, 1, 1)) == "310104209901011235"


def test_error_messages_never_contain_the_number():
    with pytest.raises(ValueError) as info:
        resident_id.validate("310104198503141230")
    assert "310104" not in str(info.value)


def test_upgrade_and_attributes():
    assert resident_id.upgrade("110105491231002") == "11010519491231002X"
    assert resident_id.birth_date("11010519491231002X") == dt.date(1949, 12, 31)
    assert resident_id.gender("11010519491231002X") == "F"
    assert resident_id.gender("310104198503141236") == "M"
    region = resident_id.region("440305199202292461")
    assert (region.province, region.city, region.county) == ("广东省", "深圳市", "南山区")
    assert resident_id.region("110103196505050183").county == "崇文区"  # abolished 2010, still named
    assert resident_id.subtype("83000019790101022X") == "hk_macau_taiwan_residence_permit"
    assert resident_id.subtype("911840198001010013") == "foreign_permanent_resident"


def test_check_digit_matches_python_stdnum():
    from stdnum.iso7064 import mod_11_2

    for body in ("11010519491231002", "44052418800101001", "31010419850314123", "91184019800101001"):
        assert resident_id.calc_check_digit(body) == mod_11_2.calc_check_digit(body)
