"""Characters written as escapes in free text (recognizers/escapes.py): found as read, placed as written."""

from __future__ import annotations

import json
import urllib.parse
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline import api
from recognizers import detect, engine
from recognizers.escapes import as_written, text_segments
from recognizers.patterns import SMALL_BATCH

CONFIGS = Path(__file__).parent.parent / "configs"
ADDRESS = "无锡市梁溪区中山路151号枫林国际E座3301"


def _read(written: str) -> str:
    """What a reader of the JSON or the URL sees in a span."""
    return urllib.parse.unquote(json.loads(f'"{written}"') if "\\" in written else written)


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
    # A percent sign that escapes nothing, or bytes that are no UTF-8: the text as written.
    ("利率5%以上，客户王强%A5%ZZ已还款", [("CN_PERSON_NAME", "王强")]),
])
def test_names_and_addresses_written_as_escapes_are_found(text: str, expected: list[tuple[str, str]]) -> None:
    assert _found(text) == expected


def test_a_span_read_is_placed_on_the_escapes_that_write_it() -> None:
    written = "x%E9%99%88y\\u59d0z"
    read, _ = text_segments(written)
    assert read == "x陈y姐z"
    start, end = read.encode().index("陈".encode()), read.encode().index(b"z")
    (at,), (until,) = as_written([written], [start], [end], free_text=True)
    assert written.encode()[at:until].decode() == "%E9%99%88y\\u59d0"


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
