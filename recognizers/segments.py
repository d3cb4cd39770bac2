"""Mainland phone number segments: 7-digit mobile prefix -> province, city, carrier; area code -> place.

The tables are vendored in `data/` from the `phone` package (0.4.5, data of December 2023; about 500k
prefixes, 377 places), so that cnpii reads its own committed files instead of that package's private
binary layout. `data/build_phone_segments.py` rebuilds them and `data/README.md` says where they come
from. Names are the short forms the source uses (北京, 深圳, 内蒙古), without 省/市/自治区.

>>> segment_info("1380013")
{'province': '北京', 'city': '北京', 'carrier': '移动'}
>>> area_places()["0755"], area_places()["028"]
(('广东', '深圳'), ('四川', ''))
>>> records = segment_records()
>>> rows = segment_rows(np.array([1380013, 1000000]))
>>> places()[records["place"][rows[0]]].city, int(rows[1])
('北京', -1)
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from importlib import resources
from typing import NamedTuple

import numpy as np

from recognizers.building import built_once

AREA_CODE = re.compile(r"0(?:10|2[0-9]|[3-9][0-9]{2})")
"""A landline area code as dialled: 010, 02x or 0 + 3 digits (the source also holds a stray 00479)."""

SEGMENT_RECORD = np.dtype([("prefix", "<i4"), ("place", "<u2"), ("carrier", "u1")])
"""One mobile segment: its 7-digit `prefix`, the row of its `place` in `places()` and the row of its
`carrier` in `carrier_names()` (0: the source names none)."""

_PLACES = "data/phone_places.csv"
_SEGMENTS = "data/phone_segments.npz"
_REBUILD = "rebuild with `python -m recognizers.data.build_phone_segments`"


class Place(NamedTuple):
    """A place record of the source: province and city short names and the landline area code."""

    province: str
    city: str
    area_code: str


@dataclass(frozen=True)
class _Tables:
    source: str
    places: tuple[Place, ...]
    carrier_names: tuple[str, ...]
    records: np.ndarray
    prefixes: np.ndarray  # records["prefix"], contiguous for searchsorted


@built_once
def _tables() -> _Tables:
    """Both data files, read once per process and checked against each other, because a row number that
    points past a list would otherwise surface as a wrong city far from here."""
    data = resources.files("recognizers")
    with data.joinpath(_PLACES).open(encoding="utf-8", newline="") as f:
        places = tuple(Place(row["province"], row["city"], row["area_code"]) for row in csv.DictReader(f))
    with data.joinpath(_SEGMENTS).open("rb") as f, np.load(f, allow_pickle=False) as archive:
        prefixes = np.cumsum(archive["prefix_step"], dtype=np.int32)
        place, carrier = archive["place"], archive["carrier"]
        carrier_names = tuple(str(name) for name in archive["carrier_names"])
        source = str(archive["source"])
    if not (
        len(prefixes) == len(place) == len(carrier)
        and np.all(np.diff(prefixes) > 0)
        and int(place.max()) < len(places)
        and int(carrier.max()) < len(carrier_names)
    ):
        raise ValueError(f"recognizers/{_SEGMENTS} does not fit recognizers/{_PLACES}: {_REBUILD}")
    records = np.empty(len(prefixes), SEGMENT_RECORD)
    records["prefix"], records["place"], records["carrier"] = prefixes, place, carrier
    records.flags.writeable = False
    prefixes.flags.writeable = False
    return _Tables(source, places, carrier_names, records, prefixes)


def source() -> str:
    """Where the tables come from: package, version and data version, e.g. `phone 0.4.5 (... 2312)`."""
    return _tables().source


def places() -> tuple[Place, ...]:
    """Every place record, indexed by `segment_records()["place"]`; ordered by area code."""
    return _tables().places


def carrier_names() -> tuple[str, ...]:
    """Carrier names indexed by `segment_records()["carrier"]`: '' (none), 移动, 联通, 电信, 电信虚拟运营商,
    联通虚拟运营商, 移动虚拟运营商, 广电, 广电虚拟运营商."""
    return _tables().carrier_names


def segment_records() -> np.ndarray:
    """Every mobile segment as a read-only `SEGMENT_RECORD` array sorted by `prefix`: lookups in bulk."""
    return _tables().records


def segment_rows(prefixes: np.ndarray) -> np.ndarray:
    """Row in `segment_records()` of each 7-digit prefix (an integer array), -1 where no segment has it."""
    table = _tables().prefixes
    # As int32, like the table: searching int64 values would copy the whole table to int64 on every call.
    # Values clipped to just outside the 7-digit range still find no segment.
    wanted = np.clip(np.asarray(prefixes), -1, 10_000_000).astype(np.int32)
    rows = np.minimum(np.searchsorted(table, wanted), len(table) - 1)
    return np.where(table[rows] == wanted, rows, -1)


def segment_info(number: str) -> dict[str, str]:
    """Province, city and carrier of the segment of `number` (its first 7 digits: a prefix or a whole
    mobile); '' for each where the table has no such segment. Raises ValueError without 7 leading digits."""
    if not re.fullmatch(r"[0-9]{7}", number[:7]):
        raise ValueError("a mobile segment is the first 7 ASCII digits of a number")
    tables = _tables()
    prefix = np.int32(number[:7])
    row = int(np.searchsorted(tables.prefixes, prefix))
    if row == len(tables.prefixes) or tables.prefixes[row] != prefix:
        return {"province": "", "city": "", "carrier": ""}
    record = tables.records[row]
    place = places()[record["place"]]
    return {"province": place.province, "city": place.city, "carrier": carrier_names()[record["carrier"]]}


@built_once
def area_places() -> dict[str, tuple[str, str]]:
    """Landline area code -> (province, city) for every area code of the place records; the city is ''
    where one area code serves several cities (028: 成都, 资阳, 眉山), since the number does not say which."""
    found: dict[str, set[tuple[str, str]]] = {}
    for place in places():
        found.setdefault(place.area_code, set()).add((place.province, place.city))
    # One province per area code in the source (checked by tests/test_segments.py).
    return {
        code: (min(cities)[0], next(iter(cities))[1] if len(cities) == 1 else "")
        for code, cities in found.items()
    }


@built_once
def area_codes() -> frozenset[str]:
    """Landline area codes in use: those of `area_places()` written as an area code is dialled."""
    return frozenset(code for code in area_places() if AREA_CODE.fullmatch(code))
