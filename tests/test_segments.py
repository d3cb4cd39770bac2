"""The vendored phone segment tables (recognizers/segments.py, recognizers/data/phone_*).

The first tests need no `phone` package: known prefixes and area codes, sizes, order and the lookups'
edges. The last ones compare every record with the `phone` package the tables were built from, which the
test extra pins (cnpii itself no longer needs it at run time).
"""

from __future__ import annotations

import fnmatch
import importlib.metadata
import re
import struct
import tomllib
from pathlib import Path

import numpy as np
import pytest

from recognizers import segments

ROOT = Path(__file__).resolve().parents[1]


# --- without the phone package ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prefix", "province", "city", "carrier"),
    [
        ("1380013", "北京", "北京", "移动"),
        ("1300000", "山东", "济南", "联通"),
        ("1860000", "北京", "北京", "联通"),
        ("1330000", "广西", "南宁", "电信"),
        ("1920000", "广东", "佛山", "广电"),
        ("1999979", "新疆", "石河子", "电信"),  # the last record
    ],
)
def test_known_prefixes(prefix, province, city, carrier):
    assert segments.segment_info(prefix) == {"province": province, "city": city, "carrier": carrier}


def test_a_whole_mobile_is_looked_up_by_its_first_seven_digits():
    assert segments.segment_info("13800138000") == segments.segment_info("1380013")


@pytest.mark.parametrize("prefix", ["1990000", "1000000", "1999999", "9999999", "0000000"])
def test_prefixes_without_a_segment_give_empty_strings(prefix):
    assert segments.segment_info(prefix) == {"province": "", "city": "", "carrier": ""}


@pytest.mark.parametrize("number", ["138001", "", "abcdefg", "１３８００１３", "138-0013-8000"])
def test_segment_info_needs_seven_ascii_digits(number):
    with pytest.raises(ValueError, match="7 ASCII digits"):
        segments.segment_info(number)


@pytest.mark.parametrize(
    ("code", "place"),
    [
        ("010", ("北京", "北京")),
        ("021", ("上海", "上海")),
        ("0755", ("广东", "深圳")),
        ("0571", ("浙江", "杭州")),
        ("0891", ("西藏", "拉萨")),
        ("028", ("四川", "")),  # 成都, 资阳, 眉山
        ("023", ("重庆", "")),  # 重庆, 万州, 涪陵, 黔江
        ("0898", ("海南", "")),
    ],
)
def test_known_area_codes(code, place):
    assert segments.area_places()[code] == place
    assert code in segments.area_codes()


def test_area_codes_are_the_dialled_forms_of_the_place_records():
    codes = segments.area_codes()
    assert len(codes) == 321
    assert all(segments.AREA_CODE.fullmatch(code) for code in codes)
    assert "00479" in segments.area_places()  # a stray record in the source, kept in the place table
    assert "00479" not in codes
    assert set(segments.area_places()) - codes == {"00479"}


def test_one_province_per_area_code():
    provinces: dict[str, set[str]] = {}
    for place in segments.places():
        provinces.setdefault(place.area_code, set()).add(place.province)
    assert all(len(found) == 1 for found in provinces.values())


def test_sizes_and_order():
    records = segments.segment_records()
    assert records.dtype == segments.SEGMENT_RECORD
    assert len(records) == 499_527
    assert len(segments.places()) == 377
    assert len(segments.area_places()) == 322
    assert np.all(np.diff(records["prefix"]) > 0)
    assert records["prefix"][0] == 1_300_000 and records["prefix"][-1] == 1_999_979
    assert int(records["place"].max()) < len(segments.places())
    assert int(records["carrier"].max()) < len(segments.carrier_names())
    assert segments.carrier_names()[0] == ""
    assert set(np.unique(records["carrier"]).tolist()) == set(range(1, 8))  # 广电虚拟运营商 (8) unused
    assert [place.area_code for place in segments.places()] == sorted(p.area_code for p in segments.places())
    assert segments.source().startswith("phone 0.4.5 ")


def test_records_are_read_only():
    with pytest.raises(ValueError, match="read-only"):
        segments.segment_records()["prefix"][0] = 1


def test_segment_rows_in_bulk_agree_with_segment_info():
    records = segments.segment_records()
    wanted = np.array([1380013, 1990000, 1300000, 1999979, 2**40, -5, 0, 10_000_000], np.int64)
    rows = segments.segment_rows(wanted)
    assert rows.tolist()[4:] == [-1, -1, -1, -1]
    for prefix, row in zip(wanted[:4].tolist(), rows[:4].tolist(), strict=True):
        info = segments.segment_info(str(prefix))
        if row < 0:
            assert info["province"] == ""
            continue
        place = segments.places()[records["place"][row]]
        carrier = segments.carrier_names()[records["carrier"][row]]
        assert info == {"province": place.province, "city": place.city, "carrier": carrier}
    every = segments.segment_rows(records["prefix"].astype(np.int32))
    assert np.array_equal(every, np.arange(len(records)))


def test_package_data_globs_ship_the_tables():
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"][
        "package-data"
    ]["recognizers"]
    for name in ("phone_places.csv", "phone_segments.npz"):
        assert (ROOT / "recognizers" / "data" / name).is_file()
        assert any(fnmatch.fnmatch(f"data/{name}", pattern) for pattern in package_data), name


# --- against the phone package the tables were built from ------------------------------------------------


@pytest.fixture(scope="module")
def phone_dat() -> bytes:
    """The installed package's phone.dat: the test extra pins the version the tables were built from."""
    import phone

    vendored = re.match(r"phone (\S+) ", segments.source()).group(1)
    installed = importlib.metadata.version("phone")
    assert installed == vendored, f"phone {installed} installed, tables built from {vendored}: rebuild them"
    return phone.Phone().buf


def test_every_record_equals_the_package(phone_dat):
    """Parse phone.dat by its documented layout (README of ls0f/phone) and compare every record."""
    from phone import Phone

    version, index_start = struct.unpack("<4si", phone_dat[:8])
    assert version == b"2312"
    index = np.frombuffer(
        phone_dat, np.dtype([("prefix", "<i4"), ("offset", "<i4"), ("type", "u1")]), offset=index_start
    )
    records = segments.segment_records()
    assert np.array_equal(records["prefix"], index["prefix"])
    # Each distinct (place record offset, vendored place) pair, and (carrier code, vendored carrier) pair.
    pairs = np.unique(np.stack([index["offset"].astype(np.int64), records["place"]], axis=1), axis=0)
    assert len(pairs) == len(np.unique(index["offset"]))  # one vendored place per place record
    for offset, place in pairs.tolist():
        text = phone_dat[offset : phone_dat.index(b"\0", offset)].decode()
        province, city, _zip, area_code = text.split("|")
        assert segments.places()[place] == (province, city, area_code)
    carriers = np.unique(np.stack([index["type"], records["carrier"]], axis=1), axis=0)
    for code, carrier in carriers.tolist():
        assert segments.carrier_names()[carrier] == (Phone.get_phone_no_type(code) or "")


def test_area_places_equal_the_packages_place_records(phone_dat):
    index_start = struct.unpack("<4si", phone_dat[:8])[1]
    found: dict[str, set[tuple[str, str]]] = {}
    for text in phone_dat[8:index_start].split(b"\0")[:-1]:
        province, city, _zip, area_code = text.decode().split("|")
        found.setdefault(area_code, set()).add((province, city))
    expected = {code: (min(c)[0], min(c)[1] if len(c) == 1 else "") for code, c in found.items()}
    assert segments.area_places() == expected
    assert len(found) == 322 and sum(len(c) for c in found.values()) == 377


def test_segment_info_equals_phone_find(phone_dat):
    """The package's own lookup, on every 13th prefix of 1300000-1999999 (the rebuild checks them all)."""
    from phone import Phone

    table = Phone()
    for prefix in range(1_300_000, 2_000_000, 13):
        found = table.find(prefix) or {}
        expected = {
            "province": found.get("province", ""),
            "city": found.get("city", ""),
            "carrier": found.get("phone_type") or "",
        }
        assert segments.segment_info(str(prefix)) == expected, prefix
