"""`detect` on text: spans into the original string, context, overlap resolution, hard negatives."""

import json
from pathlib import Path

import pytest

from recognizers import bank_card, detect, resident_id
from recognizers.detector import detect_many

CORE = {"CN_RESIDENT_ID", "CN_PHONE", "CN_BANK_CARD", "CN_PERSON_NAME", "CN_ADDRESS"}
LABELS = {"CN_NAME": "CN_PERSON_NAME"}
"""The shared cases call names `CN_NAME`."""
TRICKY = json.loads((Path(__file__).parent / "corpora" / "shared_tricky.json").read_text(encoding="utf-8"))


DECIDED_OTHERWISE = {"c021": [("CN_RESIDENT_ID", 5, 23)],
                     "c004": [("CN_PERSON_NAME", 0, 2), ("CN_RESIDENT_ID", 2, 20)]}
"""Shared cases whose label cnpii deliberately departs from: c021 is an ID with a wrong check character
right after `身份证号：`; a mistyped ID under an ID label is still somebody's ID, so it is reported (as
plausible), the way a Luhn-failing card under a card label is. c004 (`张三3101…男`, a case of the IDs)
labels no name, though the set labels 张三 in a field of its own (c162): a name that starts a value and
runs into a number is that person's (`钱一鸣[1356…]`, `王芳13812345678`), so it is reported."""


@pytest.mark.parametrize("case", TRICKY, ids=[c["id"] for c in TRICKY])
def test_tricky_cases_exact_spans(case):
    """Every hand-checked edge case: the registered types found exactly where labeled, nothing else."""
    text = case["text"]
    labels = ((LABELS.get(e["type"], e["type"]), e["start"], e["end"]) for e in case["entities"])
    gold = sorted(label for label in labels if label[0] in CORE)
    gold = DECIDED_OTHERWISE.get(case["id"], gold)
    found = sorted((f.entity, f.start, f.end) for f in detect(text))
    assert found == gold, case["note"]


def spans(text, **kwargs):
    return [(f.entity, text[f.start : f.end]) for f in detect(text, **kwargs)]


def test_offsets_index_the_original_text_across_zero_width_and_fullwidth():
    text = "手机１３８\u200b0013８000，卡号6222\u00a00200 0000 0000 000"
    assert spans(text) == [
        ("CN_PHONE", "１３８\u200b0013８000"),
        ("CN_BANK_CARD", "6222\u00a00200 0000 0000 000"),
    ]


def test_values_are_canonical_however_written():
    values = {f.value for t in ("+86 138-0013-8000", "13800138000", "0086 13800138000") for f in detect(t)}
    assert values == {"13800138000"}
    assert detect("老身份证110105491231002")[0].value == "11010519491231002X"


def test_scores_order_validated_with_context_above_validated_above_plausible():
    with_context = detect("手机号13800138000")[0].score
    bare = detect("13800138000")[0].score
    plausible = detect("物联网卡1440123456789")[0].score
    assert with_context > bare > plausible >= 0.5
    assert detect("1440123456789") == []  # IoT-shaped without context: a millisecond timestamp


def test_column_name_is_context():
    assert detect("客户 110105491231002 到访") == []  # a legacy ID in text needs a label or a column
    assert spans("110105491231002", column="sfzh") == [("CN_RESIDENT_ID", "110105491231002")]
    assert spans("110105491231002", column="借款人身份证号") == [("CN_RESIDENT_ID", "110105491231002")]
    assert detect("客户 110105491231002 到访", column="customer_id") == []


def test_legacy_id_as_a_whole_value_needs_no_context():
    """A cell that is nothing but a 15-digit legacy ID (valid province and date) is that ID."""
    assert spans(" 110105491231002 ") == [("CN_RESIDENT_ID", "110105491231002")]
    assert detect("110105491399002") == []  # month 13


def test_negative_label_right_before_number_wins():
    assert detect("订单号13812345678") == []
    assert spans("时间：2023-11-05 客户13800138000") == [("CN_PHONE", "13800138000")]


def test_id_that_is_also_a_luhn_valid_unionpay_number():
    # A Gansu (62…) ID can pass Luhn too: the ID checksum wins unless the text says card.
    bodies = (f"62010219900101{seq:03d}" for seq in range(1000))
    ids = (b + resident_id.calc_check_digit(b) for b in bodies)
    gansu_id = next(n for n in ids if n.isdigit() and bank_card.luhn_valid(n))
    assert spans(gansu_id) == [("CN_RESIDENT_ID", gansu_id)]
    assert spans("卡号" + gansu_id) == [("CN_BANK_CARD", gansu_id)]
    assert detect("卡号" + gansu_id, ["CN_RESIDENT_ID"]) == []


def test_entities_filter_and_threshold():
    text = "手机13800138000 身份证11010519491231002X"
    assert [f.entity for f in detect(text, ["CN_PHONE"])] == ["CN_PHONE"]
    assert detect("13800138000", threshold=0.9) == []


@pytest.mark.parametrize(
    "text",
    [
        "金额13800000000.00元",
        "时间戳1699158645123",
        "订单号20230518115928486994",
        "IMEI 356938035643809",
        "客服热线400-810-8888",
        "已脱敏138****5678 622202******1234 110105********002X",
        "统一社会信用代码91110000600037341L",
        "快递单号SF1331577737193",
        "坐标 113.800138000",
        "https://example.com/item/13812345678901",
    ],
)
def test_hard_negatives(text):
    assert detect(text) == []


def test_finding_repr_hides_the_value():
    assert "13800138000" not in repr(detect("13800138000")[0])


def test_a_phone_glued_to_a_latin_x_is_found_without_the_x():
    """An `x` after digits may be an ID's check character or just a letter: both readings are tried."""
    for text in ("电话13800138000x", "电话13800138000xxxx"):
        assert [(f.entity, text[f.start:f.end]) for f in detect(text)] == [("CN_PHONE", "13800138000")]


def test_a_fifteen_digit_card_in_a_card_column_is_not_a_legacy_id():
    card = "622202490819356"  # also reads as a legacy ID (622202, born 1949-08-19)
    assert [f.entity for f in detect(card)] == ["CN_RESIDENT_ID"]
    assert [f.entity for f in detect(card, column="yhkh")] == ["CN_BANK_CARD"]


def test_a_card_written_in_groups_is_one_number_to_its_last_group():
    """`6217 9987 7948 0186 00` (18 digits): a Luhn-valid 16-digit prefix must not win and leave `00`."""
    text = "6217 9987 7948 0186 00"
    assert spans(text, column="bank_card") == [("CN_BANK_CARD", text)]


def test_a_sixteen_digit_card_under_a_bin_listed_with_nineteen_is_still_a_card():
    """The BIN length table lists one length per rule; 16 and 19 digits are standard for any BIN."""
    body = "436742081037707"
    card = body + bank_card.calc_check_digit(body)
    assert spans("工资卡" + card) == [("CN_BANK_CARD", card)]
    assert detect(card)[0].score == 0.85


def test_many_texts_at_once_give_what_each_gives_alone():
    """A batch is findings per text: nothing of one text (a label, a list) reaches into the next."""
    texts = [case["text"] for case in TRICKY] + ["手机", "13812345678", "卡号", "6222020000000000000"]
    assert detect_many(texts) == [detect(text) for text in texts]
    assert detect_many(texts, ["CN_PHONE"], column="sjhm", threshold=0.3) == [
        detect(text, ["CN_PHONE"], column="sjhm", threshold=0.3) for text in texts]
