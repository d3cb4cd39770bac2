"""Administrative division codes (GB/T 2260) to province, city and county names.

The table is python-stdnum's `cn/loc.dat`, which keeps abolished codes with their years (崇文区 110103,
abolished 2010, still printed on IDs). It is used to describe a region when generalizing, never to reject
an ID: the code on an ID is the one valid at registration, not at birth.

>>> division("110105").province, division("440305").city
('北京市', '深圳市')
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from stdnum import numdb

from recognizers.building import built_once

_YEARS = re.compile(r"^\[[0-9-]*\]")
_ABOLISHED = re.compile(r"^\[[0-9]*-[0-9]+\]")
"""A name with an end year (`[1986-1988]海口市`) is no longer in use."""

# Province-level codes in use (GB/T 2260), plus 71 Taiwan and the 81/82/83 residence-permit prefixes.
PROVINCES: dict[str, str] = {
    "11": "北京市",
    "12": "天津市",
    "13": "河北省",
    "14": "山西省",
    "15": "内蒙古自治区",
    "21": "辽宁省",
    "22": "吉林省",
    "23": "黑龙江省",
    "31": "上海市",
    "32": "江苏省",
    "33": "浙江省",
    "34": "安徽省",
    "35": "福建省",
    "36": "江西省",
    "37": "山东省",
    "41": "河南省",
    "42": "湖北省",
    "43": "湖南省",
    "44": "广东省",
    "45": "广西壮族自治区",
    "46": "海南省",
    "50": "重庆市",
    "51": "四川省",
    "52": "贵州省",
    "53": "云南省",
    "54": "西藏自治区",
    "61": "陕西省",
    "62": "甘肃省",
    "63": "青海省",
    "64": "宁夏回族自治区",
    "65": "新疆维吾尔自治区",
    "71": "台湾省",
    "81": "香港特别行政区",
    "82": "澳门特别行政区",
    "83": "台湾省",
}


_MUNICIPALITIES = ("11", "12", "31", "50")
"""Beijing, Tianjin, Shanghai and Chongqing: a province and a city at once."""


@dataclass(frozen=True, slots=True)
class Division:
    """Names for a 6-digit division code; a level is '' when the table does not know it."""

    province: str
    city: str
    county: str


@built_once
def _loc() -> numdb.NumDB:
    return numdb.get("cn/loc")


@built_once
def _latest_names() -> dict[str, str]:
    """The latest name of every prefecture and county code of the table (`440305`: 南山区), read in one
    walk of its tree: renamed units list their names oldest first (`南头区办事处,[1990-]南山区`)."""
    return {code + part: _YEARS.sub("", props["county"].split(",")[-1])
            for _, code, _, _, children in _loc().prefixes
            for _, part, _, props, _ in children if "county" in props}


def division(code: str) -> Division:
    """Province, city and county names for the first six digits of `code`."""
    code, latest = code[:6], _latest_names()
    province = PROVINCES.get(code[:2], "")
    city = latest.get(code[:4] + "00", "") if code[2:4] != "00" else ""
    if city in ("", "市辖区", "县"):  # municipalities list their districts under a placeholder city
        city = province if code[:2] in _MUNICIPALITIES else ""
    county = latest.get(code, "") if code[4:6] != "00" else ""
    return Division(province, city, county)


@built_once
def region_provinces() -> dict[str, str]:
    """Province and prefecture-level city names, full (`深圳市`) and short (`深圳`), to their province:
    what a released city or province column generalizes to. Read off the table's tree of prefixes
    (province, then its prefecture codes `NN00`) in one walk. A short name that two divisions share keeps
    the first (province names come first: `吉林` is the province); current names come before abolished
    ones (海口市 was Guangdong's until 1988, and is Hainan's); a spelling that prefectures of several
    provinces share (`张家`), and placeholders (`市辖区`, `省直辖县级行政单位`), tell no province and are
    left out."""
    names: dict[str, str] = {}
    for province in PROVINCES.values():
        for name in (province, province[:2], province[:3]):
            names.setdefault(name, province)
    current: dict[str, set[str]] = {}
    abolished: dict[str, set[str]] = {}
    for _, code, _, _, children in _loc().prefixes:
        province = PROVINCES.get(code)
        for length, part, _, props, _ in children if province else ():
            if length == 4 and part.endswith("00") and part != "0000" and "county" in props:
                latest = props["county"].split(",")[-1]
                found = abolished if _ABOLISHED.match(latest) else current
                found.setdefault(_YEARS.sub("", latest), set()).add(province)
    spoken_for: set[str] = set()  # spellings current names use: abolished ones do not override them
    for cities in (current, abolished):
        spelled: dict[str, set[str]] = {}  # every spelling (full, short) with the provinces it may mean
        for city, provinces in cities.items():
            if city not in ("市辖区", "县") and "直辖" not in city:
                for name in {city, city[:2], city.removesuffix("市")}:
                    spelled.setdefault(name, set()).update(provinces)
        for name, provinces in spelled.items():
            if len(provinces) == 1 and name not in spoken_for:  # 张家: 张家口市 or 张家界市, no province
                names.setdefault(name, next(iter(provinces)))
        spoken_for |= set(spelled)
    return names


_SUFFIXES = (
    "特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "自治州", "地区", "省", "市", "盟",
)  # fmt: skip
"""What a province or prefecture name may be written without (`广东`, `深圳`, `延边朝鲜族自治州` is
`延边朝鲜族`)."""


@built_once
def division_names() -> dict[str, Division]:
    """Every province, prefecture and county name the table has held, current and abolished, to the
    division it names; provinces and prefectures also by their short forms (`广东`, `深圳`). A name that
    several divisions share (`朝阳区` of Beijing and of Changchun) keeps only the levels they agree on."""
    found: dict[str, set[Division]] = {}

    def add(name: str, place: Division) -> None:
        if name and name not in ("市辖区", "县") and "直辖" not in name:
            found.setdefault(name, set()).add(place)

    for code, province_name in PROVINCES.items():
        place = Division(province_name, province_name if code in _MUNICIPALITIES else "", "")
        add(province_name, place)
        add(_short(province_name), place)
    for _, code, _, _, children in _loc().prefixes:
        if code not in PROVINCES:
            continue
        for _, part, _, props, _ in children:
            if "county" not in props or part == "0000":
                continue
            place = division(code + part)
            prefecture = part.endswith("00")
            if prefecture:
                place = Division(place.province, place.city, "")
            for spelled in props["county"].split(","):
                name = _YEARS.sub("", spelled)
                add(name, place if not prefecture else Division(place.province, name, ""))
                if prefecture:
                    add(_short(name), Division(place.province, name, ""))
    return {name: _agreed(places) for name, places in found.items()}


def _short(name: str) -> str:
    """A province or prefecture name without its level word, if two characters or more remain."""
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return ""


def _agreed(places: set[Division]) -> Division:
    """The levels that every division in `places` shares ('' where they differ)."""
    first = next(iter(places))
    return Division(*(getattr(first, level) if len({getattr(p, level) for p in places}) == 1 else ""
                      for level in ("province", "city", "county")))
