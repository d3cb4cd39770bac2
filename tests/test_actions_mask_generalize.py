"""mask and generalize: display presets on written forms, caps, idempotence, no re-detection; coarse
attributes of real values; vectorized date and amount generalization over Arrow types."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import random

import pyarrow as pa
import pytest
from faker import Faker

from pipeline.actions import ActionConfigError, Target, action_params, build_action
from pipeline.actions.generalize import card_type, generalize_amounts, generalize_dates
from recognizers import corpus, detect
from recognizers.registry import REGISTRY
from recognizers.resident_id import calc_check_digit

ID = "CN_RESIDENT_ID"
PHONE = "CN_PHONE"
CARD = "CN_BANK_CARD"


def _id(body: str) -> str:
    return body + calc_check_digit(body)


SHENZHEN_MAN_1990 = _id("44030519900615123")  # sequence 123: odd, male
SHENZHEN_WOMAN_1990 = _id("44030519900615124")
HK_PERMIT = _id("81000019851203002")
FOREIGN_RESIDENT = _id("94484019800101001")  # 9 + province 44 + country 840


def _mask(params: dict | None = None):
    return build_action("mask", params or {}, None)


def _found(text: str) -> Target:
    """The target `detect` makes of a text that holds exactly one entity (with its context)."""
    [finding] = detect(text)
    written = text[finding.start : finding.end]
    return Target(finding.entity, finding.value, finding.subtype, written, written == text.strip())


def _masked_text(text: str, action) -> str:
    """`text` with every entity found replaced by `action`'s output (as the pipeline does)."""
    pieces, cursor = [], 0
    for finding in detect(text):
        written = text[finding.start : finding.end]
        pieces += [text[cursor : finding.start], action.replace(Target(finding.entity, finding.value,
                                                                       finding.subtype, written))]
        cursor = finding.end
    return "".join(pieces) + text[cursor:]


# --- mask presets -----------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("13812345678", "138****5678"),
        ("+86 138-1234-5678", "+86 138-****-5678"),
        ("0086 13812345678", "0086 138****5678"),
        ("(+86)138 1234 5678", "(+86)138 **** 5678"),
        ("8613812345678", "86138****5678"),
        ("１３８１２３４５６７８", "１３８****５６７８"),
        ("＋８６ １３８－１２３４－５６７８", "＋８６ １３８－****－５６７８"),
        ("138\u200b1234\u200b5678", "138\u200b****\u200b5678"),
        ("010-62345678", "010-****5678"),
        ("(0755)8600 1234", "(0755)**** 1234"),
        ("0755-86001234", "0755-****1234"),
        ("+86 10 6234 5678", "+86 10 **** 5678"),
        ("物联网卡1440000123456", "物联网卡144******3456"),
        ("卡号6222 0200 0000 1234", "卡号6222 02** **** 1234"),
        ("卡号6222020000000000000", "卡号622202*********0000"),
        ("6225-8801-2345-6783", "6225-88**-****-6783"),
        ("11010519491231002X", "1****************X"),
        ("１１０１０５１９４９１２３１００２ｘ", "１****************ｘ"),
        ("110105 19491231 002X", "1***** ******** ***X"),
        ("身份证110105491231002", "身份证1*************2"),
        (HK_PERMIT, HK_PERMIT[0] + "*" * 16 + HK_PERMIT[-1]),
        (FOREIGN_RESIDENT, FOREIGN_RESIDENT[0] + "*" * 16 + FOREIGN_RESIDENT[-1]),
        ("通行证H12345678", "通行证H*******8"),
    ],
)
def test_presets_keep_the_written_form(text, expected):
    assert _masked_text(text, _mask()) == expected


@pytest.mark.parametrize(
    ("params", "text", "expected"),
    [
        ({"keep_first": 0, "keep_last": 4}, "卡号6222 0200 0000 1234", "卡号**** **** **** 1234"),
        ({"keep_first": 6, "keep_last": 4}, "11010519491231002X", "110105********002X"),
        ({"keep_first": 6, "keep_last": 4}, "身份证110105491231002", "身份证110105******002"),  # no date
        ({"keep_first": 6, "keep_last": 4}, "通行证H12345678", "通行证H*******8"),
        ({"keep_first": 0, "keep_last": 0}, "13812345678", "***********"),
        ({"keep_first": 3, "keep_last": 2}, "0755-86001234", "075*-******34"),
        ({"char": "•"}, "13812345678", "138••••5678"),
    ],
)
def test_parameters_apply_within_the_caps(params, text, expected):
    assert _masked_text(text, _mask(params)) == expected


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"keep_first": 7}, "keep_first"),
        ({"keep_last": 5}, "keep_last"),
        ({"keep_first": -1}, "keep_first"),
        ({"char": "1"}, "char"),
        ({"char": "１"}, "char"),
        ({"char": "X"}, "char"),
        ({"char": "**"}, "char"),
        ({"char": ""}, "char"),
        ({"char": " "}, "char"),
        ({"char": "-"}, "char"),
        ({"char": "＋"}, "char"),
        ({"keep_all": True}, "keep_all"),
    ],
)
def test_parameters_beyond_the_caps_are_refused(params, parameter):
    with pytest.raises(ActionConfigError, match=parameter):
        _mask(params)


def test_a_phone_shows_at_most_three_first_digits():
    mask = _mask({"keep_first": 6})
    assert mask.replace(_found("卡号6222 0200 0000 1234")) == "6222 02** **** 1234"
    with pytest.raises(ActionConfigError, match=r"keep_first=6.*CN_PHONE") as raised:
        mask.replace(_found("13812345678"))
    assert "5678" not in str(raised.value)


@pytest.mark.parametrize("number", [SHENZHEN_MAN_1990, "440305900615123", FOREIGN_RESIDENT])
def test_no_parameters_reveal_the_birth_date(number):
    date = slice(6, 14) if len(number) == 18 else slice(6, 12)
    for first in range(7):
        for last in range(5):
            masked = _mask({"keep_first": first, "keep_last": last}).replace(_found(f"身份证{number}"))
            assert set(masked[date]) == {"*"}, (first, last)


@pytest.mark.parametrize(
    ("written", "expected"),
    [("无", "*"), ("138 1234", "*** ****"), ("13812345678*", "************"), (" 未提供 ", " *** "),
     ("1949****", "********"), ("1101051949****002X", "******************"),
     ("138****5678 张三", "*********** **")],
)
def test_declared_values_that_do_not_parse_are_masked_whole(written, expected):
    entity = ID if "1949" in written else PHONE
    target = Target(entity, "".join(written.split()), "declared", written, True)
    assert _mask().replace(target) == expected


PRESET_OUTPUTS = [
    (PHONE, "138****5678"), (PHONE, "+86 138-****-5678"), (PHONE, "010-****5678"), (PHONE, "(0755)**** 1234"),
    (PHONE, "+86 10 **** 5678"), (PHONE, "144******3456"), (CARD, "6222 02** **** 1234"),
    (CARD, "622202*********0000"), (ID, "1****************X"), (ID, "1*************2"), (ID, "H*******8"),
    (PHONE, "*"), (PHONE, "*** ****"),
]


@pytest.mark.parametrize(("entity", "masked"), PRESET_OUTPUTS)
def test_masking_is_idempotent(entity, masked):
    assert detect(masked) == []  # a scanned column leaves it alone
    declared = Target(entity, "".join(masked.split()), "declared", masked, True)
    assert _mask().replace(declared) == masked  # and so does a declared one


def _generated() -> list[str]:
    """Written IDs, phones and cards from Faker zh_CN and the recognizers' corpus generators."""
    fake, rng = Faker("zh_CN"), random.Random(7)
    fake.seed_instance(7)
    texts = [f"身份证{fake.ssn()}" for _ in range(150)]
    texts += [f"手机{fake.phone_number()}" for _ in range(150)]
    texts += [f"卡号{fake.credit_card_number()}" for _ in range(150)]
    for make, label in ((corpus.id_number, "身份证"), (corpus.legacy_id, "身份证"), (corpus.mobile, "手机"),
                        (corpus.landline, "电话"), (corpus.iot, "物联网卡"), (corpus.card, "卡号"),
                        (corpus.card_failing_luhn, "卡号")):
        texts += [f"{label}{make(rng, fake).text}" for _ in range(60)]
    return texts


@pytest.mark.parametrize("params", [{}, {"keep_first": 0, "keep_last": 4}, {"keep_first": 3, "keep_last": 4}])
def test_masked_output_is_not_detected_again(params):
    mask = _mask(params)
    texts = _generated()
    found = 0
    for text in texts:
        findings = detect(text)
        found += bool(findings)
        masked = _masked_text(text, mask)
        assert detect(masked, threshold=0.3) == [], masked
        assert _masked_text(masked, mask) == masked
    assert found >= 0.9 * len(texts)


# --- generalize ---------------------------------------------------------------------------------------------

def _generalize(to, **params):
    return build_action("generalize", {"to": to, **params}, None)


@pytest.mark.parametrize(
    ("to", "number", "expected"),
    [
        ("birth_year", SHENZHEN_MAN_1990, "1990年"),
        ("birth_year", "440305900615123", "1990年"),  # legacy 15 digits: 19 + YY
        ("gender", SHENZHEN_MAN_1990, "男"),
        ("gender", SHENZHEN_WOMAN_1990, "女"),
        ("province", SHENZHEN_MAN_1990, "广东省"),
        ("city", SHENZHEN_MAN_1990, "深圳市"),
        ("city", _id("11010519491231002"), "北京市"),
        ("province", HK_PERMIT, "香港特别行政区"),
        ("city", HK_PERMIT, "未知"),
        ("province", FOREIGN_RESIDENT, "广东省"),
        ("birth_year", FOREIGN_RESIDENT, "1980年"),
        ("birth_year", "H12345678", "未知"),  # a travel permit encodes no birth date
    ],
)
def test_resident_id_choices(to, number, expected):
    assert _generalize(to).replace(Target(ID, number, "resident")) == expected


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [("2020-06-14", "20-29岁"), ("2020-06-15", "30-39岁"), ("2030-06-14", "30-39岁"),
     ("2030-06-15", "40-49岁"), ("1980-01-01", "未知")],
)
def test_age_bands_count_at_as_of(as_of, expected):
    action = _generalize("age_band", as_of=as_of)
    assert action.replace(Target(ID, SHENZHEN_MAN_1990, "resident")) == expected


def test_age_bands_default_to_the_start_of_this_year():
    assert _generalize("age_band").params.as_of == dt.date(dt.date.today().year, 1, 1)


@pytest.mark.parametrize(
    ("to", "number", "subtype", "expected"),
    [
        ("carrier", "13800138000", "mobile", "中国移动"),
        ("province", "13800138000", "mobile", "北京市"),
        ("city", "13800138000", "mobile", "北京市"),
        ("province", "13480001234", "mobile", "广东省"),
        ("city", "13480001234", "mobile", "东莞市"),
        ("province", "075586001234", "landline", "广东省"),
        ("city", "075586001234", "landline", "深圳市"),
        ("carrier", "075586001234", "landline", "未知"),
        ("province", "02886001234", "landline", "四川省"),
        ("city", "02886001234", "landline", "未知"),  # 028 serves 成都, 资阳 and 眉山
        ("city", "1440000123456", "iot_13_digit", "未知"),
    ],
)
def test_phone_choices(to, number, subtype, expected):
    assert _generalize(to).replace(Target(PHONE, number, subtype)) == expected


@pytest.mark.parametrize(
    ("to", "number", "expected"),
    [
        ("bank", "6225880123456783", "招商银行"),
        ("card_type", "6225880123456783", "借记卡"),
        ("bank_and_type", "6225880123456783", "招商银行 借记卡"),
        ("card_type", "6225770000000000", "信用卡"),
        ("bank", "6222020000000000000", "工商银行"),
        ("bank", "6200000000000000", "未知"),
        ("bank_and_type", "6200000000000000", "未知"),
    ],
)
def test_card_choices(to, number, expected):
    assert _generalize(to).replace(Target(CARD, number, "UnionPay")) == expected


@pytest.mark.parametrize(
    ("product", "kind"),
    [("龙卡通", "借记卡"), ("牡丹灵通卡", "借记卡"), ("准贷记卡(个普)", "准贷记卡"), ("VISA信用卡", "信用卡"),
     ("预付卡", "预付卡"), ("E时代卡", "")],
)
def test_card_type_from_product_names(product, kind):
    assert card_type(product) == kind


@pytest.mark.parametrize(("entity", "to"), [(ID, "birth_year"), (PHONE, "carrier"), (CARD, "bank")])
def test_declared_values_that_do_not_parse_are_unknown(entity, to):
    assert _generalize(to).replace(Target(entity, "无", "declared", "无", True)) == "未知"


def test_one_rule_for_several_entities():
    action = _generalize({ID: "province", PHONE: "carrier"})
    assert action.replace(Target(ID, SHENZHEN_MAN_1990, "resident")) == "广东省"
    assert action.replace(Target(PHONE, "13800138000", "mobile")) == "中国移动"
    with pytest.raises(ActionConfigError, match=f"no choice for {CARD}"):
        action.replace(Target(CARD, "6225880123456783", "UnionPay"))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"to": "month"}, "to: .*unknown choice 'month'"),
        ({"to": {PHONE: "bank"}}, f"'bank' does not apply to {PHONE}"),
        ({"to": {"CN_NAME": "city"}}, "unknown entity 'CN_NAME'"),
        ({"to": "city", "as_of": "yesterday"}, "as_of"),
        ({"to": "city", "edges": [1]}, "edges"),
        ({}, "to"),
    ],
)
def test_generalize_parameters_are_checked_at_build(params, message):
    with pytest.raises(ActionConfigError, match=message):
        build_action("generalize", params, None)


def test_a_choice_that_does_not_fit_the_entity_is_refused_without_the_value():
    with pytest.raises(ActionConfigError, match=f"to='bank' does not apply to {PHONE}") as raised:
        _generalize("bank").replace(Target(PHONE, "13800138000", "mobile", "13800138000"))
    assert "13800138000" not in str(raised.value)


# --- whole columns -----------------------------------------------------------------------------------------

MARCH_5 = dt.date(2024, 3, 5)


@pytest.mark.parametrize(
    "array",
    [
        pa.array([MARCH_5, None], pa.date32()),
        pa.array([MARCH_5, None], pa.date64()),
        pa.array([dt.datetime(2024, 3, 5, 23, 59), None], pa.timestamp("s")),
        pa.array([dt.datetime(2024, 3, 5, 12), None], pa.timestamp("ms")),
        pa.array([dt.datetime(2024, 3, 5, 12), None], pa.timestamp("ns")),
        # 2024-03-04 20:00 UTC is 2024-03-05 04:00 in Shanghai: a zoned timestamp counts in its own zone
        pa.array([dt.datetime(2024, 3, 4, 20, tzinfo=dt.UTC), None], pa.timestamp("us", tz="UTC"))
        .cast(pa.timestamp("us", tz="Asia/Shanghai")),
        pa.array(["2024-03-05", None]),
        pa.array(["2024-03-05", None], pa.large_string()),
        pa.array(["2024-03-05", None]).dictionary_encode(),
    ],
    ids=lambda a: str(a.type),
)
@pytest.mark.parametrize(("to", "expected"), [("month", "2024-03"), ("year", "2024")])
def test_dates_of_every_arrow_type(array, to, expected):
    result = generalize_dates(array, to)
    assert result.type == pa.string()
    assert result.to_pylist() == [expected, None]


def test_date_strings_are_read_or_unknown():
    texts = ["2024-03-15", "2024/3/5", "2024.03", "20240315", "2024年3月15日", "2024-03-15T10:00:00+08:00",
             " 2024-03-15 08:30 ", "2024-13-01", "15/03/2024", "13800138000", "x", "", None]
    assert generalize_dates(pa.array(texts), "month").to_pylist() == (
        ["2024-03"] * 7 + ["未知"] * 5 + [None]
    )


def test_dates_refuse_other_types_and_choices():
    with pytest.raises(ValueError, match="int64"):
        generalize_dates(pa.array([20240305]), "year")
    with pytest.raises(ValueError, match="'week'"):
        generalize_dates(pa.array([MARCH_5]), "week")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "array",
    [
        pa.array([999, 1000, 4999, 5000, 50000, None], pa.int32()),
        pa.array([999, 1000, 4999, 5000, 50000, None], pa.int64()),
        pa.array([999.99, 1000.0, 4999.5, 5000.0, 1e9, None], pa.float64()),
        pa.array([decimal.Decimal(v) if v else None for v in ("999.99", "1000.00", "4999.99", "5000.00",
                                                                  "50000.00", None)], pa.decimal128(12, 2)),
    ],
    ids=lambda a: str(a.type),
)
def test_amounts_of_every_numeric_type(array):
    result = generalize_amounts(array, [1000, 5000, 50000])
    assert result.type == pa.string()
    assert result.to_pylist() == ["<1000", "1000-5000", "1000-5000", "5000-50000", ">=50000", None]


def test_amounts_nan_is_unknown_and_edges_may_be_fractional():
    result = generalize_amounts(pa.array([0.25, float("nan"), 0.5, float("-inf"), None]), [0.5])
    assert result.to_pylist() == ["<0.5", "未知", ">=0.5", "<0.5", None]


def test_amounts_refuse_bad_edges_and_types():
    for edges in ([], [5000, 1000], [1000, 1000]):
        with pytest.raises(ValueError, match="edges"):
            generalize_amounts(pa.array([1]), edges)
    with pytest.raises(ValueError, match="string"):
        generalize_amounts(pa.array(["1000"]), [1000])


def test_an_entity_without_a_mask_layout_is_masked_whole_and_refuses_shown_characters(monkeypatch):
    """A registered entity that declares no mask layout (a text entity, say) is masked over its whole
    span, and a policy asking to show part of it is refused when it loads, not mid-run."""
    monkeypatch.setitem(REGISTRY, "CN_TEST", dataclasses.replace(
        REGISTRY["CN_PHONE"], name="CN_TEST", mask_keep=None, mask_layout=None))
    assert build_action("mask", {}, None).replace(Target("CN_TEST", "ab12", "", "ab 12")) == "** **"
    with pytest.raises(ActionConfigError, match="keep_first=1 shows too much of a CN_TEST"):
        action_params("mask", {"keep_first": 1}).check_entity("CN_TEST")
    with pytest.raises(ActionConfigError, match="no faker for CN_TEST"):
        action_params("fake", {}).check_entity("CN_TEST")
