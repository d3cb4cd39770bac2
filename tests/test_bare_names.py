"""Names with nothing around them, found by the odds of their characters (`recognizers.bare_names`), and
the pieces they are decided with: the character odds, the batch's code points, the word lookups."""

from __future__ import annotations

import random

import numpy as np
import pyarrow as pa
import pytest

from recognizers import detect, person_name
from recognizers.arrays import code_points
from recognizers.name_odds import GIVEN, SURNAME, VERB, log_odds, odds
from recognizers.name_words import characters, inside_long_word, member, overlapping_division, tables
from recognizers.patterns import overlapping


def _names(text: str) -> list[str]:
    return [text[f.start : f.end] for f in detect(text) if f.entity == "CN_PERSON_NAME"]


@pytest.mark.parametrize(("text", "names"), [
    ("张建国在会上说下周还款", ["张建国"]),
    ("已电话告知刘芳，逾期费用按合同计收", ["刘芳"]),
    ("3月5日赵静确认收到催收函", ["赵静"]),
    ("今天冯欣和李兵吵了一架", ["冯欣", "李兵"]),  # not 冯欣和 nor 和李兵
    ("让陈志强转告他父亲", ["陈志强"]),
    ("陈阳搬到天津市了", ["陈阳"]),  # 搬 starts a verb: not 陈阳搬
    ("紧急联系人周利未接通", ["周利"]),  # after a label too
    ("邻居豆桂芳说一家人都搬走了", ["豆桂芳"]),  # not 桂芳, though 桂 is a surname too
    ("江泽民主席发表新年讲话", ["江泽民"]),  # 民主 is a word, but 主席 starts after it
    ("扎西顿珠说下个月还", ["扎西顿珠"]),
    ("斯琴高娃来电询问", ["斯琴高娃"]),
    ("上门时只见到了其其格的母亲", ["其其格"]),  # a Mongolian name of one word
    ("包·巴特尔和李强都说不知道", ["包·巴特尔", "李强"]),  # the dotted name whole, not its 巴特尔
    ("收款人：图雅，开户行呼和浩特分行", ["图雅"]),  # one part of a Tibetan name after a label
    ("外访后向陈婷发送律师函", ["陈婷"]),  # 向 is a surname too, but 陈婷 reads better than 向陈婷
    ("王芳去银行办理还款", ["王芳"]),  # 去 ends the run an organisation's name would be
    ("借款人李明经营一家公司，月收入2万", ["李明"]),  # a count ends that run too
    ("收款人：周大福，开户行建设银行", ["周大福"]),  # a brand's name after a strong label is a person's
    ("Holder Name: 方军 / Tel 021-61234567", ["方军"]),  # an English label is a strong one: 方军 is a word
    ("那一年刘伯承主持军事工作", ["刘伯承"]),  # 伯 is a form of address, and likely in a given name
    ("今借到祖力皮亚·托合提人民币2万元", ["祖力皮亚·托合提"]),
    ("5号上午MA JIANHUA到柜台办理", ["MA JIANHUA"]),
    ("She lives with Lin Wei in Hangzhou", ["Lin Wei"]),
    ("太史慈说下个月还", ["太史慈"]),  # the compound surname still starts a name
])  # fmt: skip
def test_names_without_a_cue(text: str, names: list[str]) -> None:
    assert _names(text) == names


@pytest.mark.parametrize("text", [
    "温馨提示：请按时还款，保持良好信用。",  # 温馨 is tagged as a name in jieba's dictionary
    "雷雨天气，北京市部分区域配送延迟。",
    "他做事向来马到成功",  # inside an idiom
    "中国工商银行阿姆斯特丹 信用卡",  # inside a transliterated place
    "广西壮族自治区石家庄市翔安区******",  # what a masked address keeps: verify must not fail on it
    "核实工作单位为红河哈尼族彝族自治州宏达建材有限公司",
    "由于长江泥沙的冲积",  # 由 is a weak label, 由于 a word
    "胡姐接待，已登记",  # a surname and a form of address
    "邓工、谢哥均表示不认识借款人",  # 哥 is no given name's first character
    "经乌兰察布市转运",  # a part of a Mongolian name that starts a place
    "上周在周大福买的金项链",  # brands and lenders' products named like a person
    "用户称花呗利息太高",
    "平安普惠、宜人贷均有逾期",
    "东莞华星电子分公司来函",  # a company, though 电 ends a name (`张三电话`)
    "送货到杨家坪步行街",  # a neighbourhood below the divisions
    "杨阿姨来电询问进度",
    "Hong Kong branch",
    "邓某已还款",
    "他说一家人都搬走了",  # 家人 is no label before a name
    "李宁牌运动鞋已签收",
    "【安逸花】尊敬的客户，您的账单已出",
    "客户嫌手续费太贵", "宝宝不是太喜欢",  # 太 starts the compound surname 太史 and is no surname alone
])  # fmt: skip
def test_words_titles_and_places_are_not_bare_names(text: str) -> None:
    assert _names(text) == []


@pytest.mark.parametrize("text", ["王", "", "张伟", "李", "a", "😀张伟😀"])
def test_short_values_alone_in_a_batch(text: str) -> None:
    """A batch shorter than the longest word looked up: no index runs past its characters."""
    found = person_name.find(pa.array([text]), None)
    assert [text.encode()[s:e].decode() for s, e in zip(found.start, found.end, strict=True)] == (
        ["张伟"] if "张伟" in text else [])


def test_the_odds_of_characters_in_names() -> None:
    def of(ch: str, role: int) -> float:
        return float(odds(np.array([ord(ch)]), role)[0])

    assert of("李", SURNAME) > 5 > of("和", SURNAME)  # 和 is a surname, far more often a conjunction
    assert of("芳", GIVEN) > 3 > 0 > of("的", GIVEN)
    assert of("彤", GIVEN) > 3  # a modern given name: counted from real names, not 1998 news
    assert of("搬", VERB) > of("搬", GIVEN) and of("伟", VERB) < of("伟", GIVEN)
    assert of("\u4dbf", SURNAME) == of("\u4dbf", GIVEN) == of("\u4dbf", VERB) == 0  # unseen anywhere: no odds
    assert of("\U00020000", GIVEN) == float(log_odds()[GIVEN].min())  # beyond the table: the lowest


def test_code_points_are_the_characters_of_the_utf8_bytes() -> None:
    text = "a张伟€😀é\x00"
    data = np.frombuffer(text.encode(), dtype=np.uint8)
    point, at, width = code_points(data, np.ones(len(data), dtype=bool))
    assert [chr(p) for p in point] == list(text)
    assert width.tolist() == [len(ch.encode()) for ch in text]
    assert at.tolist() == [len(text[:k].encode()) for k in range(len(text))]
    some = np.isin(np.arange(len(data)), [4, 5, 6, 10, 11, 12, 13])  # the bytes of 伟 and 😀
    assert [chr(p) for p in code_points(data, some)[0]] == ["伟", "😀"]


def test_a_batch_keeps_its_characters_beyond_ascii_and_their_neighbours() -> None:
    values = pa.array(["借款人王芳13800138000，电话", '{"name": "李四"}', "ok", None, "", "x张"])
    text = characters(values)
    kept = [(int(row), chr(point)) for row, point in zip(text.value, text.point, strict=True)]
    expected = [(0, ch) for ch in "借款人王芳10，电话"] + [(1, ch) for ch in '"李四"'] + [(5, "x"), (5, "张")]
    assert kept == expected
    for row, start, point in zip(text.value, text.at, text.point, strict=True):  # each where it is written
        assert values[int(row)].as_py().encode()[start - text.offsets[row]:].decode()[0] == chr(point)
    offsets = pa.py_buffer(np.array([0, 4], np.int32))
    invalid = pa.StringArray.from_buffers(1, offsets, pa.py_buffer(b"ok\xff\xfe"))
    with pytest.raises(UnicodeDecodeError):
        characters(invalid)


def test_overlaps_agree_with_pairwise_comparison() -> None:
    rng = random.Random(11)

    def random_spans(count: int) -> list[tuple[int, int, int]]:
        starts = [rng.randrange(30) for _ in range(count)]
        return [(rng.randrange(4), s, s + rng.randrange(1, 6)) for s in starts]

    spans, others = sorted(random_spans(60)), random_spans(40)
    row, start, end = (np.array(column) for column in zip(*spans, strict=True))
    other_row, other_start, other_end = (np.array(column) for column in zip(*others, strict=True))
    expected = [any(r == o[0] and s < o[2] and o[1] < e for o in others) for r, s, e in spans]
    assert overlapping(row, start, end, other_row, other_start, other_end).tolist() == expected
    none = np.zeros(0, dtype=np.int64)
    assert overlapping(row, start, end, none, none, none).tolist() == [False] * len(spans)


def test_long_words_and_division_names_are_found_around_a_span() -> None:
    values = pa.array(["他做事马到成功", "马到", "石家庄市翔安区", "翔安区"])
    text = characters(values)
    # Characters of the batch, counted across values: 马到 in 马到成功 (inside), 马到 alone (its value is too
    # short), 庄市翔 (overlaps 石家庄市 and 翔安区), 翔安 (inside 翔安区).
    at = np.array([3, 7, 11, 16])
    size = np.array([2, 2, 3, 2])
    assert inside_long_word(text, at, size).tolist() == [True, False, False, False]
    assert overlapping_division(text, at, size).tolist() == [False, False, True, True]


@pytest.mark.parametrize("table", ["any_words", "places", "surnames"])  # with a sketch and without
def test_a_lookup_finds_exactly_the_words_of_its_table(table: str) -> None:
    known = tables()[table].keys
    rng = np.random.default_rng(5)
    keys = np.concatenate([known[::7], known[::11] + 1, rng.integers(0, 2**62, 5000), [-1]])
    assert member(keys, table).tolist() == np.isin(keys, known).tolist()
