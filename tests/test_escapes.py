"""Characters written as escapes in free text (recognizers/escapes.py): found as read, placed as written."""

from __future__ import annotations

import html
import json
import random
import re
import urllib.parse
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline import api
from recognizers import detect, engine
from recognizers.escapes import read
from recognizers.patterns import SMALL_BATCH

CONFIGS = Path(__file__).parent.parent / "configs"
ADDRESS = "无锡市梁溪区中山路151号枫林国际E座3301"


def _read(written: str) -> str:
    """What a reader of the JSON, the URL or the web page sees in a span."""
    return html.unescape(urllib.parse.unquote(json.loads(f'"{written}"') if "\\" in written else written))


def _found(text: str) -> list[tuple[str, str]]:
    return [(f.entity, _read(text[f.start : f.end])) for f in detect(text)]


@pytest.mark.parametrize(("text", "expected"), [
    # JSON quoted in a log line: not a document throughout, yet a JSON reader sees the names.
    ('回调内容：{"name":"\\u5f20\\u4f1f","msg":"\\u8054\\u7cfb\\u4eba\\u738b\\u82b3"} 状态200',
     [("CN_PERSON_NAME", "张伟"), ("CN_PERSON_NAME", "王芳")]),
    ("日志：借款人\\u674e\\u6587\\u5f3a已还款", [("CN_PERSON_NAME", "李文强")]),
    # A URL's query, percent-encoded.
    (f"GET /cb?name={urllib.parse.quote('欧阳娜娜')}&addr={urllib.parse.quote(ADDRESS)}&tel=13912345678",
     [("CN_PERSON_NAME", "欧阳娜娜"), ("CN_ADDRESS", ADDRESS), ("CN_PHONE", "13912345678")]),
    # A URL in a JSON document's field: the document is read as free text, both layers of escapes read.
    ('{"callback": "/cb?name=' + urllib.parse.quote("欧阳娜娜") + '", "借款人": "\\u674e\\u6587\\u5f3a"}',
     [("CN_PERSON_NAME", "欧阳娜娜"), ("CN_PERSON_NAME", "李文强")]),
    # A document with a URL in a field is still read field by field: its name key names a name whole.
    ('[{"name": "陈姐", "avatar": "/img/' + urllib.parse.quote("头像") + '.png"}, {"name": "老王"}]',
     [("CN_PERSON_NAME", "陈姐"), ("CN_PERSON_NAME", "老王")]),
    # Character references, as web forms write what they take.
    ("客户&#x9648;&#x5efa;&#x56fd;来电，电话&#49;&#51;&#57;" + "".join(f"&#{ord(c)};" for c in "12345678"),
     [("CN_PERSON_NAME", "陈建国"), ("CN_PHONE", "13912345678")]),
    # A percent sign that escapes nothing, or bytes that are no UTF-8: the text as written.
    ("利率5%以上，客户王强%A5%ZZ已还款", [("CN_PERSON_NAME", "王强")]),
])
def test_names_and_addresses_written_as_escapes_are_found(text: str, expected: list[tuple[str, str]]) -> None:
    assert _found(text) == expected


def test_a_span_read_is_placed_on_the_escapes_that_write_it() -> None:
    written = "x%E9%99%88y\\u59d0z"
    reading = read(pa.array(["\\u5f20", written]), percent=True)
    text = reading.read[1].as_py()
    assert text == "x陈y姐z"
    start, end = text.encode().index("陈".encode()), text.encode().index(b"z")
    (at,), (until,) = reading.as_written(np.array([1]), np.array([start]), np.array([end]))
    assert written.encode()[at:until].decode() == "%E9%99%88y\\u59d0"


_ESCAPE = re.compile(r"\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}|\\u[0-9a-fA-F]{4}|\\."
                     r"|&#[0-9]{1,7};|&#[xX][0-9a-fA-F]{1,6};|(?:%[0-9A-Fa-f]{2})+")


def _reference(written: str) -> str:
    """Free text as read, one escape at a time, by Python's JSON and UTF-8 decoders and `int` (a character
    reference): an escape they do not read stands for itself."""
    def one(match: re.Match[str]) -> str:
        escape = match.group()
        try:
            if escape[0] == "&":
                code = int(escape[3:-1], 16) if escape[2] in "xX" else int(escape[2:-1])
                return chr(code) if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else escape
            if escape[0] == "%":
                return bytes.fromhex(escape.replace("%", "")).decode()
            text = json.loads(f'"{escape}"')
            text.encode()
            return text
        except ValueError:
            return escape
    return _ESCAPE.sub(one, written)


def _random_texts(count: int, seed: int) -> list[str]:
    """Text mixing plain characters, JSON escapes (surrogate pairs included), percent-encoded UTF-8,
    character references and escapes nobody reads: half a surrogate pair, `\\x`, `\\u` without four hex
    digits, bytes that are no UTF-8, a reference to no character, a lone `%`, `&#` or backslash."""
    rng = random.Random(seed)
    characters = "张伟欧阳a1 %\\u\"😀é\n"
    broken = ["\\ud83d", "\\ude00x", "\\x", "\\u12", "\\users", "%E9%99", "%ZZ", "%C0%80", "%ED%A0%80",
              "%F4%90%80%80", "%80", "%", "\\", "&#0;", "&#xD800;", "&#99999999;", "&#;", "&#x;", "&amp;",
              "&#"]

    def piece() -> str:
        kind = rng.randrange(5)
        text = "".join(rng.choice(characters) for _ in range(rng.randint(1, 4)))
        if kind == 0:
            return text
        if kind == 1:
            return json.dumps(text)[1:-1]
        if kind == 2:
            return urllib.parse.quote(text)
        if kind == 3:
            return "".join(f"&#{ord(c)};" if rng.random() < 0.5 else f"&#x{ord(c):X};" for c in text)
        return rng.choice(broken)

    return ["".join(piece() for _ in range(rng.randint(0, 8))) for _ in range(count)]


@pytest.mark.parametrize("count", [SMALL_BATCH // 2, 3000])
def test_a_batch_is_read_as_each_escape_decodes(count: int) -> None:
    texts = _random_texts(count, seed=count)
    reading = read(pa.array(texts), percent=True)
    assert reading.read.to_pylist() == [_reference(text) for text in texts]
    # Each character read is placed on what writes it: the character itself, or escapes that read as it.
    for row, text in enumerate(texts):
        characters = reading.read[row].as_py()
        bounds = np.cumsum([0] + [len(c.encode()) for c in characters])
        rows = np.full(len(characters), row)
        start, end = reading.as_written(rows, bounds[:-1], bounds[1:])
        data = text.encode()
        assert [_reference(data[s:e].decode()) for s, e in zip(start, end, strict=True)] == list(characters)
        assert list(start[1:]) == list(end[:-1]) and (not len(start) or (start[0], end[-1]) == (0, len(data)))


def test_a_backslash_that_escapes_nothing_is_read_as_written() -> None:
    # A Windows path beside an escaped name: `\\users` is no escape (it once stopped the run).
    text = "路径C:\\users\\张伟\\x 借款人\\u674e\\u6587\\u5f3a已还款"
    assert _found(text) == [("CN_PERSON_NAME", "张伟"), ("CN_PERSON_NAME", "李文强")]


def test_a_batch_finds_what_one_value_at_a_time_finds() -> None:
    names = ["陈建国", "王桂兰", "欧阳娜娜", "李文强"]
    texts = []
    for i in range(SMALL_BATCH + 44):
        name = names[i % len(names)]
        written = (urllib.parse.quote(name) if i % 3 == 0 else json.dumps(name)[1:-1] if i % 3 == 1
                   else name)
        texts.append(f"第{i}条：借款人{written}已还款，电话1391234{i:04d}")
    found = engine.find(pa.array(texts))
    for row, text in enumerate(texts):
        mine = found.row == row
        spans = list(zip(found.entity[mine].tolist(), found.start[mine].tolist(), found.end[mine].tolist(),
                         strict=True))
        data = text.encode()
        assert [(e, _read(data[s:t].decode())) for e, s, t in spans] == [
            ("CN_PERSON_NAME", names[row % len(names)]), ("CN_PHONE", f"1391234{row:04d}")]
        assert [(f.entity, f.start, f.end) for f in detect(text)] == [
            (e, len(data[:s].decode()), len(data[:t].decode())) for e, s, t in spans]


def test_a_mask_hides_the_escapes_whole(tmp_path: Path) -> None:
    url = f"/cb?name={urllib.parse.quote('欧阳娜娜')}&note={urllib.parse.quote('联系人王芳')}"
    source, output = tmp_path / "in", tmp_path / "out"
    source.mkdir()
    pq.write_table(pa.table({"request": [url]}), source / "part-0.parquet")
    assert api.run(str(source), str(output), CONFIGS / "default.yaml").status == "ok"
    masked = urllib.parse.parse_qs(pq.read_table(output / "part-0.parquet").column("request")[0].as_py()
                                   .split("?")[1])
    assert set(masked["name"][0]) == {"*"} and masked["note"][0].startswith("联系人")
    assert "王芳" not in masked["note"][0]


@pytest.mark.parametrize("written", [
    "".join(f"&#{ord(c)};" for c in "15879223260"),  # character references
    "".join(f"\\u{ord(c):04x}" for c in "15879223260"),  # JSON escapes
])  # fmt: skip
def test_a_number_written_with_escapes_is_masked_whole(written: str, tmp_path: Path) -> None:
    """The digits an escape is written with are not the number's: a mask that kept some of them left the
    number readable (`…&#50;&#50;&#5*;&#**;&#54;&#48;` read 1587922**60)."""
    source, output = tmp_path / "in", tmp_path / "out"
    source.mkdir()
    pq.write_table(pa.table({"remark": [f"联系人\\u5f20\\u4f1f，电话{written}"]}), source / "part-0.parquet")
    assert api.run(str(source), str(output), CONFIGS / "default.yaml").status == "ok"
    masked = pq.read_table(output / "part-0.parquet").column("remark")[0].as_py()
    assert masked.startswith("联系人") and set(masked.split("电话")[1]) == {"*"}
