"""Phone number format rules: mobile segments, IoT numbers, landlines with area codes."""

import pytest

from recognizers import detect, phone, segments


@pytest.mark.parametrize(
    ("written", "national"),
    [
        ("13800138000", "13800138000"),
        ("+86 138 0013 8000", "13800138000"),
        ("0086-138-0013-8000", "13800138000"),
        ("86-13800138000", "13800138000"),
        ("(+86)13800138000", "13800138000"),
        ("1380 0138 000", "13800138000"),
        ("＋８６\u3000１３８－００１３－８０００", "13800138000"),
        ("1440123456789", "1440123456789"),
        ("010-62345678", "01062345678"),
        ("(0755)86001234", "075586001234"),
        ("（0891）6812345", "08916812345"),
        ("+86 10 6234 5678", "01062345678"),
        ("0351 8777 311", "03518777311"),
    ],
)
def test_compact_gives_one_national_form(written, national):
    assert phone.compact(written) == national


@pytest.mark.parametrize(
    "segment",
    [
        "130",
        "145",
        "147",
        "149",
        "150",
        "162",
        "165",
        "166",
        "167",
        "170",
        "171",
        "173",
        "184",
        "190",
        "192",
        "196",
        "197",
        "199",
    ],
)
def test_every_allocated_segment_is_valid(segment):
    assert phone.is_valid(segment + "12345678")


@pytest.mark.parametrize(
    "number",
    [
        "10012345678",
        "11012345678",
        "12012345678",
        "15412345678",
        "19412345678",
        "0000-1234567",
        "13800138000.00",
    ],
)
def test_unallocated_or_malformed_numbers_are_invalid(number):
    assert not phone.is_valid(number)


def test_kind_and_segment_info():
    assert phone.kind("13800138000") == "mobile"
    assert phone.kind("021 6123 4567") == "landline"
    assert phone.kind("1410012345678") == "iot_13_digit"
    info = phone.segment_info("13800138000")
    assert info["carrier"] == "移动" and info["province"] == "北京"


def test_area_codes_come_from_the_segment_table():
    codes = segments.area_codes()
    assert {"010", "021", "0755", "0891"} <= codes
    assert "0000" not in codes and len(codes) > 300


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("电话0755-8600-1234-8023", (2, 16)),  # dash extension: 16 digits, but no card starts with 0
        ("电话020 2303 6804-8023", (2, 15)),
        ("李雷\t13800138000\t518000\t深圳", (3, 14)),  # a tab-separated row: no card is written 11-6
    ],
)
def test_phone_followed_by_a_short_group_is_not_a_card_fragment(text, span):
    assert [(f.start, f.end) for f in detect(text, ["CN_PHONE"])] == [span]


@pytest.mark.parametrize(
    "run",
    ["6226 0936 9012 6792", "6222 0200 0000 0000 000", "622202 13800138000", "3714 496353 98431",
     "6222  0212  3456  7890  128"],
)
def test_phone_inside_a_number_written_as_a_card_is_not_reported(run):
    """A run laid out as a card (4-4-4-4, BIN then the rest, 4-6-5) is one number, whatever its checksum."""
    assert detect("卡号" + run, ["CN_PHONE"]) == []
