"""Recall classes: numbers written the ways other projects' test suites and real text write them, each
with its hard negatives.

Every test states the behaviour the engine must have, with the exact span (`text[start:end]`) and the
normalized value. Facts about allocated ranges (MIIT segment allocations, card network IIN ranges, BIN
lengths of the npm bankcardinfo table):
- 174: only 17400-17405 (satellite, China Telecom), 17406-17412 (MIIT emergency communications) and
  1749 (maritime satellite) are allocated; every other 174 number is not a mobile.
- 13-digit IoT numbers: China Mobile 1440X, 1441X, 148XX; China Unicom 146XX; China Telecom 1410X.
- Mastercard: 16 digits, 51-55 and 2221-2720. UnionPay also issues from 81 (e.g. 8171); the Agricultural
  Bank of China has legacy 19-digit cards starting 103. A BIN whose cards are 19 digits (622202 ICBC,
  622848 ABC, 621700 CCB, 436742 CCB Visa, 9558 ICBC: lengths from data/bin_lengths.csv) does not
  make a 17-digit number a card.
Check characters and Luhn digits are computed here, never copied.
"""

import pytest

from recognizers import bank_card, detect, resident_id

FILL = "27182818284590452353602874713527"
"""Digits of e: a fixed, patternless filler for card bodies (no randomness, so no flaky tests)."""


def found(text, **kwargs):
    """(entity, text as written, normalized value) of each finding, in order of position."""
    return [(f.entity, text[f.start : f.end], f.value) for f in detect(text, **kwargs)]


def resident(body17: str) -> str:
    """An 18-character ID: the 17 digits and their MOD 11-2 check character."""
    return body17 + resident_id.calc_check_digit(body17)


def wrong_check(number: str) -> str:
    """The ID with a check character that does not match its first 17 digits."""
    return number[:17] + next(c for c in "0123456789X" if c != number[17])


def luhn_card(prefix: str, length: int) -> str:
    """A Luhn-valid number of `length` digits starting with `prefix`."""
    body = (prefix + FILL)[: length - 1]
    return body + bank_card.calc_check_digit(body)


def luhn_failing(prefix: str, length: int) -> str:
    valid = luhn_card(prefix, length)
    return valid[:-1] + str((int(valid[-1]) + 1) % 10)


def grouped(digits: str, sizes: tuple[int, ...], sep: str = " ") -> str:
    parts, at = [], 0
    for size in sizes:
        parts.append(digits[at : at + size])
        at += size
    return sep.join(parts)


def in_bin_tables(number: str) -> bool:
    return any(number.startswith(prefix) for prefix in bank_card.bins())


# The standard's example (GB 11643-1999) and a computed Shenzhen ID with a digit check character.
STANDARD_ID = "11010519491231002X"
SHENZHEN_ID = resident("44030519900615123")
LEGACY_ID = "110105491231002"  # the standard's example in its 15-digit form


# --- mobiles in the 174 block -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    [
        "17400123456",  # 17400-17405: satellite
        "17405987654",
        "17406123456",  # 17406-17412: emergency communications
        "17410234567",
        "17412345678",
        "17490123456",  # 1749: maritime satellite
        "17499876543",
    ],
)
def test_mobile_in_an_allocated_part_of_174_is_found(number):
    assert found(number) == [("CN_PHONE", number, number)]
    text = f"应急通信终端号码{number}，已登记"
    assert found(text) == [("CN_PHONE", number, number)]


def test_grouped_mobile_in_an_allocated_part_of_174_is_found():
    assert found("卫星电话 174 9012 3456") == [("CN_PHONE", "174 9012 3456", "17490123456")]


@pytest.mark.parametrize(
    "number", ["17413123456", "17420123456", "17455501234", "17488765432", "17489012345"]
)
@pytest.mark.parametrize("template", ["{}", "备注：{}", "会员{}已激活", '{{"uid": "{}"}}'])
def test_number_in_an_unallocated_part_of_174_is_not_a_mobile(number, template):
    assert detect(template.format(number)) == []


# --- 13-digit IoT numbers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    [
        "1440012345678",  # China Mobile 1440X
        "1441098765432",  # China Mobile 1441X
        "1480123456789",  # China Mobile 148XX
        "1465432109876",  # China Unicom 146XX
        "1410387654321",  # China Telecom 1410X
    ],
)
def test_iot_number_in_an_allocated_range_is_found_next_to_an_iot_label(number):
    text = f"物联网卡{number}本月流量超额"
    assert found(text) == [("CN_PHONE", number, number)]


@pytest.mark.parametrize(
    "number",
    [
        "1411012345678",  # 141 outside 1410X
        "1419912345678",
        "1442012345678",  # 144 outside 1440X/1441X
        "1447012345678",
        "1449123456789",
    ],
)
def test_iot_shaped_number_outside_the_allocated_ranges_is_not_found(number):
    assert detect(f"物联网卡{number}本月流量超额") == []
    assert detect(f"M2M SIM {number} 已停机") == []


# --- bank cards: Mastercard, UnionPay 81, ABC 103, lengths ---------------------------------------------


@pytest.mark.parametrize(
    "prefix",
    [
        "512345",  # 51-55, a BIN no offline table lists
        "558812",
        "222100",  # 2221-2720 (the 2-series), first and last BINs and one between
        "250012",
        "272099",
    ],
)
def test_bare_16_digit_mastercard_of_an_unlisted_bin_is_found(prefix):
    number = luhn_card(prefix, 16)
    assert not in_bin_tables(number)  # the network's own prefix and length must be enough
    assert found(number) == [("CN_BANK_CARD", number, number)]
    written = grouped(number, (4, 4, 4, 4))
    assert found(f"信用卡 {written} 已激活") == [("CN_BANK_CARD", written, number)]


@pytest.mark.parametrize("prefix", ["545619", "530990"])  # CMB and ICBC Mastercard credit BINs
def test_bare_16_digit_mastercard_of_a_listed_bin_is_found(prefix):
    assert prefix in bank_card.bins()
    number = luhn_card(prefix, 16)
    assert found(number) == [("CN_BANK_CARD", number, number)]


@pytest.mark.parametrize("prefix", ["512345", "558812", "222100", "272099"])
def test_17_digit_number_with_a_mastercard_prefix_is_not_a_card(prefix):
    number = luhn_card(prefix, 17)  # Luhn-valid, but no Mastercard number has 17 digits
    assert detect(number) == []
    assert detect(f"参考{number}") == []


@pytest.mark.parametrize("length", [16, 19])
def test_unionpay_card_in_the_81_range_is_found(length):
    number = luhn_card("8171", length)
    assert found(number) == [("CN_BANK_CARD", number, number)]
    assert found(f"银联卡号：{number}") == [("CN_BANK_CARD", number, number)]


def test_abc_legacy_19_digit_card_starting_103_is_found():
    number = luhn_card("103", 19)
    assert found(number) == [("CN_BANK_CARD", number, number)]
    written = grouped(number, (4, 4, 4, 4, 3))
    assert found(f"农行卡 {written} 代扣") == [("CN_BANK_CARD", written, number)]


def test_cnaps_code_starting_103_is_not_a_card():
    assert detect("开户行联行号103100000026") == []
    assert detect("103100000026") == []


@pytest.mark.parametrize("prefix", ["622202", "622848", "621700", "436742", "9558"])
def test_17_digit_number_with_a_19_digit_bin_is_not_a_validated_card(prefix):
    assert prefix in bank_card.bins()
    number = luhn_card(prefix, 17)
    assert detect(number) == []
    assert detect(f"流水{number}") == []
    # Next to a card label it may be reported as a plausible card (a known BIN plus context), never
    # as one the checks validated.
    assert all("validated" not in f.evidence for f in detect(f"卡号{number}"))


# --- bank cards: layout and the same number twice ------------------------------------------------------


def test_card_with_two_spaces_between_groups_is_found():
    text = "6222  0212  3456  7890  128"
    assert bank_card.calc_check_digit("622202123456789012") == "8"
    assert found(text) == [("CN_BANK_CARD", text, "6222021234567890128")]
    assert found(f"卡号：{text}，户名张三") == [("CN_BANK_CARD", text, "6222021234567890128"),
                                          ("CN_PERSON_NAME", "张三", "张三")]
    cmb = luhn_card("622588", 16)
    written = grouped(cmb, (4, 4, 4, 4), "  ")
    assert found(f"还款卡{written}") == [("CN_BANK_CARD", written, cmb)]


def test_two_mobiles_separated_by_two_spaces_are_two_phones_not_a_card():
    text = "13812345678  13987654321"
    assert found(text) == [
        ("CN_PHONE", "13812345678", "13812345678"),
        ("CN_PHONE", "13987654321", "13987654321"),
    ]


@pytest.mark.parametrize(
    "number",
    [
        "6222021234567890128",  # ICBC, 19 digits
        luhn_card("222100", 16),  # Mastercard 2-series
        luhn_card("8171", 19),  # UnionPay 81
    ],
)
def test_same_card_bare_and_grouped_in_one_note_is_found_both_times(number):
    sizes = (4, 4, 4, 4, 3) if len(number) == 19 else (4, 4, 4, 4)
    written = grouped(number, sizes)
    text = f"原卡{number}扣款失败，新卡号 {written}"
    assert found(text) == [("CN_BANK_CARD", number, number), ("CN_BANK_CARD", written, number)]


@pytest.mark.parametrize(
    "text",
    [
        "订单号" + luhn_failing("2023110512", 19),
        luhn_failing("2023110512", 19),
        "交易单号：" + luhn_failing("6200", 19),
        "DD" + luhn_failing("2024", 19),
    ],
)
def test_19_digit_order_number_failing_luhn_is_not_a_card(text):
    assert detect(text) == []


# --- resident IDs -------------------------------------------------------------------------------------


@pytest.mark.parametrize("number", [STANDARD_ID, SHENZHEN_ID])
@pytest.mark.parametrize("sizes", [(4, 4, 4, 4, 2), (6, 4, 4, 4)])
@pytest.mark.parametrize("sep", [" ", "-"])
def test_id_grouped_4_4_4_4_2_or_6_4_4_4_is_found(number, sizes, sep):
    written = grouped(number, sizes, sep)
    assert found(written) == [("CN_RESIDENT_ID", written, number)]
    assert found(f"身份证号：{written}，已核实") == [("CN_RESIDENT_ID", written, number)]


@pytest.mark.parametrize("column", ["身份证号", "id_no"])
@pytest.mark.parametrize("number", [wrong_check(STANDARD_ID), wrong_check(SHENZHEN_ID)])
def test_id_with_a_wrong_check_character_in_an_id_column_is_reported(column, number):
    findings = detect(number, column=column)
    assert [(f.entity, f.start, f.end, f.value) for f in findings] == [("CN_RESIDENT_ID", 0, 18, number)]
    assert findings[0].score >= 0.5
    assert "validated" not in findings[0].evidence  # low-strength evidence: the checksum failed


@pytest.mark.parametrize("label", ["身份证：", "身份证号 ", "居民身份证号码:"])
@pytest.mark.parametrize("number", [wrong_check(STANDARD_ID), wrong_check(SHENZHEN_ID)])
def test_id_with_a_wrong_check_character_right_after_an_id_label_is_reported(label, number):
    text = f"{label}{number}，请核对"
    findings = detect(text)
    assert [(f.entity, text[f.start : f.end], f.value) for f in findings] == [
        ("CN_RESIDENT_ID", number, number)
    ]
    assert findings[0].score >= 0.5
    assert "validated" not in findings[0].evidence


def test_card_failing_luhn_in_a_card_column_is_reported_the_same_way():
    number = luhn_failing("622202", 19)
    findings = detect(number, column="银行卡号")
    assert [(f.entity, f.value) for f in findings] == [("CN_BANK_CARD", number)]
    assert findings[0].score >= 0.5 and "validated" not in findings[0].evidence


@pytest.mark.parametrize(
    "text",
    [
        wrong_check(SHENZHEN_ID),  # no context: an 18-digit reference number
        "凭证号" + wrong_check(SHENZHEN_ID),
        "订单号" + wrong_check(STANDARD_ID),
    ],
)
def test_id_with_a_wrong_check_character_without_id_context_is_not_reported(text):
    assert detect(text) == []


@pytest.mark.parametrize(
    ("number", "upgraded"),
    [
        (LEGACY_ID, STANDARD_ID),
        ("440305900615123", resident("44030519900615123")),
        ("320102780101157", resident("32010219780101157")),
    ],
)
def test_legacy_15_digit_id_as_a_whole_value_is_found_without_context(number, upgraded):
    assert found(number) == [("CN_RESIDENT_ID", number, upgraded)]


@pytest.mark.parametrize(
    "text",
    [
        "110105491331002",  # month 13
        "000105491231002",  # no province 00
        "356938035643809",  # a Luhn-valid IMEI
        "123456789012345",
    ],
)
def test_15_digit_whole_value_that_is_no_legacy_id_is_not_found(text):
    assert [f for f in detect(text) if f.entity == "CN_RESIDENT_ID"] == []


# --- mobiles: trunk 0, separators, spoken numerals -------------------------------------------------------


@pytest.mark.parametrize("template", ["{}", "手机{}", "请回拨{}谢谢", "tel:{}"])
def test_trunk_zero_before_a_mobile_is_part_of_the_phone(template):
    # The span holds the trunk 0 (the number as dialled, one digit run); the value is the 11-digit mobile.
    text = template.format("013812345678")
    assert found(text) == [("CN_PHONE", "013812345678", "13812345678")]


@pytest.mark.parametrize("text", ["012345678901", "订单号013812345678", "0138123456789"])
def test_zero_led_runs_that_are_no_mobile_are_not_found(text):
    assert detect(text) == []


@pytest.mark.parametrize(
    ("written", "value"),
    [
        ("138.1234.5678", "13812345678"),
        ("138/1234/5678", "13812345678"),
        ("138_1234_5678", "13812345678"),
        ("1 3 8 1 2 3 4 5 6 7 8", "13812345678"),
        ("+86.139.1234.5678", "13912345678"),
    ],
)
@pytest.mark.parametrize("template", ["{}", "联系方式：{}", "手机 {} 张先生"])
def test_mobile_written_with_dots_slashes_underscores_or_spaced_digits_is_found(written, value, template):
    assert found(template.format(written)) == [("CN_PHONE", written, value)]


@pytest.mark.parametrize(
    "text",
    [
        "139.224.12.178",  # an IPv4 address (3-3-2-3) whose digits form a mobile
        "服务器 139.224.12.178:8080 超时",
        "139.12345678",  # a decimal number
        "2023.11.05",
        "2023.11.05 13:45 登记",
        "版本13.8.1234.5678",
        "2023/11/05",
        "IMG_20231105_135612.jpg",
        "1 3 8 1 2 3 4 5 6 7 8 9",  # twelve spaced digits: no phone inside a longer run
    ],
)
def test_dotted_slashed_and_spaced_look_alikes_are_not_phones(text):
    assert detect(text) == []


@pytest.mark.parametrize(
    ("written", "value"),
    [
        ("一三八一二三四五六七八", "13812345678"),
        ("幺三八幺二三四五六七八", "13812345678"),
        ("一三九〇〇一二三四五六", "13900123456"),
        ("幺三九零零幺二三四五六", "13900123456"),
        ("幺三八 幺二三四 五六七八", "13812345678"),
    ],
)
@pytest.mark.parametrize("template", ["{}", "客户：我手机号是{}，你记一下", "坐席：请问是{}吗？"])
def test_mobile_spoken_in_chinese_numerals_is_found(written, value, template):
    assert found(template.format(written)) == [("CN_PHONE", written, value)]


@pytest.mark.parametrize(
    "text",
    [
        "一二三木头人",
        "他一五一十地说了经过",
        "三三两两地走了",
        "签约日期二〇二三年十一月五日",
        "一二三四五六七八九〇一",  # 123… is no mobile segment
        "一三八一二三四五六七八九",  # twelve numerals: no phone inside a longer run
        "第一二三季度营收",
    ],
)
def test_chinese_numerals_that_are_no_phone_are_not_found(text):
    assert detect(text) == []


# --- landlines after a calling verb, lists of numbers ----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("有问题打02747643457", "02747643457"),
        ("有事打01062345678找前台", "01062345678"),
        ("请拨打02747643457", "02747643457"),
        ("已致电02747643457未接", "02747643457"),
        ("座机02747643457", "02747643457"),
        # Alone too, by an area code in use and a local number starting 2-9.
        ("备注05394175373已处理", "05394175373"),
        ("回访结果 053970484840 无人接", "053970484840"),
        ("01083268529", "01083268529"),
    ],
)
def test_landline_without_separators_after_a_calling_verb_or_alone_is_found(text, written):
    assert found(text) == [("CN_PHONE", written, written)]


@pytest.mark.parametrize("text", ["订单号02747643457", "批次02747643457", "打折券02747643457"])
def test_zero_led_11_digit_runs_labelled_as_something_else_are_not_landlines(text):
    assert detect(text) == []


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("(139)80086114", "(139)80086114"),
        ("电话(139) 8008 6114", "(139) 8008 6114"),
        ("单位电话00861064370148", "00861064370148"),
        ("+861064370148", "+861064370148"),
    ],
)
def test_a_mobile_with_its_segment_bracketed_and_a_landline_after_0086_unseparated_are_found(text, written):
    assert [(f.entity, text[f.start : f.end]) for f in detect(text)] == [("CN_PHONE", written)]


@pytest.mark.parametrize("text", ["备注00012345678", "备注02112345678", "备注05911234567", "备注0571123456"])
def test_zero_led_runs_with_no_area_code_in_use_or_local_number_are_not_landlines(text):
    assert detect(text) == []


def test_every_mobile_of_a_list_after_slash_or_enumeration_comma_is_found():
    text = "电话13812345678/13987654321、13700001111"
    assert found(text) == [
        ("CN_PHONE", "13812345678", "13812345678"),
        ("CN_PHONE", "13987654321", "13987654321"),
        ("CN_PHONE", "13700001111", "13700001111"),
    ]


def test_every_landline_of_a_list_is_found_far_from_its_label():
    text = "座机02747643457/02788886666、01062345678"
    assert found(text) == [
        ("CN_PHONE", "02747643457", "02747643457"),
        ("CN_PHONE", "02788886666", "02788886666"),
        ("CN_PHONE", "01062345678", "01062345678"),
    ]


# --- hard negatives across the classes -------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "金额13800000000.00元",
        "实付13812345678.5元",
        "订单号13812345678",
        "订单号20231105138123456789",
        "12345678901234567",  # 17 digits
        "20231105134512345",  # 17-digit yyyyMMddHHmmssSSS-like serial
        "17420123456",  # 174, unallocated
        "10.13.81.234",  # IPv4
        "2023.11.05",
    ],
)
def test_hard_negatives(text):
    assert detect(text) == []


@pytest.mark.parametrize(("text", "column", "number"), [
    ("13602452847.0", "sjhm", "13602452847"),
    ("电话13602452847.0", "remark", "13602452847"),
    (resident("11010519491231002") + ".0", "sfzh", resident("11010519491231002")),
])  # fmt: skip
def test_a_number_written_as_a_float_with_its_point_zero_is_found(text, column, number):
    """pandas writes a column it read as floats with `.0`; the number before it is found."""
    assert [(f[1], f[2]) for f in found(text, column=column)] == [(number, number)]


@pytest.mark.parametrize("text", ["金额13800000000.00元", "金额13800000000.0元", "13800000000.05"])
def test_an_amount_with_decimals_is_no_number(text):
    assert found(text) == []
