"""Bank card format rules: Luhn, BINs, lengths, networks."""

import pytest

from recognizers import bank_card
from recognizers.errors import InvalidChecksum, InvalidComponent, InvalidLength


def test_luhn():
    assert bank_card.luhn_valid("6225880123456783")
    assert not bank_card.luhn_valid("6225880123456784")


def test_longest_bin_wins():
    # 6217 is split across many issuers: 621700 is CCB, 621785 BOC.
    assert bank_card.issuer("6217000001234567891") == "建设银行"
    assert bank_card.issuer("6217850000000000000").startswith("中国银行")
    assert bank_card.issuer("9558800000123456782") == "工商银行"  # legacy 9-BIN from data/bins.csv
    assert bank_card.issuer("1234567812345670") == ""


@pytest.mark.parametrize(
    ("number", "error"),
    [
        ("6225880123456784", InvalidChecksum),
        ("1234567812345670", InvalidComponent),
        ("62258801234", InvalidLength),
    ],
)
def test_validate_reasons(number, error):
    with pytest.raises(error):
        bank_card.validate(number)


def test_network_and_product():
    assert bank_card.network("6222020000000000000") == "UnionPay"
    assert bank_card.network("4111111111111111") == "Visa"
    assert bank_card.card_product("6217000001234567891") == "龙卡通"


@pytest.mark.parametrize(
    ("run", "expected"),
    [
        ("6226 0936 9012 6792", True),
        ("6222 0200 0000 0000 000", True),
        ("622202 0000000000000", True),
        ("3714 496353 98431", True),
        ("6222020000000000000", True),
        ("0755-8600-1234-8023", False),  # a landline with its extension: no IIN starts with 0
        ("13800138000 518000", False),  # a phone and a postcode: 11-6 is no card layout
        ("6226 0936 9012", False),  # too short
    ],
)
def test_written_as_card(run, expected):
    assert bank_card.written_as_card(run) is expected


def test_one_bank_has_one_name():
    """Issue 14, item 17: the analytics release named the postal savings bank two ways."""
    from recognizers.bank_card import issuer

    assert issuer("6217991234567890124") == issuer("6221881234567890129") == "邮储银行"
