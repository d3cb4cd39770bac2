"""Bank card format rules: Luhn, BINs, lengths, networks."""

import random

import pyarrow as pa
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


def test_known_bins_in_bulk_are_known_bin_of_each_value():
    """The bulk lookup (BINs as sorted integers, per length) against the scalar one (string prefixes in
    the table), on BIN-prefixed and random digit strings of every length from 0 to 19, and nulls."""
    rng = random.Random(11)
    listed = sorted(bank_card.bins())
    values = []
    for _ in range(5000):
        head = rng.choice(listed) if rng.random() < 0.6 else str(rng.randrange(10**7))
        values.append((head + "".join(rng.choice("0123456789") for _ in range(19)))[: rng.randrange(20)])
    values += [None, "6217", "621700"]
    expected = [bank_card.known_bin(v) if v is not None else None for v in values]
    assert sum(e is not None for e in expected) > 1000
    assert bank_card.known_bins(pa.array(values, pa.string())).to_pylist() == expected


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
