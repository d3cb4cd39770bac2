"""`patterns.spans`: every match of a pattern in a batch, found by one RE2 replacement for a large batch and
by Python's `re` for a small one, with the same spans."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from recognizers import address, person_name
from recognizers.evaluation import load
from recognizers.name_words import characters
from recognizers.patterns import SMALL_BATCH, _python_spans, _split_groups, spans

CORPORA = Path(__file__).parent / "corpora"


def _texts() -> pa.Array:
    texts = [record.text for name in ("text_entities_tuning.jsonl", "text_entities_dev.jsonl")
             for record in load(CORPORA / name)]
    # Values that hold the bytes the replacement writes, a null and an empty value among them.
    odd = ["借款人王芳\x03，联系人李四\x04", None, "", "\x05配偶：欧阳娜娜说"]
    return pa.array(texts[:300] + odd + texts[300:])


SEARCHES = {  # every search the finders make, with the groups they ask for (none: whole matches)
    **{kinds[0]: (person_name._search(kinds), () if kinds[0] in person_name._HAN_TAILS else kinds)
       for kinds in person_name._SEARCHES},
    "listed": (person_name._patterns()["listed"], ()),
    "address": (address._patterns()["address"], ()),
}


@pytest.mark.parametrize("search", SEARCHES)
def test_a_large_batch_has_the_spans_python_finds(search: str) -> None:
    pattern, groups = SEARCHES[search]
    values = _texts()
    assert len(values) > SMALL_BATCH
    found = spans(values, pattern, *groups)
    expected = _python_spans(values, pattern, groups)
    assert [column.tolist() for column in found] == [column.tolist() for column in expected]


_PIECES = (
    "借款人", "联系人：", "王", "芳", "张", "伟", "欧阳", "娜", "，", "、", "；", "先生", "（", "）",
    "(", ")", ":", "：", " ", "\t", "\x03", "\x04", "\x05", "name: ", "Name=", "ZHANG WEI", "Li Na", "😀",
    "a", "1",
    "号", "路", "88", "杭州市", "西湖区", "文三路", "称", "同意", "还款", "代", "收", "的", "配偶", "扎西",
    "卓玛", "·", "买买提", "室", "楼", "北京市朝阳区",
)  # fmt: skip


@pytest.mark.parametrize("search", SEARCHES)
def test_random_pieces_of_cues_names_and_record_bytes_have_the_same_spans(search: str) -> None:
    pattern, groups = SEARCHES[search]
    rng = random.Random(7)
    texts = ["".join(rng.choice(_PIECES) for _ in range(rng.randrange(14))) for _ in range(600)]
    values = pa.array([*texts, None])
    found = spans(values, pattern, *groups)
    expected = _python_spans(values, pattern, groups)
    assert [column.tolist() for column in found] == [column.tolist() for column in expected]


def test_several_matches_in_a_value_and_their_groups() -> None:
    kinds = ("labelled", "person_colon", "weakly_labelled")
    values = pa.array(["借款人王芳，联系人李四、张三；转账给赵六", "客户张伟说", "无"] * 100)
    row, start, end, which = spans(values, person_name._search(kinds), *kinds)
    first = [(s, e, kinds[w]) for r, s, e, w in zip(row, start, end, which, strict=True) if r == 0]
    assert first == [(9, 15, "labelled"), (27, 33, "labelled"), (54, 60, "labelled")]
    assert [(s, e, kinds[w]) for r, s, e, w in zip(row, start, end, which, strict=True) if r == 1] == [
        (6, 15, "weakly_labelled")]  # the finder decides how many characters are the name
    assert not np.isin(2, row)


def test_groups_split_into_body_and_what_follows() -> None:
    pattern = "(?:[（(](?P<a>x+)[）)])|(?:y(?P<b>z)w)"
    assert _split_groups(pattern, ("a", "b")) == "(?:[（(](x+)([）)]))|(?:y(z)(w))"
    assert _split_groups("k(?P<a>v)", ("a",)) == "k(v)()"
    for pattern in ("(k)(?P<a>v)", "(?P<b>k)(?P<a>v)"):
        with pytest.raises(ValueError, match="capturing"):
            _split_groups(pattern, ("a",))
    with pytest.raises(ValueError, match="four"):
        _split_groups("|".join(f"(?:(?P<g{k}>x{k}))" for k in range(5)), tuple(f"g{k}" for k in range(5)))


def test_a_han_tail_is_the_name_a_group_would_hold() -> None:
    """Searches without a group (an English label, a list): the Han characters each match ends with are
    what a group around the end of the pattern (a surname and what follows it) would hold."""
    rng = random.Random(11)
    texts = ["".join(rng.choice(_PIECES) for _ in range(rng.randrange(14))) for _ in range(600)]
    values = pa.array([*texts, None, "name: 王芳、张伟伟"] * 2)
    opening = person_name._patterns()["opening"]
    for kind in ("english_han", "listed"):
        pattern = person_name._patterns()[kind]
        at = pattern.rindex(opening)
        row, _, end, _ = spans(values, pattern)
        grouped = _python_spans(values, f"{pattern[:at]}(?P<name>{pattern[at:]})", ("name",))
        assert len(row) > 30
        start = person_name._han_tails(characters(values), row, end)
        assert [row.tolist(), start.tolist(), end.tolist()] == [column.tolist() for column in grouped[:3]]
