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


def test_one_bank_has_one_name():
    """The postal savings bank has one name whatever its BIN (the analytics release once named it two
    ways)."""
    from recognizers.bank_card import issuer

    assert issuer("6217991234567890124") == issuer("6221881234567890129") == "邮储银行"
