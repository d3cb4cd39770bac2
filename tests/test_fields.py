"""JSON documents in a text column, searched field by field (recognizers/fields.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline import api
from recognizers import detect, engine
from recognizers.fields import LABEL, found_in_fields, members
from recognizers.patterns import SMALL_BATCH, TextFound, text_found

CONFIGS = Path(__file__).parent.parent / "configs"


def _found(text: str) -> list[tuple[str, str]]:
    return [(f.entity, text[f.start : f.end]) for f in detect(text)]


def test_the_value_of_a_name_key_is_a_name_whole_as_in_a_name_column() -> None:
    # How a borrower saved a contact (`陈姐`, `老王`) is a name under `name`, as in a contact_name column;
    # in free text neither is one.
    text = json.dumps([{"name": "陈姐", "relation": "父亲", "phone": "13912345678"},
                       {"name": "老王", "relation": "其他"}], ensure_ascii=False)
    assert _found(text) == [("CN_PERSON_NAME", "陈姐"), ("CN_PHONE", "13912345678"),
                            ("CN_PERSON_NAME", "老王")]


@pytest.mark.parametrize(("document", "expected"), [
    ({"borrower": "高来福", "relation": "spouse"}, [("CN_PERSON_NAME", "高来福")]),  # a key labels its value
    ({"王建国": 13800138000, "借款人": "李秀英"},  # a key that is a name; a number value is still a number
     [("CN_PERSON_NAME", "王建国"), ("CN_PHONE", "13800138000"), ("CN_PERSON_NAME", "李秀英")]),
    ({"receiver": {"name": "边鑫", "addr": "无锡市梁溪区中山路151号枫林国际E座3301"}, "ok": True, "n": None},
     [("CN_PERSON_NAME", "边鑫"), ("CN_ADDRESS", "无锡市梁溪区中山路151号枫林国际E座3301")]),
    ({"cust_name": "赵××", "city": "临沂市", "dpd": 109}, []),  # masked already; a city alone
    ({"tags": ["刘德华", "联系人王芳"], "remark": "已接通"},
     [("CN_PERSON_NAME", "刘德华"), ("CN_PERSON_NAME", "王芳")]),
])
def test_fields_of_a_document(document: object, expected: list[tuple[str, str]]) -> None:
    assert _found(json.dumps(document, ensure_ascii=False)) == expected


@pytest.mark.parametrize(("text", "names"), [
    ('{"note": "联系人王芳说明天还款", "x": "a', ["王芳"]),  # a string left open
    ('客户说 {"name": "张伟"}', ["张伟"]),  # text around the document
    ('{"a": Sun Li, "b": "联系人王芳"}', ["Sun Li", "王芳"]),  # not JSON
])
def test_a_value_that_is_not_a_document_throughout_is_free_text_whole(text: str, names: list[str]) -> None:
    assert members(pa.array([text])) is None
    assert _found(text) == [("CN_PERSON_NAME", name) for name in names]


def test_a_batch_places_each_distinct_field_in_every_document_holding_it() -> None:
    rng = np.random.default_rng(7)
    names = ["陈姐", "王桂兰", "欧阳娜娜", "吐尔洪·阿西木"]
    texts = []
    for i in range(SMALL_BATCH * 2):  # a batch large enough for Arrow's kernels
        contacts = [{"name": names[k], "relation": "配偶", "phone": f"139{i:04d}{k:04d}"}
                    for k in rng.permutation(len(names))[: 1 + i % 3]]
        texts.append(json.dumps({"id": i, "contacts": contacts}, ensure_ascii=i % 2 == 0))
    found = engine.find(pa.array(texts))
    data = [t.encode() for t in texts]
    for row, text in enumerate(texts):
        mine = found.row == row
        written = [data[row][s:e].decode() for s, e in zip(found.start[mine], found.end[mine], strict=True)]
        expected = [x for c in json.loads(text)["contacts"] for x in (c["name"], c["phone"])]
        assert [json.loads(f'"{w}"') for w in written] == expected  # `\u9648\u59d0` where JSON escapes
        assert found.value.filter(pa.array(mine)).to_pylist()[::2] == expected[::2]  # tokens as unescaped
        assert [(f.entity, text[f.start : f.end]) for f in detect(text)] == list(
            zip(found.entity[mine].tolist(), written, strict=True))


def test_escaped_fields_are_read_as_json_reads_them_and_masked_as_valid_json(tmp_path) -> None:
    # Python's json.dumps escapes every character beyond ASCII: the names and addresses are in clear to
    # any reader of the JSON, yet no free-text search sees them.
    contacts = [{"name": "陈姐", "note": '联系人王芳说"明天"还',
                 "addr": "无锡市梁溪区中山路151号枫林国际E座3301"},
                {"name": "欧阳娜娜", "relation": "父亲", "phone": "13912345678", "odd": "\\x\\ud83d"}]
    text = json.dumps(contacts)
    assert "陈姐" not in text
    assert [(entity, json.loads(f'"{written}"')) for entity, written in _found(text)] == [
        ("CN_PERSON_NAME", "陈姐"), ("CN_PERSON_NAME", "王芳"),
        ("CN_ADDRESS", "无锡市梁溪区中山路151号枫林国际E座3301"), ("CN_PERSON_NAME", "欧阳娜娜"),
        ("CN_PHONE", "13912345678")]
    # Escapes JSON cannot read (`\\x`, half a surrogate pair) stand for themselves; the rest is read.
    odd = '{"odd": "\\x\\ud83d", "name": "\\u9648\\u59d0", "借款人": "\\u6b27\\u9633\\u5a1c\\u5a1c"}'
    assert [(entity, written) for entity, written in _found(odd)] == [
        ("CN_PERSON_NAME", "\\u9648\\u59d0"), ("CN_PERSON_NAME", "\\u6b27\\u9633\\u5a1c\\u5a1c")]
    source, output = tmp_path / "in", tmp_path / "out"
    source.mkdir()
    pq.write_table(pa.table({"contacts": [text]}), source / "part-0.parquet")
    summary = api.run(str(source), str(output), CONFIGS / "default.yaml")
    assert summary.status == "ok"
    masked = json.loads(pq.read_table(output / "part-0.parquet").column("contacts")[0].as_py())
    assert [c.get("name") for c in masked] == ["*" * len("\\u9648\\u59d0"), "*" * len("\\u6b27") * 4]
    assert masked[0]["note"].startswith("联系人") and "王芳" not in masked[0]["note"]
    assert set(masked[0]["addr"]) == {"*"} and masked[1]["relation"] == "父亲"


def test_a_finding_across_a_key_and_its_value_is_placed_on_both() -> None:
    text = '{"开户行地址": "北京"}'
    fields = members(pa.array([text]))
    assert fields is not None and fields.key.text.to_pylist() == ["开户行地址"]
    joined = "开户行地址" + LABEL + "北京"
    across = joined.encode().index("地址".encode())

    def finder(values: pa.Array, column: str | None) -> TextFound:
        assert values.to_pylist() == [joined] and column is None
        one = np.zeros(1, dtype=np.int64)
        return text_found(one, one + across, one + len(joined.encode()), np.array(["x"]), pa.array(["x"]),
                          np.zeros(1, dtype=np.int8))

    found = found_in_fields(finder, {}, fields)
    placed = [text.encode()[s:e].decode() for s, e in zip(found.start, found.end, strict=True)]
    assert placed == ["地址", "北京"]
