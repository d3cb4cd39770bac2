"""The columnar fast path must give exactly the answers `detect` gives for every value it decides."""

from __future__ import annotations

import random

import pyarrow as pa
import pytest
from faker import Faker

from pipeline.actions import build_action
from pipeline.actions.base import Target
from recognizers import bank_card, detect
from recognizers.bank_card import bins
from recognizers.columnar import find_bare
from recognizers.resident_id import calc_check_digit

ENTITIES = ("CN_RESIDENT_ID", "CN_PHONE", "CN_BANK_CARD")


def _written_forms(rng: random.Random) -> list[str]:
    """Many ways exports write IDs, phones and cards, valid and not, plus near misses."""
    faker = Faker("zh_CN")
    faker.seed_instance(rng.randrange(10**6))
    known = [b for b in bins() if len(b) == 6]
    values = []
    for _ in range(400):
        number = faker.ssn()
        values += [number, number.lower(), number[:17] + rng.choice("0123456789X"), "62" + number[2:],
                   number[:6] + " " + number[6:14] + " " + number[14:], number[:15]]
        body = number[:17]
        values.append(body[:2] + "9" + body[3:] + calc_check_digit(body[:2] + "9" + body[3:]))
        mobile = faker.phone_number()
        for prefix in ("", "+86 ", "+86", "0086 ", "86-", "(+86)", "(+86) ", "+86-"):
            values += [prefix + mobile, prefix + f"{mobile[:3]} {mobile[3:7]} {mobile[7:]}",
                       prefix + f"{mobile[:3]}-{mobile[3:7]}-{mobile[7:]}"]
        values += ["1" + rng.choice("0126") + mobile[2:], mobile[:3] + " " + mobile[3:], mobile + "0"]
        for length in (16, 17, 18, 19, 15):
            body = rng.choice([*known, "621700", "436742", "512345"]) + "".join(
                rng.choice("0123456789") for _ in range(length - 7))
            card = body + bank_card.calc_check_digit(body)
            values += [card, card[:-1] + str((int(card[-1]) + 1) % 10),
                       " ".join(card[i:i + 4] for i in range(0, length, 4)),
                       "-".join(card[i:i + 4] for i in range(0, length, 4)), card[:6] + " " + card[6:]]
    return values


@pytest.mark.parametrize("column", [None, "mobile", "bank_card", "sfzh", "card_no", "remark"])
@pytest.mark.parametrize("threshold", [0.0, 0.5, 0.9])
def test_fast_path_agrees_with_detect(column, threshold):
    values = _written_forms(random.Random(hash((column, threshold)) % 1000))
    decided = 0
    for bare in find_bare(pa.array(values), ENTITIES, column, threshold):
        for i, value, subtype in zip(bare.index.tolist(), bare.values, bare.subtypes, strict=True):
            found = detect(values[i], ENTITIES, column=column, threshold=threshold)
            assert len(found) == 1, (bare.entity, i)
            finding = found[0]
            assert (finding.entity, finding.start, finding.end) == (bare.entity, 0, len(values[i]))
            assert (finding.value, finding.subtype, finding.score) == (value, subtype, bare.score)
            decided += 1
    if threshold <= 0.85:  # validated without context scores 0.85: above that only named columns count
        assert decided > len(values) // 4  # the fast path does the bulk of the work, not a corner of it


def test_fast_path_respects_the_entities_asked_for():
    values = pa.array(["13812345678", "11010519491231003" + calc_check_digit("11010519491231003")])
    assert [b.entity for b in find_bare(values, ["CN_PHONE"], None, 0.5)] == ["CN_PHONE"]


@pytest.mark.parametrize("params", [{}, {"keep_first": 0, "keep_last": 4}, {"keep_first": 3, "char": "#"}])
def test_bulk_mask_equals_mask_per_value(params):
    mask = build_action("mask", params, None)
    values = _written_forms(random.Random(7))
    for bare in find_bare(pa.array(values), ENTITIES, None, 0.5):
        written = [values[i] for i in bare.index.tolist()]
        bulk = mask.replace_whole(bare.entity, pa.array(written), pa.array(bare.values)).to_pylist()
        one_by_one = [mask.replace(Target(bare.entity, v, s, w, True))
                      for v, s, w in zip(bare.values, bare.subtypes, written, strict=True)]
        assert bulk == one_by_one
