"""Rebuild `phone_places.csv` and `phone_segments.npz` from the `phone` package (maintainers only).

cnpii reads its mobile segment table and landline area codes from these two committed files, so that at
run time it depends neither on the `phone` package nor on the layout of its `phone.dat`. This script is
the only code that reads that layout (documented in the package's README: an 8-byte header `<4si` with
the data version and the offset of the index; `province|city|zip|area_code\\0` place records; then
9-byte index entries `<iiB`: 7-digit prefix, offset of its place record, carrier code). It checks every
assumption it makes, writes the files, then reads them back through `recognizers.segments` and compares
every prefix from 1300000 to 1999999 with `phone.Phone().find`.

Run from the repository root, with the version of `phone` you mean to vendor installed:

    pip install 'phone==0.4.5'
    python -m recognizers.data.build_phone_segments

It imports `phone` only inside functions, so collecting this file (pytest's doctest run) needs no `phone`.
"""

from __future__ import annotations

import csv
import importlib.metadata
import io
import struct
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
PLACES_FILE = HERE / "phone_places.csv"
SEGMENTS_FILE = HERE / "phone_segments.npz"
CARRIER_CODES = range(9)
"""The carrier codes `phone.Phone.get_phone_no_type` names (0 names none: an empty carrier)."""
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)
"""Zip member time, so that rebuilding unchanged data gives the same bytes (numpy stamps the clock)."""


@dataclass(frozen=True)
class PhoneTables:
    """What the `phone` package holds, in the shape cnpii commits it."""

    source: str
    places: list[tuple[str, str, str]]
    """(province, city, area_code) of every place record, the index of a row being its place number."""
    prefixes: np.ndarray
    places_of_prefixes: np.ndarray
    carriers: np.ndarray
    carrier_names: list[str]


def read_phone_package() -> PhoneTables:
    """Parse the installed `phone` package's `phone.dat`, refusing any layout it does not expect."""
    import phone

    version = importlib.metadata.version("phone")
    table = phone.Phone()
    buf = table.buf
    data_version, index_start = struct.unpack("<4si", buf[:8])
    if (len(buf) - index_start) % 9 or not 8 < index_start < len(buf):
        raise ValueError(f"phone.dat: index at {index_start} does not hold whole 9-byte entries")
    places: list[tuple[str, str, str]] = []
    place_at: dict[int, int] = {}  # byte offset of a place record -> its row in `places`
    offset = 8
    for raw in buf[8:index_start].split(b"\0")[:-1]:
        fields = raw.decode("utf-8").split("|")
        if len(fields) != 4 or not fields[0] or not fields[3].isdigit():
            raise ValueError(f"phone.dat: place record at {offset} is not province|city|zip|area_code")
        place_at[offset] = len(places)
        places.append((fields[0], fields[1], fields[3]))
        offset += len(raw) + 1
    if offset != index_start:
        raise ValueError("phone.dat: the place records do not end where the index starts")
    index = np.frombuffer(
        buf, np.dtype([("prefix", "<i4"), ("offset", "<i4"), ("carrier", "u1")]), offset=index_start
    )
    prefixes = index["prefix"].astype(np.int32)
    if not (np.all(np.diff(prefixes) > 0) and prefixes.min() >= 1_000_000 and prefixes.max() <= 9_999_999):
        raise ValueError("phone.dat: index prefixes are not increasing 7-digit numbers")
    unknown = set(index["offset"].tolist()) - place_at.keys()
    if unknown:
        raise ValueError(f"phone.dat: {len(unknown)} index entries point at no place record's start")
    carrier_names = [table.get_phone_no_type(code) or "" for code in CARRIER_CODES]
    if int(index["carrier"].max()) >= len(carrier_names) or not all(
        carrier_names[code] for code in set(index["carrier"].tolist())
    ):
        raise ValueError("phone.dat: the index uses a carrier code that phone.Phone does not name")
    if len({(province, city) for province, city, _ in places}) != len(places):
        raise ValueError("phone.dat: a province and city appear in two place records")
    return PhoneTables(
        source=f"phone {version} (phone.dat data version {data_version.decode()})",
        places=places,
        prefixes=prefixes,
        places_of_prefixes=np.vectorize(place_at.__getitem__, otypes=[np.uint16])(index["offset"]),
        carriers=index["carrier"].astype(np.uint8),
        carrier_names=carrier_names,
    )


def sorted_by_area_code(tables: PhoneTables) -> PhoneTables:
    """The same tables with place rows ordered by area code, province and city: readable and stable diffs."""
    order = sorted(range(len(tables.places)), key=lambda i: (tables.places[i][2], tables.places[i][:2]))
    renumber = np.empty(len(order), np.uint16)
    renumber[order] = np.arange(len(order), dtype=np.uint16)
    return PhoneTables(
        source=tables.source,
        places=[tables.places[i] for i in order],
        prefixes=tables.prefixes,
        places_of_prefixes=renumber[tables.places_of_prefixes],
        carriers=tables.carriers,
        carrier_names=tables.carrier_names,
    )


def write_tables(tables: PhoneTables, places_file: Path, segments_file: Path) -> None:
    """Write the place CSV and the segment archive (prefixes as steps from the previous one: 1 mostly,
    which compresses ~100x better than the prefixes themselves)."""
    with places_file.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["province", "city", "area_code"])
        writer.writerows(tables.places)
    arrays = {
        "prefix_step": np.diff(tables.prefixes, prepend=np.int32(0)).astype(np.int32),
        "place": tables.places_of_prefixes.astype(np.uint16),
        "carrier": tables.carriers.astype(np.uint8),
        "carrier_names": np.array(tables.carrier_names, dtype=np.str_),
        "source": np.array(tables.source, dtype=np.str_),
    }
    with zipfile.ZipFile(segments_file, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, array in arrays.items():
            member = io.BytesIO()
            np.lib.format.write_array(member, array, allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, member.getvalue(), compresslevel=9)


def check_against_package() -> int:
    """Compare `recognizers.segments` with `phone.Phone().find` for every prefix 1300000-1999999; the
    number of prefixes that differ."""
    import phone

    from recognizers import segments

    table = phone.Phone()
    differ = 0
    for prefix in range(1_300_000, 2_000_000):
        found = table.find(prefix) or {}
        expected = {
            "province": found.get("province", ""),
            "city": found.get("city", ""),
            "carrier": found.get("phone_type") or "",
        }
        differ += segments.segment_info(str(prefix)) != expected
    return differ


def main() -> int:
    """Rebuild both files, then check them against the package; exit status 1 if any prefix differs."""
    tables = sorted_by_area_code(read_phone_package())
    write_tables(tables, PLACES_FILE, SEGMENTS_FILE)
    print(f"{tables.source}: {len(tables.places)} places, {len(tables.prefixes)} prefixes")
    for path in (PLACES_FILE, SEGMENTS_FILE):
        print(f"{path.name}: {path.stat().st_size:,} bytes")
    differ = check_against_package()
    print(f"prefixes 1300000-1999999 that differ from phone.Phone().find: {differ}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
