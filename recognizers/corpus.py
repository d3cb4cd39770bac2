"""Seeded generator of labeled Chinese business text for scoring the recognizers (`cnpii eval`).

Lines come from templates in nine kinds of text seen in the field — customer-service notes, loan
applications, collection call notes, transfer memos, e-commerce order remarks, JSON, URLs, log lines,
English mixed in — plus whole column values and hard-negative lines. `<PHONE>`-style slots are filled by
the writers below, which know what they wrote: the labels come from the generator, never from `detect`.

Values are written the ways they occur: +86 / 0086 / 86- / (+86) prefixes, space or dash groups,
full-width digits, lower-case `x`, 15-digit legacy IDs, HK/Macau/Taiwan residence permits (81/82/83),
foreign permanent resident IDs (9…), landlines with brackets and extensions, 13-digit IoT numbers in the
allocated ranges (only next to an IoT label: the recognizers report them only with context, as the
format rules say), 16/19-digit cards of ~1,400 real BINs (`cardbin` and data/bins.csv), known-BIN cards
failing Luhn next to a card label (accepted: such cards exist).

The recall classes (numbers written the ways the field writes them) have their own writers: mobiles in the
allocated parts of the 174 block only; a trunk 0 before a mobile (`013812345678`, the 0 in the span, not in
the core); mobiles written with dots, slashes, underscores, a space between every digit or `+86.`; mobiles
spoken in Chinese numerals (`幺三八…`, `〇`/`零`); landlines without separators after a calling verb and every
number of a `/` or `、` list; 16-digit Mastercard numbers (51-55, 2221-2720), UnionPay 8171… cards, the
Agricultural Bank's legacy 19-digit 103… cards; cards with two spaces between groups; the same card bare and
grouped in one note (`<CARD_PLAIN=1>` … `<CARD_GROUPED=1>`); IDs grouped 4-4-4-4-2 and 6-4-4-4; IDs with a
wrong check character right after an ID label (labeled, as the recognizers must report them); 15-digit legacy
IDs as whole values.

Hard negatives: order, tracking and reference numbers, millisecond timestamps, amounts such as
13800000000.00元, Luhn-valid IMEIs, USCC codes, CNAPS codes, dates (also `2023.11.05`), IP addresses,
version numbers, file names, 11-digit runs starting 10/11/12, phones buried in longer runs, Luhn-failing
16-digit runs without card context, 174 numbers in unallocated blocks, IoT-shaped numbers outside the
allocated ranges next to an IoT label, 17-digit Luhn-valid numbers with a Mastercard prefix or a BIN
whose cards are 19 digits, 19-digit order numbers failing Luhn, Chinese numerals in ordinary text. Other
18-digit numbers that fail only the ID checksum are labeled IGNORE (as in shared/eval).

Facts about allocated ranges live in the format modules (`phone`, `bank_card`) and `data/`: the writers
here draw from the same allocations, never from the recognizers' code.

Two splits with different seeds AND disjoint templates:
- `tuning` (tests/corpora/tuning.jsonl, seed 20241): `TUNING_TEMPLATES`; failures here may be studied.
- `heldout` (tests/corpora/heldout.jsonl, seed 90317): `HELDOUT_TEMPLATES` — other phrasings of every
  kind of text (e.g. 【在线客服】 notes, 授信审批｜…｜ pipes, camelCase JSON, callback URLs, logfmt,
  售后单 remarks, padded column values). Generated once; never tune on its individual failures.

>>> lines = generate("tuning", count=3)
>>> [sorted(line) for line in lines][0]
['entities', 'id', 'text']
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import random
import re
import sys
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from cardbin.bankbin import BANKBIN
from faker import Faker
from faker.providers.ssn.zh_CN import Provider as ChineseIdProvider

from recognizers.bank_card import calc_check_digit as luhn_check_digit
from recognizers.resident_id import calc_check_digit

SEEDS = {"tuning": 20241, "heldout": 90317}
DIVISIONS: tuple[str, ...] = tuple(ChineseIdProvider.area_codes)

_FULLWIDTH = str.maketrans("0123456789Xx", "０１２３４５６７８９Ｘｘ")


class Piece:
    """A written value: its text, its label (None for filler) and the core offsets inside the text."""

    __slots__ = ("core", "label", "text")

    def __init__(self, text: str, label: str | None = None, core: tuple[int, int] | None = None) -> None:
        self.text, self.label = text, label
        self.core = core or (0, len(text))


def luhn_valid(number: str) -> bool:
    """The Luhn check of a digit string (the generator's own, from the stable `calc_check_digit`)."""
    return luhn_check_digit(number[:-1]) == number[-1]


def _luhn_complete(body: str) -> str:
    return body + luhn_check_digit(body)


def _group(digits: str, sizes: tuple[int, ...], sep: str) -> str:
    parts, at = [], 0
    for size in sizes:
        parts.append(digits[at : at + size])
        at += size
    return sep.join(p for p in parts if p)


def _styled(rng: random.Random, digits: str, sizes: tuple[int, ...]) -> str:
    """Plain, grouped by space or dash, and sometimes full-width."""
    written = rng.choice((digits, digits, _group(digits, sizes, " "), _group(digits, sizes, "-")))
    return written.translate(_FULLWIDTH) if rng.random() < 0.12 else written


# --- resident IDs -------------------------------------------------------------------------------------


def _birth(rng: random.Random, last_year: int = 2006) -> str:
    return f"{rng.randint(1940, last_year)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"


def _with_check(body: str) -> str:
    return body + calc_check_digit(body)


def _citizen(rng: random.Random, last_year: int = 2006) -> str:
    """A resident ID with one of Faker's division codes (not `Faker.ssn`: its dates follow today's)."""
    return _with_check(rng.choice(DIVISIONS) + _birth(rng, last_year) + f"{rng.randint(0, 999):03d}")


def _resident(rng: random.Random, fake: Faker) -> str:
    kind = rng.random()
    if kind < 0.12:
        return _with_check(
            rng.choice(("810000", "820000", "830000")) + _birth(rng) + f"{rng.randint(0, 999):03d}"
        )
    if kind < 0.22:
        province = rng.choice(("11", "31", "44", "32", "33", "51", "35"))
        country = rng.choice(("840", "392", "410", "250", "276", "036", "124", "643"))
        return _with_check("9" + province + country + _birth(rng) + f"{rng.randint(0, 999):03d}")
    return _citizen(rng)


def id_number(rng: random.Random, fake: Faker, plain: bool = False) -> Piece:
    """An 18-character ID (resident, HK/Macau/Taiwan permit or foreign resident) as people write it."""
    number = _resident(rng, fake)
    if rng.random() < 0.1:  # make sure the check character X and its lower-case form are well covered
        while not number.endswith("X"):
            number = _resident(rng, fake)
        number = number[:17] + rng.choice("xX")
    written = number if plain else _styled(rng, number, rng.choice(((6, 8, 4), (6, 4, 4, 4))))
    return Piece(written, "CN_RESIDENT_ID")


def id_grouped(rng: random.Random, fake: Faker) -> Piece:
    """An 18-character ID grouped 4-4-4-4-2 or 6-4-4-4, by spaces or dashes."""
    number = _resident(rng, fake)
    sizes = rng.choice(((4, 4, 4, 4, 2), (4, 4, 4, 4, 2), (6, 4, 4, 4)))
    return Piece(_group(number, sizes, rng.choice((" ", " ", "-"))), "CN_RESIDENT_ID")


def legacy_id(rng: random.Random, fake: Faker) -> Piece:
    """A 15-digit legacy ID (YYMMDD, no check character): only written next to an ID label."""
    number = _citizen(rng, last_year=1999)
    return Piece(number[:6] + number[8:17], "CN_RESIDENT_ID")


def bad_id(rng: random.Random, fake: Faker) -> Piece:
    """An ID-shaped number whose check character is wrong: debatable, so labeled IGNORE."""
    number = _citizen(rng)
    wrong = rng.choice([c for c in "0123456789X" if c != number[17]])
    return Piece(number[:17] + wrong, "IGNORE")


def bad_id_after_label(rng: random.Random, fake: Faker) -> Piece:
    """An ID with a wrong check character right after an ID label: reported (a typo in a real ID), so
    labeled. Templates put it only behind 身份证/证件 labels. Luhn-valid ones are drawn again: such a
    number (a 62… Gansu code is also a UnionPay prefix) could be a card, which is debatable."""
    number = bad_id(rng, fake).text
    while number.isdigit() and luhn_valid(number):
        number = bad_id(rng, fake).text
    return Piece(number, "CN_RESIDENT_ID")


# --- phones -------------------------------------------------------------------------------------------

MOBILE_PREFIXES = (
    [f"13{d}" for d in range(10)]
    + ["145", "147", "149"]
    + [f"15{d}" for d in "01235789"]
    + ["162", "165", "166", "167"]
    + [f"17{d}" for d in range(9)]
    + [f"18{d}" for d in range(10)]
    + [f"19{d}" for d in "012356789"]
)
"""Allocated 11-digit segments; 174 stands for `ALLOCATED_174` only."""

ALLOCATED_174 = (*(f"174{n:02d}" for n in range(13)), "1749")
"""The allocated parts of the 174 block: 17400-17405 (satellite), 17406-17412 (emergency
communications), 1749 (maritime satellite)."""

UNALLOCATED_174 = tuple(f"174{n}" for n in range(13, 90))
"""17413-17489: no allocation, so not mobiles."""

IOT_PREFIXES = ("1440", "1441", "148", "146", "1410")
"""Allocated 13-digit IoT ranges: China Mobile 1440X, 1441X, 148XX; China Unicom 146XX; China Telecom
1410X. 140 is left out: the notes give it no allocated part."""

UNALLOCATED_IOT = tuple(f"141{d}" for d in range(1, 10)) + tuple(f"144{d}" for d in range(2, 10))
"""13-digit numbers in 141/144 outside the allocated ranges."""

AREA_CODES = (
    "010",
    "020",
    "021",
    "022",
    "023",
    "024",
    "025",
    "027",
    "028",
    "029",
    "0311",
    "0351",
    "0371",
    "0411",
    "0431",
    "0451",
    "0512",
    "0531",
    "0532",
    "0551",
    "0571",
    "0574",
    "0591",
    "0592",
    "0731",
    "0755",
    "0757",
    "0769",
    "0771",
    "0791",
    "0851",
    "0871",
    "0898",
    "0931",
    "0951",
    "0991",
)
_COUNTRY_PREFIXES = ("+86 ", "+86", "+86-", "0086 ", "0086-", "86-", "(+86)", "（+86）", "+86 ")


def _fill(rng: random.Random, prefix: str, length: int) -> str:
    return prefix + "".join(rng.choices("0123456789", k=length - len(prefix)))


def _mobile_digits(rng: random.Random) -> str:
    segment = rng.choice(MOBILE_PREFIXES)
    if segment == "174":
        return _fill(rng, rng.choice(ALLOCATED_174), 11)
    return segment + f"{rng.randint(0, 99_999_999):08d}"


def mobile(rng: random.Random, fake: Faker, plain: bool = False) -> Piece:
    """An 11-digit mobile, sometimes with a country prefix (outside the core)."""
    digits = _mobile_digits(rng)
    if plain:
        return Piece(digits, "CN_PHONE")
    prefix = rng.choice(_COUNTRY_PREFIXES) if rng.random() < 0.25 else ""
    written = prefix + _styled(rng, digits, rng.choice(((3, 4, 4), (3, 4, 4), (4, 4, 3))))
    return Piece(written, "CN_PHONE", (len(prefix), len(written)))


def mobile_174(rng: random.Random, fake: Faker) -> Piece:
    """A mobile in an allocated part of the 174 block (satellite or emergency communications)."""
    return Piece(_fill(rng, rng.choice(ALLOCATED_174), 11), "CN_PHONE")


def mobile_trunk(rng: random.Random, fake: Faker) -> Piece:
    """A mobile behind a long-distance trunk 0 (`013812345678`): the 0 is in the span, not the core."""
    return Piece("0" + _mobile_digits(rng), "CN_PHONE", (1, 12))


def mobile_spelled(rng: random.Random, fake: Faker) -> Piece:
    """A mobile with dots, slashes or underscores between 3-4-4 groups, a space between every digit, or
    `+86.` and dots (the prefix outside the core)."""
    digits = _mobile_digits(rng)
    form = rng.randrange(6)
    if form < 3:
        return Piece(_group(digits, (3, 4, 4), "./_"[form]), "CN_PHONE")
    if form < 5:
        return Piece(" ".join(digits), "CN_PHONE")
    written = "+86." + _group(digits, (3, 4, 4), ".")
    return Piece(written, "CN_PHONE", (4, len(written)))


def mobile_spoken(rng: random.Random, fake: Faker) -> Piece:
    """A mobile as a call transcript spells it: Chinese numerals, 1 as 一 or 幺, 0 as 〇 or 零, sometimes
    in 3-4-4 groups."""
    numerals = rng.choice(("〇", "零")) + rng.choice(("一", "幺")) + "二三四五六七八九"
    spoken = _mobile_digits(rng).translate(str.maketrans("0123456789", numerals))
    return Piece(_group(spoken, (3, 4, 4), " ") if rng.random() < 0.3 else spoken, "CN_PHONE")


def landline(rng: random.Random, fake: Faker) -> Piece:
    """Area code + 7-8 digit local number; brackets, dashes, spaces, +86, extensions (kept in the span)."""
    area = rng.choice(AREA_CODES)
    local = str(rng.randint(2, 8)) + "".join(
        rng.choices("0123456789", k=7 if len(area) == 3 else rng.choice((6, 7)))
    )
    half = len(local) // 2
    grouped = rng.choice((local, local, local[:half] + " " + local[half:], local[:half] + "-" + local[half:]))
    form = rng.randrange(6)
    if form == 0:
        core = f"({area}){grouped}"
    elif form == 1:
        core = f"（{area}）{grouped}"
    elif form == 2:
        core = f"{area} {grouped}"
    else:
        core = f"{area}-{grouped}"
    prefix = ""
    if rng.random() < 0.1:
        prefix, core = rng.choice(("+86 ", "+86-", "0086 ")), f"{area[1:]}-{grouped}"
    if rng.random() < 0.12:
        core = core.translate(_FULLWIDTH)
    extension = rng.choice(("", "", "", "-8023", " 转 615", " ext. 2201", "转3"))
    written = prefix + core + extension
    return Piece(written, "CN_PHONE", (len(prefix), len(prefix) + len(core)))


def landline_plain(rng: random.Random, fake: Faker) -> Piece:
    """Area code and local number without separators (`02747643457`): written after 打/拨打/致电/座机 or
    in a list of numbers."""
    area = rng.choice(AREA_CODES)
    return Piece(
        _fill(rng, area + str(rng.randint(2, 8)), len(area) + (8 if len(area) == 3 else 7)), "CN_PHONE"
    )


def iot(rng: random.Random, fake: Faker) -> Piece:
    """A 13-digit IoT number in an allocated range (`IOT_PREFIXES`): only written next to an IoT label."""
    return Piece(_fill(rng, rng.choice(IOT_PREFIXES), 13), "CN_PHONE")


# --- bank cards ---------------------------------------------------------------------------------------


def _load_bins() -> list[tuple[str, str]]:
    with resources.files("recognizers").joinpath("data/bins.csv").open(encoding="utf-8") as f:
        extra = [(row["bin"], row["product"]) for row in csv.DictReader(f)]
    return sorted((b, v.split("|", 1)[-1]) for b, v in BANKBIN.items()) + extra


BINS = _load_bins()
BANKS = sorted({v.split("|")[0] for v in BANKBIN.values()})


def _card_digits(rng: random.Random, luhn: bool = True) -> str:
    prefix, product = rng.choice(BINS)
    credit = any(word in product for word in ("贷记", "信用", "准贷"))
    length = 16 if credit or prefix[0] in "345" else rng.choice((16, 19, 19))
    body = prefix + "".join(rng.choices("0123456789", k=length - len(prefix) - 1))
    checks = [d for d in "0123456789" if luhn_valid(body + d) == luhn]
    return body + rng.choice(checks)


def card(rng: random.Random, fake: Faker, plain: bool = False) -> Piece:
    """A Luhn-valid card of a real BIN, 16 or 19 digits, as people write it."""
    digits = _card_digits(rng)
    return Piece(digits if plain else _styled(rng, digits, (4, 4, 4, 4, 3)), "CN_BANK_CARD")


def card_grouped(rng: random.Random, fake: Faker) -> Piece:
    """A card grouped 4-4-4-4(-3) by single spaces (draws its digits as `card` does, so `<CARD_GROUPED=1>`
    writes the number of `<CARD_PLAIN=1>`)."""
    return Piece(_group(_card_digits(rng), (4, 4, 4, 4, 3), " "), "CN_BANK_CARD")


def card_wide(rng: random.Random, fake: Faker) -> Piece:
    """A card with two spaces between its groups (`6222  0212  3456  7890  128`)."""
    return Piece(_group(_card_digits(rng), (4, 4, 4, 4, 3), "  "), "CN_BANK_CARD")


MASTERCARD_RANGES = ((510000, 559999), (222100, 272099))
"""Mastercard IINs: 51-55 and 2221-2720, 16 digits."""
MASTERCARD_BINS = tuple(prefix for prefix, _ in BINS if prefix[:2] in ("51", "52", "53", "54", "55"))
"""Mastercard BINs of Chinese banks in the BIN tables."""


def mastercard(rng: random.Random, fake: Faker) -> Piece:
    """A 16-digit Mastercard: half of a listed Chinese BIN, half of any BIN in the network's ranges."""
    listed = rng.random() < 0.5
    prefix = rng.choice(MASTERCARD_BINS) if listed else str(rng.randint(*rng.choice(MASTERCARD_RANGES)))
    digits = _luhn_complete(_fill(rng, prefix, 15))
    return Piece(_styled(rng, digits, (4, 4, 4, 4)), "CN_BANK_CARD")


def unionpay_81(rng: random.Random, fake: Faker) -> Piece:
    """A UnionPay card from the 81 range (8171…), 16 or 19 digits (never 18: an 18-digit
    81… number is a Hong Kong residence permit's shape)."""
    digits = _luhn_complete(_fill(rng, "8171", rng.choice((16, 19)) - 1))
    return Piece(_styled(rng, digits, (4, 4, 4, 4, 3)), "CN_BANK_CARD")


def abc_legacy(rng: random.Random, fake: Faker) -> Piece:
    """An Agricultural Bank legacy card: 103 and 16 more digits."""
    digits = _luhn_complete(_fill(rng, "103", 18))
    return Piece(_styled(rng, digits, (4, 4, 4, 4, 3)), "CN_BANK_CARD")


def card_failing_luhn(rng: random.Random, fake: Faker) -> Piece:
    """A known-BIN card that fails Luhn (real ones exist): only written next to a card label."""
    return Piece(_card_digits(rng, luhn=False), "CN_BANK_CARD")


# --- hard negatives (unlabeled) ---------------------------------------------------------------------


_EPOCH = (dt.datetime(2019, 1, 1), dt.datetime(2025, 6, 30))
"""Dates are drawn from a fixed window (not relative to today), so a seed always gives the same lines."""


def _digits(rng: random.Random, k: int) -> str:
    return "".join(rng.choices("0123456789", k=k))


def order_number(rng: random.Random, fake: Faker) -> Piece:
    date = fake.date_between(_EPOCH[0], _EPOCH[1]).strftime("%Y%m%d")
    return Piece(
        rng.choice(
            (
                date + _digits(rng, 10),
                "E" + date + _digits(rng, 8),
                _digits(rng, 19),
                "DD" + _digits(rng, 16),
                date + _digits(rng, 6),
            )
        )
    )


def tracking_number(rng: random.Random, fake: Faker) -> Piece:
    return Piece(
        rng.choice(
            (
                "SF" + _digits(rng, 13),
                "YT" + _digits(rng, 13),
                "JDV" + _digits(rng, 12),
                "73" + _digits(rng, 12),
                "43" + _digits(rng, 13),
                _digits(rng, 12),
            )
        )
    )


def timestamp_ms(rng: random.Random, fake: Faker) -> Piece:
    return Piece(str(rng.randint(1_400_000_000_000, 1_760_000_000_000)))


def phone_like_amount(rng: random.Random, fake: Faker) -> Piece:
    return Piece(_mobile_digits(rng) + rng.choice((".00元", ".5元", ".00", ".88元")))


def imei(rng: random.Random, fake: Faker) -> Piece:
    """15 digits with a valid Luhn check, as every IMEI has."""
    body = rng.choice(("86", "35", "99")) + _digits(rng, 12)
    return Piece(body + next(d for d in "0123456789" if luhn_valid(body + d)))


def card_like_run(rng: random.Random, fake: Faker) -> Piece:
    """16 digits failing Luhn, without card context."""
    body = _digits(rng, 15)
    return Piece(body + rng.choice([d for d in "0123456789" if not luhn_valid(body + d)]))


_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc(rng: random.Random, fake: Faker) -> Piece:
    """A unified social credit code (GB 32100-2015) with its check character."""
    org = "".join(rng.choices("0123456789" if rng.random() < 0.5 else "0123456789ABCDEFGHJKLMNPQRTUWXY", k=9))
    body = rng.choice(("91", "92", "12", "52")) + rng.choice(DIVISIONS) + org
    check = (31 - sum(_USCC_CHARS.index(c) * w for c, w in zip(body, _USCC_WEIGHTS, strict=True)) % 31) % 31
    return Piece(body + _USCC_CHARS[check])


def cnaps(rng: random.Random, fake: Faker) -> Piece:
    return Piece(rng.choice(("102", "103", "104", "105", "301", "302", "308", "403")) + _digits(rng, 9))


def date(rng: random.Random, fake: Faker) -> Piece:
    day = fake.date_time_between(*_EPOCH)
    return Piece(day.strftime(rng.choice(("%Y-%m-%d", "%Y%m%d", "%Y/%m/%d %H:%M:%S", "%Y年%m月%d日"))))


def short_run(rng: random.Random, fake: Faker) -> Piece:
    """11 digits starting 10, 11 or 12: not a mobile segment."""
    return Piece(rng.choice(("10", "11", "12")) + _digits(rng, 9))


def buried_phone(rng: random.Random, fake: Faker) -> Piece:
    """A valid mobile inside a longer digit run (a request or trace id)."""
    return Piece(_digits(rng, rng.randint(3, 8)) + _mobile_digits(rng) + _digits(rng, rng.randint(3, 8)))


def masked(rng: random.Random, fake: Faker) -> Piece:
    """An already masked phone, card or ID: nothing left to find."""
    return Piece(
        rng.choice(
            (
                _mobile_digits(rng)[:3] + "****" + _digits(rng, 4),
                _card_digits(rng)[:6] + "*" * 9 + _digits(rng, 4),
                rng.choice(DIVISIONS) + "********" + _citizen(rng)[-4:],
                "尾号" + _digits(rng, 4),
            )
        )
    )


NINETEEN_DIGIT_BINS = (
    "622202",
    "621226",
    "622848",
    "621700",
    "622700",
    "436742",
    "621661",
    "601382",
    "622260",
    "622262",
    "621799",
    "622188",
    "9558",
)
"""BINs whose cards are 19 digits (npm bankcardinfo 2.0.6 lengths, as in data/bin_lengths.csv)."""


def seventeen_digits(rng: random.Random, fake: Faker) -> Piece:
    """17 Luhn-valid digits with a 19-digit BIN or a Mastercard prefix: no card has that length."""
    prefix = rng.choice((*NINETEEN_DIGIT_BINS, "51", "52", "53", "54", "55"))
    return Piece(_luhn_complete(_fill(rng, prefix, 16)))


def order_19(rng: random.Random, fake: Faker) -> Piece:
    """A 19-digit order number (date first) failing Luhn."""
    body = fake.date_between(_EPOCH[0], _EPOCH[1]).strftime("%Y%m%d") + _digits(rng, 10)
    return Piece(body + rng.choice([d for d in "0123456789" if not luhn_valid(body + d)]))


def unallocated_174(rng: random.Random, fake: Faker) -> Piece:
    return Piece(_fill(rng, rng.choice(UNALLOCATED_174), 11))


def unallocated_iot(rng: random.Random, fake: Faker) -> Piece:
    return Piece(_fill(rng, rng.choice(UNALLOCATED_IOT), 13))


def ip_address(rng: random.Random, fake: Faker) -> Piece:
    """An IPv4 address; its digits often form 11 digits starting 1[3-9] (139.224.12.178)."""
    first = rng.choice((113, 116, 117, 119, 120, 139, 180, 183, 192, 221))
    return Piece(f"{first}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}")


def dotted_date(rng: random.Random, fake: Faker) -> Piece:
    day = fake.date_time_between(*_EPOCH)
    return Piece(day.strftime(rng.choice(("%Y.%m.%d", "%Y.%m.%d %H:%M", "%Y.%m.%d.%H%M"))))


def version(rng: random.Random, fake: Faker) -> Piece:
    return Piece(
        rng.choice(
            (
                f"{rng.randint(1, 20)}.{rng.randint(0, 30)}.{rng.randint(0, 9999)}",
                f"10.0.{rng.randint(10000, 26000)}.{rng.randint(100, 9999)}",
            )
        )
    )


def file_name(rng: random.Random, fake: Faker) -> Piece:
    day = fake.date_time_between(*_EPOCH)
    return Piece(
        day.strftime(rng.choice(("IMG_%Y%m%d_%H%M%S.jpg", "VID_%Y%m%d_%H%M%S.mp4", "录音_%Y%m%d_%H%M%S.wav")))
    )


SPOKEN_LOOKALIKES = (
    "一二三木头人",
    "一五一十地说了",
    "三三两两",
    "二〇二三年十一月五日",
    "第一二三季度",
    "一三五七九号楼",
    "七七八八",
    "十之八九",
    "一二三四五六七八九〇一",
    "一三八一二三四五六七八九〇",
    "零零七",
)
"""Chinese numerals in ordinary text: none is a phone (the last but two is no mobile segment, the one
after runs past 11 numerals)."""


def spoken_lookalike(rng: random.Random, fake: Faker) -> Piece:
    return Piece(rng.choice(SPOKEN_LOOKALIKES))


def amount(rng: random.Random, fake: Faker) -> Piece:
    return Piece(f"{rng.randint(1, 500_000)}.{rng.randint(0, 99):02d}")


Writer = Callable[[random.Random, Faker], Piece]

SLOTS: dict[str, Writer] = {
    "ID": id_number,
    "ID_PLAIN": lambda rng, fake: id_number(rng, fake, plain=True),
    "ID15": legacy_id,
    "BADID": bad_id,
    "PHONE": mobile,
    "PHONE_PLAIN": lambda rng, fake: mobile(rng, fake, plain=True),
    "TEL": landline,
    "IOT": iot,
    "CARD": card,
    "CARD_PLAIN": lambda rng, fake: card(rng, fake, plain=True),
    "CARDX": card_failing_luhn,
    # recall classes
    "ID_GROUPED": id_grouped,
    "BADID_LABELLED": bad_id_after_label,
    "PHONE174": mobile_174,
    "PHONE_TRUNK": mobile_trunk,
    "PHONE_SPELLED": mobile_spelled,
    "PHONE_SPOKEN": mobile_spoken,
    "TEL_PLAIN": landline_plain,
    "CARD_GROUPED": card_grouped,
    "CARD_WIDE": card_wide,
    "MASTERCARD": mastercard,
    "CARD81": unionpay_81,
    "CARD103": abc_legacy,
    # their hard negatives
    "RUN17": seventeen_digits,
    "ORDER19": order_19,
    "NOT174": unallocated_174,
    "NOTIOT": unallocated_iot,
    "IP": ip_address,
    "DOTDATE": dotted_date,
    "VERSION": version,
    "FILE": file_name,
    "SPOKEN_NOT": spoken_lookalike,
    "ORDER": order_number,
    "TRACK": tracking_number,
    "TS": timestamp_ms,
    "AMOUNT_PHONE": phone_like_amount,
    "IMEI": imei,
    "BADCARD": card_like_run,
    "USCC": uscc,
    "CNAPS": cnaps,
    "DATE": date,
    "RUN11": short_run,
    "LONGRUN": buried_phone,
    "AMOUNT": amount,
    "MASKED": masked,
    "zip": lambda rng, fake: Piece(fake.postcode()),
    "name": lambda rng, fake: Piece(fake.name()),
    "company": lambda rng, fake: Piece(fake.company()),
    "addr": lambda rng, fake: Piece(fake.address()),
    "bank": lambda rng, fake: Piece(rng.choice(BANKS)),
}

TUNING_TEMPLATES: tuple[str, ...] = (
    # customer service
    "客户<name>来电咨询，登记手机号<PHONE>，身份证<ID>，已核实身份。",
    "客服备注：用户反映银行卡<CARD>扣款失败，回拨电话<PHONE>无人接听。",
    "工单<ORDER>：<name>要求更换绑定手机，原号码<PHONE>，新号码<PHONE>，办公电话<TEL>",
    # loan applications
    "借款申请：申请人<name>，身份证号码<ID>，工作单位<company>，单位电话<TEL>，收款卡号<CARD>，申请金额<AMOUNT>元",
    "贷款编号<ORDER> 借款人<name> 证件号<ID15> 联系手机<PHONE>",
    "港澳台居民居住证<ID>，持证人<name>，现住<addr>",
    # collection calls
    "催收记录：<DATE> 致电<name>本人<PHONE>，承诺三日内还款，还款卡<CARD>。",
    "外访催收：债务人<name>，身份证<ID>，家庭住址<addr>，紧急联系人<name> <PHONE>",
    # transfer memos
    "转账附言：<name>还款，付款账号<CARD>，流水号<ORDER>",
    "跨行转账 收款人<name> 收款银行<bank> 账号<CARD> 联行号<CNAPS> 金额<AMOUNT>元",
    "卡号<CARDX>扣款异常，请柜面核实户名<name>",
    # e-commerce
    "订单<ORDER>备注：请送到<addr>，收件人<name>，电话<PHONE>，快递单号<TRACK>",
    "买家留言：发票抬头<company>，税号<USCC>，到了打我手机<PHONE>",
    # JSON, URL, logs
    '{"name": "<name>", "mobile": "<PHONE_PLAIN>", "id_card": "<ID_PLAIN>", "create_time": <TS>}',
    '{"order_id": "<ORDER>", "receiver_phone": "<PHONE_PLAIN>", '
    '"pay_card": "<CARD_PLAIN>", "amount": <AMOUNT>}',
    "GET /api/v2/user/verify?phone=<PHONE_PLAIN>&id=<ID_PLAIN>&ts=<TS> 200",
    "2024-03-05 10:22:31.123 INFO [risk-engine] check passed "
    "userId=<RUN11> mobile=<PHONE_PLAIN> idNo=<ID_PLAIN>",
    "WARN sms-gateway send failed to=<PHONE> requestId=<LONGRUN> cost=35ms",
    # English mixed in
    "Customer <name> (ID <ID>) requested a limit increase; callback number <PHONE>.",
    "Refund to card <CARD> approved, ref <ORDER>, tel <TEL>",
    # IoT
    "物联网卡<IOT>本月流量超额，请通知<name>",
    # whole column values
    "<ID>",
    "<PHONE>",
    "<CARD>",
    # exports and copy-paste
    "<name>,<ID_PLAIN>,<PHONE_PLAIN>,<CARD_PLAIN>,<addr>",
    "<name>\t<PHONE_PLAIN>\t<zip>\t<addr>",
    "验证码已发送至<PHONE>，5分钟内有效",
    "旧身份证号（15位）：<ID15>，新号<ID>",
    "客户经理工号<RUN11> 联系客户<PHONE>，时间<DATE>",
    '{"orderId": "<ORDER>", "buyerMobile": "<PHONE_PLAIN>", "payTime": <TS>}',
    # hard negatives
    "用户<name>，手机<MASKED>，已脱敏",
    "订单号<ORDER>，下单时间<TS>，实付<AMOUNT_PHONE>",
    "顺丰单号<TRACK>已揽收，预计<DATE>送达",
    "统一社会信用代码<USCC>，开户行行号<CNAPS>",
    "设备IMEI:<IMEI>，激活日期<DATE>",
    "凭证号<BADID>，请核对",
    "参考号<BADCARD>，内部编码<RUN11>",
    # recall classes: 174 and IoT ranges, other spellings of mobiles, landlines, lists
    "应急通信保障人员<name>，卫星电话<PHONE174>",
    "长途请拨<PHONE_TRUNK>找<name>",
    "联系方式：<PHONE_SPELLED>，<name>",
    "通话转写：客户：我的电话是<PHONE_SPOKEN>，你记一下。",
    "有问题打<TEL_PLAIN>",
    "请致电<TEL_PLAIN>咨询，<name>",
    "电话<PHONE_PLAIN>/<PHONE_PLAIN>、<PHONE_PLAIN>",
    "座机<TEL_PLAIN>/<TEL_PLAIN>",
    # … cards of other networks and layouts, the same card twice
    "信用卡<MASTERCARD>本期账单已出，最低还款<AMOUNT>元",
    "银联国际卡<CARD81>已开通境外支付",
    "农行老卡<CARD103>已换新",
    "卡号：<CARD_WIDE>，户名<name>",
    "原卡<CARD_PLAIN=1>扣款失败，新卡号 <CARD_GROUPED=1>",
    # … IDs grouped 4-4-4-4-2 / 6-4-4-4, a wrong check character behind an ID label, bare legacy IDs
    "身份证号：<ID_GROUPED>，已核实",
    "身份证：<BADID_LABELLED>，系统提示校验位有误",
    "<ID15>",
    # … and their hard negatives
    "会员<NOT174>已激活，积分<AMOUNT>",
    "物联网卡<NOTIOT>已销户",
    "受理码<RUN17>，<name>",
    "订单号<ORDER19>已发货",
    "来源 <IP> 于 <DOTDATE> 登录",
    "附件<FILE>，客户端<VERSION>",
    "备注：<SPOKEN_NOT>",
)

HELDOUT_TEMPLATES: tuple[str, ...] = (
    # customer service
    "【在线客服】<name>（证件号码：<ID>）称收不到短信，预留号码为<PHONE>，已引导重置。",
    "来电人自称<name>，留存座机<TEL>，反映借记卡<CARD>被冻结，已升级二线。",
    # loan applications
    "授信审批｜主借人<name>｜居民身份证<ID>｜常住地址<addr>｜放款账户<CARD>｜手机<PHONE>",
    "共同借款人<name>的旧版身份证<ID15>，配偶手机<PHONE>，申请日期<DATE>",
    "外籍客户<name>，永居证<ID>，任职于<company>",
    # collection calls
    "M2逾期，拨打借款人号码<PHONE>关机，改拨其单位<TEL>，前台称已离职。",
    "联系人<name>（关系：朋友）表示可代为转告，其本人号码<PHONE>，记录时间<DATE>",
    # transfer memos
    "汇款备注：代<name>缴费 转出卡<CARD> 转入<CARD> 交易参考号<ORDER>",
    "对公付款：户名<company>，开户行联行号<CNAPS>，经办人<name>手机<PHONE>",
    "借记卡<CARDX>（户名<name>）代扣失败",
    # e-commerce
    "售后单 <ORDER>｜退款至原支付卡 <CARD>｜顾客<name> <PHONE>｜物流 <TRACK>",
    "配送备注：放门口快递柜，有问题联系 <PHONE> 或 <TEL>，谢谢",
    # JSON, URL, logs
    '{"userInfo":{"realName":"<name>","certNo":"<ID_PLAIN>","bankCardNo":"<CARD_PLAIN>"},"ts":<TS>}',
    '{"contact": {"tel": "<PHONE>", "imei": "<IMEI>"}, "uscc": "<USCC>"}',
    "https://m.shop.example.cn/pay/callback?cardNo=<CARD_PLAIN>&mobile=<PHONE_PLAIN>&orderNo=<ORDER>",
    "[ERROR] bind-card timeout trace_id=<LONGRUN> card=<CARD_PLAIN> phone=<PHONE_PLAIN>",
    'level=info msg="kyc ok" cert=<ID_PLAIN> at=<TS> seq=<RUN11>',
    # English mixed in
    "Pls verify applicant <name> with id card <ID> and mobile <PHONE>, thx",
    "FYI the debit card <CARD> on file belongs to <name>; alt contact <TEL> (office).",
    # IoT
    "M2M SIM <IOT> 已停机，车载终端<ORDER>离线",
    # whole column values
    "<TEL>",
    " <PHONE> ",
    "<CARD_PLAIN>",
    # hard negatives
    "快件<TRACK>派送中，签收码<RUN11>",
    "对账：交易额<AMOUNT_PHONE>，交易时间<TS>，批次<LONGRUN>",
    "出库记录 <DATE> 条码<BADCARD> IMEI<IMEI>",
    "核验未通过：提交的号码<BADID>校验位不符",
    "企业信息：<company> 信用代码<USCC> 联行号<CNAPS>",
    # recall classes: 174 and IoT ranges, other spellings of mobiles, landlines, lists
    "船长<name> 海事卫星 <PHONE174> 已报备",
    "外地号码需加0：<PHONE_TRUNK>（<name>）",
    "[微信昵称] <name> <PHONE_SPELLED>",
    "ASR识别结果｜坐席：请问您手机号？｜客户：<PHONE_SPOKEN>",
    "退货请拨打<TEL_PLAIN>，工作日9点到18点",
    "留存座机<TEL_PLAIN>",
    "紧急联系人：<name> <PHONE_PLAIN>、<PHONE_PLAIN>/<TEL_PLAIN>",
    # … cards of other networks and layouts, the same card twice
    "Mastercard <MASTERCARD> 境外消费提醒",
    "<MASTERCARD>",
    "境外消费卡号 <CARD81>",
    "金穗卡<CARD103>（旧）转新卡",
    "收款账户 <CARD_WIDE> 户名<name>",
    "代扣卡 <CARD_GROUPED=1> 余额不足；原卡<CARD_PLAIN=1>已注销",
    # … IDs grouped 4-4-4-4-2 / 6-4-4-4, a wrong check character behind an ID label, bare legacy IDs
    "证件 <ID_GROUPED>（已复印）",
    "<ID_GROUPED>",
    "居民身份证号码:<BADID_LABELLED>",
    "<ID15> ",
    # … and their hard negatives
    "推荐码：<NOT174>",
    "M2M SIM <NOTIOT> 已停机",
    "内部追踪码 <RUN17> 已归档",
    "<ORDER19>",
    "app v<VERSION> / server <IP> / <DOTDATE>",
    "上传<FILE>成功",
    "客户原话：<SPOKEN_NOT>",
)

TEMPLATES = {"tuning": TUNING_TEMPLATES, "heldout": HELDOUT_TEMPLATES}
_SLOT = re.compile(r"<(\w+)(?:=(\w+))?>")


def render(template: str, rng: random.Random, fake: Faker) -> tuple[str, list[dict[str, int | str]]]:
    """Fill a template's slots; return the text and its labeled spans (with cores).

    Slots sharing a tag (`<CARD_PLAIN=1>` … `<CARD_GROUPED=1>`) draw from the same random state, so
    writers that draw their number first (`card`, `card_grouped`) write one number two ways.
    """
    text, entities, at = "", [], 0
    shared: dict[str, tuple[object, ...]] = {}
    for match in _SLOT.finditer(template):
        text += template[at : match.start()]
        name, tag = match.groups()
        if tag is not None and tag in shared:
            twin = random.Random()
            twin.setstate(shared[tag])
            piece = SLOTS[name](twin, fake)
        else:
            if tag is not None:
                shared[tag] = rng.getstate()
            piece = SLOTS[name](rng, fake)
        if piece.label:
            start = len(text)
            entities.append(
                {
                    "type": piece.label,
                    "start": start,
                    "end": start + len(piece.text),
                    "core_start": start + piece.core[0],
                    "core_end": start + piece.core[1],
                }
            )
        text += piece.text
        at = match.end()
    return text + template[at:], entities


def generate(split: str, count: int = 2000, seed: int | None = None) -> list[dict[str, object]]:
    """`count` labeled lines of `split` ('tuning' or 'heldout'); the same seed gives the same lines."""
    rng = random.Random(SEEDS[split] if seed is None else seed)
    fake = Faker("zh_CN")
    fake.seed_instance(rng.randrange(2**32))
    templates = TEMPLATES[split]
    lines = []
    for number in range(count):
        text, entities = render(rng.choice(templates), rng, fake)
        lines.append({"id": f"{split}-{number}", "text": text, "entities": entities})
    return lines


def main(argv: list[str] | None = None) -> int:
    """Write `<out>/tuning.jsonl` and `<out>/heldout.jsonl`."""
    parser = argparse.ArgumentParser(prog="python -m recognizers.corpus", description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path, help="folder for tuning.jsonl and heldout.jsonl")
    parser.add_argument("--count", type=int, default=2000, help="lines per split (default 2000)")
    args = parser.parse_args(argv)
    for split in TEMPLATES:
        with (args.out / f"{split}.jsonl").open("w", encoding="utf-8") as f:
            f.writelines(json.dumps(line, ensure_ascii=False) + "\n" for line in generate(split, args.count))
    return 0


if __name__ == "__main__":
    sys.exit(main())
