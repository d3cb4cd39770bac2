"""Chinese addresses (CN_ADDRESS): a gazetteer of divisions chained with the grammar of streets.

An address runs from its divisions (province → prefecture → county, by their GB/T 2260 names, current or
abolished, full or short: `广东省深圳市南山区`, `深圳南山区`) through the parts that find a door: roads and
their numbers (`文三路90号`), estates and buildings (`东部软件园`, `SOHO现代城5号楼`), units and rooms
(`3单元1203室`), towns, villages and groups (`宜路镇李楼村三组`), one space between them or none. It is
reported when

- divisions are followed by at least one such part, or
- with no division, a road or place is followed by a number (`魏星路169弄47号楼844室`), or
- the column is named for addresses (`address`, `dz`, `住址`…) and the value holds such a part.

Divisions alone (`在深圳工作`, `户籍江苏省`) are a place, a quasi-identifier, not an address; so is a
division inside an organisation's name (`北京市消防局`, `深圳市腾讯计算机系统有限公司`), which no part
follows. Address words never cross the words that lead into them (`家住`, `地址：`, `寄到`): those
characters end a name part.
"""

from __future__ import annotations

import functools
import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from recognizers.arrays import byte_offsets, gather, prefix_bytes, utf8_buffer
from recognizers.building import built_once
from recognizers.context import Context, column_supports
from recognizers.divisions import Division, division_names
from recognizers.patterns import (
    HAN,
    ORGANISATION_WORDS,
    SMALL_BATCH,
    SPACE,
    SPACE_CHARS,
    TextFound,
    alternation,
    matches,
    no_text_found,
    spans,
    text_found,
    whole_spans,
    without_spaces,
)

ENTITY = "CN_ADDRESS"
CONTEXT: tuple[str, ...] = (
    "地址", "住址", "家住", "住在", "现居", "居住地", "户籍地", "寄到", "送到", "收货地址",
)  # fmt: skip
COLUMN_HINTS: dict[str, tuple[str, ...]] = {
    "token": ("dz", "jtdz", "zz", "hjdz", "jzdz", "dwdz", "txdz", "shdz", "address", "addr", "street"),
    "joined": ("homeaddress", "homeaddr", "residence", "residentialaddress", "mailingaddress",
               "shippingaddress", "deliveryaddress", "billingaddress", "workaddress", "companyaddress",
               "contactaddress", "fulladdress", "detailaddress", "addressdetail", "addressline"),
    "contains": ("地址", "住址", "住所", "居住地", "户籍地", "所在地址", "通讯地址", "收货地"),
}  # fmt: skip
MASK_KEEP = None
"""An address's mask shows its divisions and hides the rest (`广东省深圳市南山区****`)."""

ROAD_MARKS = ("大道", "大街", "街道", "街", "路", "巷", "弄", "胡同", "道", "里")
PLACE_MARKS = (
    "小区", "花园", "公寓", "大厦", "广场", "家园", "新村", "山庄", "苑", "园", "城", "湾", "庭", "大楼",
    "公馆", "社区", "村", "镇", "乡", "屯", "庄", "开发区", "工业区", "工业园", "科技园", "产业园", "街道",
    "写字楼", "宿舍", "家属院", "村委会", "村民委员会", "居委会", "居民委员会",
)  # fmt: skip
NUMBER_MARKS = (
    "号院", "号楼", "号", "栋", "幢", "座", "单元", "层", "楼", "室", "户", "组", "弄", "巷", "排", "期",
    "区", "队", "社", "门", "铺", "房", "段", "村民小组", "小组",
)  # fmt: skip
_LEADING = "住在于到往至是的了与及或把从向寄送搬址位近旁边对面附请将给为由也还就可要能已去来个这"
"""Characters that lead into an address or follow it, never part of a road's or estate's name."""
_NOT_FIRST = "达那"
"""Characters that lead into an address when they come first (`送达`, `那条路`), but stand inside names
(`万达广场`, `迤那镇`)."""
_NOT_NAME = "\\x00-\\x2f\\x3a-\\x40\\x5b-\\x60\\x7b-\u33ff\u4dc0-\u4dff\ua000-\U0010ffff"
_NAME_CHAR = f"[^{_NOT_NAME}{_LEADING}]"
"""A character of a road's, estate's or building's name: a Han character, a Latin letter or a digit."""
_NAME_FIRST = f"[^{_NOT_NAME}{_LEADING}{_NOT_FIRST}]"
"""The first character of such a name."""
_LEADING_AFTER_A_PART = _LEADING.replace("于", "").replace("向", "")
_NAME_NEXT = f"[^{_NOT_NAME}{_LEADING_AFTER_A_PART}]"
"""The first character of a name right after another part of the address: 于 and 向 too, surnames that
start villages' names (`…镇于家湾村`, `向阳村`) and, there, lead into nothing (`从A搬到B`: 搬 and 到 still
end the first address)."""
_AFTER_GAP = f"[^{_NOT_NAME}{_LEADING_AFTER_A_PART}现原]"
"""The first character of a name after a space in an address: never 现 or 原, which start a second
address (`原…54号 现西乡塘区…`, `户籍地… 现居…`)."""
_SPACES = " \u3000"
_GAP = f"[{_SPACES}]?"
"""What may stand between an address's divisions and parts: one space (`湖北省 宜昌市 西陵区 东山大道1号`)."""
_ENDS = "，,。；;）)|、 \u3000\t\n"
"""What ends a field after an address."""
_NUMBER = "第?[0-9０-９一二三四五六七八九十百千零〇两]{1,6}(?:[-－][0-9]{1,5}){0,2}"


DIVISION_SUFFIXES = (
    "特别行政区", "自治区", "自治州", "自治县", "自治旗", "地区", "省", "市", "区", "县", "旗", "盟", "州",
)  # fmt: skip
"""How division names end (`杭州` is read by its `州`): the search finds division-shaped words and the
gazetteer then says which of them are divisions. A flat alternation of every name in one search pattern
would cost RE2 seconds per batch of notes, as its automaton outgrows its memory budget."""


@built_once
def _patterns() -> dict[str, str]:
    divisions = alternation(name for name in division_names() if len(name) >= 2)
    # Any Han characters before a division's last word: what leads into the address (`家住`) is cut off
    # by the gazetteer afterwards, and division names may hold characters that lead elsewhere (`达州`).
    # Short names may stand a space apart before the last division's word (`湖北 武汉 武昌区`).
    division = f"[{HAN}][{HAN}{_SPACES}]{{0,9}}?{alternation(DIVISION_SUFFIXES)}"
    chain = f"{division}(?:{_GAP}{division})*"
    number = (f"(?:[A-Za-z]?{_NUMBER}[A-Za-z#]?{alternation(NUMBER_MARKS)}"  # `8#楼`: building 8
              f"|(?:[A-Za-z]{{1,2}}|[东南西北中])(?:座|栋|幢|区)"  # `B座`, `东区`
              "|[0-9]{1,3}[-－][0-9]{1,3}[-－][0-9]{3,5})")  # building-unit-room: 9-4-2607
    room = "[0-9]{1,5}(?:[-－][0-9]{1,5}){0,2}"  # a room or unit written as bare numbers: 2804, 9-6-404

    def parts(first: str, gap: str) -> tuple[str, str, str]:  # a road, a place, a building with no marker
        return (f"{first}{_NAME_CHAR}{{0,7}}?{alternation(ROAD_MARKS)}",
                f"{first}{_NAME_CHAR}{{0,7}}?{alternation(PLACE_MARKS)}+",
                f"{first}{_NAME_CHAR}{{1,7}}?{gap}{number}")  # 数码港三号楼

    road, place, building = parts(_NAME_FIRST, "")
    part = f"(?:{number}|{road}|{place}|{building}|{parts(_NAME_FIRST, _GAP)[2]})"
    # After divisions or a part a building's name may stand a space before its number (`金水区 山水华府
    # 5-2-2902`, `… 金融港 A座312室`); right after a part, a village's name start with 于 or 向
    # (`…镇于家湾村`); after a space, no part starts with 现 or 原.
    joined, spaced = ("|".join((number, *parts(first, _GAP))) for first in (_NAME_NEXT, _AFTER_GAP))
    more = f"(?:{joined}|[{_SPACES}](?:{spaced})|{room})"
    # A room's bare digits after a space only where a field ends after them (`3单元 1308`, never the
    # first digits of `5号 13800138000`): the character that ends it is trimmed off the address.
    last_room = f"(?:[{_SPACES}]{room}(?:$|[{_ENDS}]))?"
    return {
        # Anchored, the gazetteer is cheap: the run of division names an address starts with.
        "divisions": f"^{SPACE}*{divisions}+",
        "chain": chain,
        "without_divisions": f"(?:{road}|{place}|{building}){_GAP}{number}{more}*{last_room}",
        "address": f"(?:{chain}{_GAP}{part}|(?:{road}|{place}|{building}){_GAP}{number}){more}*{last_room}",
        "part": part,
        "organisation": f"^{alternation(ORGANISATION_WORDS)}",  # what follows an organisation's divisions
        # What every address holds (a number and its marker, a named road or place, or unit-room digits):
        # cheap to search, so that the large pattern only runs on the few values that have it.
        "marker": f"[0-9０-９一二三四五六七八九十百千零〇两A-Za-z#]{alternation(NUMBER_MARKS)}"
                  f"|[{HAN}A-Za-z0-9]{alternation(ROAD_MARKS + PLACE_MARKS)}|[0-9][-－][0-9]",
    }


def find(values: pa.Array, column: str | None) -> TextFound:
    """The addresses in a batch of distinct values: whole values of an address column that hold a part
    below the divisions, and addresses in free text."""
    if column_supports(column, COLUMN_HINTS):
        return _column_values(values)
    # Only values holding a marker of a street part are searched with the (large) address pattern.
    marked = np.flatnonzero(matches(values, _patterns()["marker"]))
    if not len(marked):
        return no_text_found()
    row, start, end, _ = spans(values.take(pa.array(marked)), _patterns()["address"])
    row = marked[row]
    data, offsets = utf8_buffer(values)
    matched = pc.utf8_rtrim(gather(data, offsets[row] + start, end - start), _ENDS)  # a field's end: no part
    end = start + pc.binary_length(matched).to_numpy(zero_copy_only=False)
    # What follows an organisation's name's divisions is an organisation word (`深圳农村商业银行`).
    following = prefix_bytes(data, offsets[row] + end, offsets[row + 1], _ORGANISATION_BYTES)
    kept = np.flatnonzero(~matches(following, _patterns()["organisation"]))
    row, start, end, matched = row[kept], start[kept], end[kept], matched.take(pa.array(kept))
    skip = _before_divisions(matched)
    address = np.flatnonzero(skip >= 0)
    if not len(address):
        return no_text_found()
    row, end = row[address], end[address]
    start = start[address] + byte_offsets(matched, address, skip[address])
    # The grammar is the evidence: divisions and a street part, or a road or place and a number.
    texts = gather(data, offsets[row] + start, end - start)
    kept = np.flatnonzero(~_divisions_alone(texts, prefix_bytes(data, offsets[row] + end, offsets[row + 1],
                                                                _READ_ON_BYTES)))
    row, start, end, texts = row[kept], start[kept], end[kept], texts.take(pa.array(kept))
    return text_found(row, start, end, np.full(len(row), "address"), normalize(texts),
                      np.full(len(row), Context.FOR))


def _divisions_alone(texts: pa.Array, after: pa.Array) -> np.ndarray:
    """Whether each text, read on into the text `after` it, lies within the divisions it starts: a
    street part found where a division's name goes on (`峄城` of 峄城区, `三门` of 三门峡市, `宽城` of
    宽城满族自治县) is none, and `二七区` is a division too. Divisions are no address, and an address
    masked after them shows them (`山东省枣庄市峄城区****`)."""
    alone = np.zeros(len(texts), dtype=bool)
    check = np.flatnonzero(matches(after, f"^{_HAN_CHARACTER}") | matches(texts, _SUFFIX_LAST))
    if len(check):
        ending = texts.take(pa.array(check))
        joined = pc.binary_join_element_wise(ending, after.take(pa.array(check)), "")
        alone[check] = division_prefix(joined) >= pc.utf8_length(ending).to_numpy(zero_copy_only=False)
    return alone


_READ_ON_BYTES = 3 * 12
"""How far past a street part the divisions it may start are read (`宽城满族自治县`)."""
_HAN_CHARACTER = f"[{HAN}]"
_SUFFIX_LAST = "[" + "".join(sorted({suffix[-1] for suffix in DIVISION_SUFFIXES})) + "]$"
"""What text ends with when a division suffix ends it (RE2)."""
_DIVISION_CHARACTERS = "[" + "".join(sorted({c for suffix in DIVISION_SUFFIXES for c in suffix})) + "]"
"""What text holds where a division's name stands in it (RE2)."""
_ORGANISATION_BYTES = 3 * max(map(len, ORGANISATION_WORDS))
"""Bytes after an address that can hold the organisation word that makes it an organisation's name."""


def _before_divisions(texts: pa.Array) -> np.ndarray:
    """How many leading characters of each match are not its address: an address found by its
    division-shaped words starts at the first word the gazetteer knows (`客户家深圳市…` is `深圳市…`); one
    whose division-shaped words the gazetteer does not know at all is an address only if it is one without
    divisions (`阳光小区5号楼`), and otherwise (-1) not one."""
    chain = pc.utf8_length(texts).to_numpy(zero_copy_only=False) - pc.utf8_length(
        pc.replace_substring_regex(texts, f"^(?:{_patterns()['chain']})", "", max_replacements=1)
    ).to_numpy(zero_copy_only=False)
    skip = np.where(chain > 0, -1, 0)
    names, starts = _division_words()
    undecided = np.flatnonzero(chain >= 2)  # a division name has two characters at least
    for begin in range(int(chain.max(initial=0)) - 1):
        undecided = undecided[chain[undecided] - begin >= 2]
        if not len(undecided):
            break
        within = texts.take(pa.array(undecided))
        # Only where a division name's first two characters stand can one start.
        may = np.flatnonzero(_among(pc.utf8_slice_codeunits(within, begin, begin + 2), starts))
        known = np.zeros(len(may), dtype=bool)
        for size in range(2, 13):
            piece = pc.utf8_slice_codeunits(within.take(pa.array(may)), begin, begin + size)
            known |= (chain[undecided[may]] - begin >= size) & _among(piece, names)
        skip[undecided[may[known]]] = begin
        undecided = np.delete(undecided, may[known])
    unknown = np.flatnonzero(skip < 0)
    if len(unknown):
        row, start, end, _ = spans(texts.take(pa.array(unknown)), _patterns()["without_divisions"])
        first = np.flatnonzero(np.r_[True, row[1:] != row[:-1]]) if len(row) else row
        row, start, end = row[first], start[first], end[first]
        searched = texts.take(pa.array(unknown[row]))
        whole = end == pc.binary_length(searched).to_numpy(zero_copy_only=False)
        data, offsets = utf8_buffer(searched)
        heads = gather(data, offsets[:-1][whole], start[whole])  # what precedes the match, in characters
        skip[unknown[row[whole]]] = pc.utf8_length(heads).to_numpy(zero_copy_only=False)
    return skip


_Words = tuple[frozenset[str], pa.Array]
"""Words as a set and as an Arrow array (`_among`)."""


@built_once
def _division_words() -> tuple[_Words, _Words]:
    """The division names, and their first two characters."""
    names = frozenset(division_names())
    starts = frozenset(name[:2] for name in names)
    return (names, pa.array(sorted(names), pa.string())), (starts, pa.array(sorted(starts), pa.string()))


def _among(pieces: pa.Array, words: _Words) -> np.ndarray:
    """Whether each of `pieces` is one of `words`: Arrow hashes the words on every call, so a few pieces
    are looked up in the set instead."""
    listed, array = words
    if len(pieces) <= SMALL_BATCH:
        return np.array([piece in listed for piece in pieces.to_pylist()], dtype=bool)
    return pc.is_in(pieces, value_set=array).to_numpy(zero_copy_only=False)


@built_once
def _compiled_divisions() -> re.Pattern[str]:
    return re.compile(_patterns()["divisions"])


def _column_values(values: pa.Array) -> TextFound:
    """Whole values of an address column that hold a street part after their divisions, which may stand
    after digits and signs (a phone written first: `13812345678 山东省枣庄市峄城区…`)."""
    rest = pc.replace_substring_regex(values, f"^[^{HAN}]+", "", max_replacements=1)
    lead = (pc.utf8_length(values).to_numpy(zero_copy_only=False)
            - pc.utf8_length(rest).to_numpy(zero_copy_only=False))
    divisions = division_prefix(rest)
    shown = np.where(divisions > 0, lead + divisions, 0)
    grouped = [np.flatnonzero(shown == count) for count in np.unique(shown).tolist()]
    if not grouped:
        return no_text_found()
    rows = np.concatenate(grouped)
    below = pa.concat_arrays([pc.utf8_slice_codeunits(values.take(pa.array(same)), count)
                              for count, same in zip(np.unique(shown).tolist(), grouped, strict=True)])
    holding = matches(below, _patterns()["part"])  # one search, however many prefix lengths
    # A "part" that is divisions alone read on (`东城` of `东城区`, after a masked phone) is none.
    maybe = np.flatnonzero(holding & matches(below, _DIVISION_CHARACTERS))
    if len(maybe):
        some = below.take(pa.array(maybe))
        row, start, end, _ = spans(some, _patterns()["part"])
        data, offsets = utf8_buffer(some)
        after = prefix_bytes(data, offsets[row] + end, offsets[row + 1], _READ_ON_BYTES)
        alone = _divisions_alone(gather(data, offsets[row] + start, end - start), after)
        holding[maybe] = np.isin(np.arange(len(maybe)), row[~alone])
    held = np.sort(rows[holding])
    if not len(held):
        return no_text_found()
    start, end, stripped = whole_spans(values.take(pa.array(held)))
    return text_found(held, start, end, np.full(len(held), "address"), normalize(stripped),
                      np.full(len(held), Context.FOR))


def division_prefix(addresses: pa.Array) -> np.ndarray:
    """How many characters at the start of each address are its divisions (0: none found)."""
    found = _division_runs(addresses)
    encoded = pc.dictionary_encode(found)  # few distinct runs of divisions: each is read once
    sizes = np.array([_divisions_size(run) for run in encoded.dictionary.to_pylist()] or [0])
    counted = sizes[encoded.indices.to_numpy(zero_copy_only=False)]
    lead = pc.utf8_length(addresses).to_numpy(zero_copy_only=False) - pc.utf8_length(
        pc.utf8_ltrim_whitespace(addresses)).to_numpy(zero_copy_only=False)
    return np.where(counted > 0, counted + lead, 0)


def _division_runs(addresses: pa.Array) -> pa.Array:
    """The run of division names each address starts with ('' for none): with Python's `re` for a few
    addresses (a report's example), with one RE2 pass for a batch that only finds where each run ends
    (RE2 compiles the gazetteer on every call, and extracting a group of it costs several times more)."""
    if len(addresses) <= SMALL_BATCH:
        compiled = _compiled_divisions()
        runs = [(found.group().lstrip(SPACE_CHARS) if (found := compiled.match(a or "")) else "")
                for a in addresses.to_pylist()]
        return pa.array(runs, pa.string())
    data, offsets = utf8_buffer(addresses)
    length = np.diff(offsets)

    def left(changed: pa.Array) -> np.ndarray:
        return length - pc.fill_null(pc.binary_length(changed), 0).to_numpy(zero_copy_only=False)

    matched = left(pc.replace_substring_regex(addresses, _patterns()["divisions"], ""))
    lead = left(pc.utf8_ltrim(addresses, SPACE_CHARS))
    return gather(data, offsets[:-1] + lead, np.where(matched > 0, matched - lead, 0))


@functools.lru_cache(maxsize=1 << 16)
def _divisions_size(run: str) -> int:
    """How many characters of a run of division names are divisions (`_divisions`): a dataset's addresses
    name the same few thousand runs, each read once a process."""
    return sum(map(len, _divisions(run)))


def _divisions(run: str) -> list[str]:
    """The division names a run of them at the start of an address is made of, longest first, up to the
    last one written in full (in `…通辽街`, 通辽 is the road's name, not the city's)."""
    names = division_names()
    found: list[str] = []
    while run:
        name = next(run[:size] for size in range(min(len(run), 20), 1, -1) if run[:size] in names)
        found.append(name)
        run = run[len(name) :]
    while found and not found[-1].endswith(DIVISION_SUFFIXES):
        found.pop()
    return found


def divisions_of(address: str) -> Division:
    """The province, prefecture and county an address names (levels it does not name, or names
    ambiguously, are '')."""
    names = division_names()
    province = city = county = ""
    for name in _divisions(_division_runs(pa.array([address]))[0].as_py()):
        place = names[name]
        province = province or place.province
        city = city or place.city
        county = county or place.county
    return Division(province, city, county)


def normalize(addresses: pa.Array) -> pa.Array:
    """The addresses without spaces: one address written with and without them is one value."""
    return without_spaces(addresses)


def mask_shown(written: pa.Array) -> np.ndarray:
    """How many leading characters of each written address a mask shows: its divisions
    (`广东省深圳市南山区****`); an address without them is masked whole."""
    return division_prefix(written)
