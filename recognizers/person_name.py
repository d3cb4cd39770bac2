"""Chinese personal names (CN_PERSON_NAME): where they stand, and how they are written.

No checksum proves a name, so a name is reported only where something says it is one:

- **a name column**: its header (`姓名`, `联系人`, `contact_name`, `xm`…), or failing that its content (most
  distinct values of the batch are surname + given name). Every value of such a column that is shaped
  like a name is reported whole: Han characters (`张伟`, nicknames such as `张哥` too), a minority name
  with the middle dot (`阿依古丽·买买提`), or a name in pinyin (`ZHANG WEI`);
- **a cue around it in free text**: a label before it (`借款人`, `联系人：`, `转账给`, any `…人`, `二姨：`),
  a title after it (`张伟先生`), a verb that follows a person starting a clause (`郭丽娟同意…`), a
  transaction verb after it in a memo (`张伟还款`, `代苏宁还款`), delimiters around it (`…,张三,…`,
  `（魏小红）` after an address), a name before it in a list (`陈英绫、贾丽娟`), an English label or JSON
  key (`Beneficiary: ZHANG WEI`, `"name": "李四"`). The name is a surname (single, or compound such as
  `欧阳`) and one or two given characters: whether the second still belongs to it is decided by the words
  around it (`李磊电话` is 李磊); an ordinary word that starts with a surname character (`客户马上还款`,
  `联系人方便时`), a word for a relation (`岳父`), a place (`玉树市`) or a surname with a title alone
  (`王先生`) is not a name. These decisions are made for all candidates of a batch at once, on their
  code points (`_han_names`);
- **a middle dot between Han characters** (`买买提·艾力`): how transliterated names are written.

The surname list is Faker's zh_CN one with three common spellings and the compound surnames added; the
ordinary words are jieba's dictionary (MIT), read from the installed package, without its segmenter.
"""

from __future__ import annotations

import functools
import importlib.resources
import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from recognizers.arrays import gather, utf8_buffer
from recognizers.context import Context, column_supports
from recognizers.divisions import division_names
from recognizers.patterns import (
    HAN,
    MASKED,
    ORGANISATION_WORDS,
    SPACE,
    SPACE_CHARS,
    TextFound,
    alternation,
    first_by_priority,
    matches,
    no_text_found,
    spans,
    text_found,
    whole_spans,
    without_spaces,
)

ENTITY = "CN_PERSON_NAME"

COMPOUND_SURNAMES = (
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "令狐", "慕容", "夏侯", "尉迟", "公孙", "长孙", "宇文",
    "司徒", "端木", "独孤", "南宫", "西门", "万俟", "闻人", "轩辕", "呼延", "澹台", "公冶", "太史", "申屠",
    "钟离", "赫连", "濮阳", "淳于", "单于", "拓跋", "百里", "东郭", "第五", "左丘", "梁丘", "羊舌",
)  # fmt: skip

_COMPOUND = frozenset(COMPOUND_SURNAMES)
COMMON_VARIANTS = ("肖", "付", "闫")
"""Common surnames in the spelling most people register under, which Faker's list only has as 萧, 傅, 阎."""

STRONG_LABELS = (
    "借款人", "联系人", "户名", "收款人", "付款人", "汇款人", "配偶", "转账给", "转给", "汇给", "付给",
    "打给", "姓名", "担保人", "持卡人", "开户人", "申请人", "债务人", "收件人", "寄件人", "收货人", "经办人",
    "代理人", "法定代表人", "父亲", "母亲", "妻子", "丈夫", "老公", "老婆", "儿子", "女儿", "哥哥", "姐姐",
    "弟弟", "妹妹", "同事", "朋友", "亲属", "室友", "表哥", "表姐", "堂哥", "堂弟", "舅舅", "叔叔", "阿姨",
    "姑姑", "女友", "男友", "前妻", "前夫", "本人", "介绍人", "推荐人", "被保险人", "投保人", "受益人",
    "委托人", "对方", "买家", "卖家", "下单人", "代收人", "签收人", "还款人", "借款人为", "买方", "卖方",
    "妈妈", "爸爸", "通讯录", "联系人1", "联系人2", "联系人3", "户主", "房东", "租客", "领款人", "账户名称",
    "开户名", "客户姓名",
    "法人代表", "法定代表", "之妻", "之夫", "之子", "之女", "之父", "之母", "审核人", "负责人", "实际控制人",
)  # fmt: skip
"""Words after which a surname and given name are a person's name."""
WEAK_LABELS = (
    "客户", "用户", "会员", "学员", "员工", "业务员", "催收员", "坐席", "代", "找", "致电", "联系", "请",
    "为", "与", "由", "给", "根据", "称", "认识", "通知",
)  # fmt: skip
"""Words often followed by a name, as often by an ordinary word (`客户马上还款`): an ordinary word after
them is not a name."""
TITLES = ("先生", "女士", "小姐", "老师", "师傅", "同志", "律师", "医生", "经理", "总监")
"""Titles after a full name (`张伟先生`)."""
VALUE_VERBS = ("还款", "转账", "汇款", "付款", "打款", "借款", "代还", "报销", "垫付", "收款")
"""A transaction verb right after a name that starts a memo (`张伟还款`)."""
SUBJECT_VERBS = (
    "称", "声称", "表示", "同意", "承诺", "承认", "答应", "说", "来电", "拒绝", "要求", "反映", "确认",
    "告知", "回复", "本人", "已于", "已经", "已将", "目前", "现在", "否认", "不同意", "无力", "失联", "提供",
    "的手机", "的电话", "的身份证", "的银行卡", "的账户", "的工作单位", "的家人", "的父亲", "的母亲",
    "的妻子", "的丈夫",
    "系", "名下", "逾期", "欠款", "拖欠", "未还", "已还", "下落不明", "拒接", "到场", "签字",
)  # fmt: skip
"""What follows a person who begins a clause in a note (`郭丽娟同意…`, `，徐芬欣是…` is left alone)."""
CONTEXT: tuple[str, ...] = STRONG_LABELS + WEAK_LABELS
ENGLISH_LABELS = (
    "beneficiary", "beneficiary name", "name", "full name", "account name", "account holder", "holder",
    "payee", "payer", "customer", "customer name", "borrower", "contact", "contact name", "applicant",
    "recipient", "receiver", "sender", "guarantor", "spouse", "mr", "mr.", "ms", "ms.", "mrs", "mrs.", "miss",
    "dear", "deliver to", "attn", "attention", "payer name", "payee name", "transfer to", "transferred to",
    "paid to", "pay to", "sent to",
)  # fmt: skip

COLUMN_HINTS: dict[str, tuple[str, ...]] = {
    "token": ("xm", "lxr", "lxrxm", "khxm", "khmc", "hm", "skr", "skrxm", "fkr", "jkr", "jkrxm", "dbr",
              "poxm", "xingming"),
    "joined": ("name", "fullname", "realname", "truename", "personname", "contactname", "contactsname",
               "custname", "customername", "clientname", "accountname", "acctname", "holdername",
               "cardholdername", "payeename", "payername", "borrowername", "guarantorname", "spousename",
               "applicantname", "beneficiaryname", "recipientname", "receivername", "consigneename",
               "sendername", "emergencycontact", "emergencycontactname", "relativename", "cardholder",
               "beneficiary", "payee", "borrower"),
    "contains": ("姓名", "联系人", "户名", "收款人", "付款人", "持卡人", "开户人", "借款人", "担保人", "配偶",
                 "客户名", "收件人", "收货人", "寄件人", "申请人", "紧急联系"),
}  # fmt: skip

MASK_KEEP = None
"""A name's mask shows its surname and nothing else (`张**`); `keep_first`/`keep_last` do not apply."""

_DOTS = "·•・．."
_KEY_VALUE = f"[\"']?{SPACE}*[:：=]?{SPACE}*[\"']?{SPACE}*"
"""Between an English label and its value: `Name: `, `name = `, `"name": "` in JSON."""
_SYLLABLE = ("(?:(?:zh|ch|sh|[bpmfdtnlgkhjqxrzcsyw])?(?:iang|iong|uang|ang|eng|ing|ong|ian|iao|uai|uan|"
             "ai|ei|ao|ou|an|en|in|un|ia|ie|iu|ua|uo|ui|ue|er|a|o|e|i|u|v))")
"""A Mandarin syllable in pinyin without tones: a whole value of two or three such words is a name."""
KINSHIP = frozenset((
    "岳父", "岳母", "公公", "婆婆", "舅舅", "叔叔", "阿姨", "姑姑", "姨妈", "舅妈", "伯伯", "伯父", "伯母",
    "叔父", "婶婶", "姥姥", "姥爷", "爷爷", "奶奶", "外公", "外婆", "丈夫", "妻子", "儿子", "女儿", "哥哥",
    "姐姐", "弟弟", "妹妹", "父亲", "母亲", "爸爸", "妈妈", "老公", "老婆", "孙子", "孙女", "侄子", "侄女",
    "外甥", "表哥", "表姐", "堂哥", "堂姐", "师傅", "同事", "朋友", "邻居", "房东", "谢谢", "您好", "你好",
    "再见", "麻烦",
))  # fmt: skip
"""Words for a relation or courtesies, some of which start with a surname character (`岳父`, `谢谢`):
never a name."""
_NOT_NAMES = frozenset((
    "无", "未知", "暂无", "不详", "空", "本人", "null", "none", "n/a", "na", "未填", "其他", "测试", "test",
    "先生", "女士", "小姐",
))  # fmt: skip
"""Placeholders that name columns hold instead of a name."""
_STOP = frozenset(
    "的了在是和与及或等说称已于向给把被让对从到将会要也都还又就才再很不没无有这那其此各每号卡账款电手"
    "身先女共今昨前后上下里外来去回打拨联系表示同意承诺表并但而且则即系为因所以及代签收住总某本"
)
"""Characters that end a name rather than continue it: function words and the first characters of the
words that follow names in notes (`电话`, `已还款`, `表示`, `称`)."""
_PLACE_ENDS = frozenset("市省区县镇乡村路街道号楼室店司局行院厂部科处所站校园馆城")
"""Last characters of places and organisations, never of a given name."""
_NON_NAME_TAGS = frozenset(("d", "v", "a", "c", "p", "r", "t", "m", "q", "u", "f", "s", "vn", "ad", "an", "b",
                            "z", "y", "e", "o", "vd", "mq", "l", "i"))
"""jieba tags of words that are never names even where a name is expected (adverbs, verbs, idioms…); a
rarer noun or place name there is somebody's name (`转给黎阳`, `代苏宁还款`)."""
_SEARCHES = (
    ("labelled", "person_colon", "weakly_labelled"), ("titled",), ("followed",), ("field",), ("colon_field",),
    ("bracketed",), ("after_address",), ("clause",), ("english", "english_han"), ("memo",), ("proxy",),
    ("dotted",), ("pinyin_name",),
)
"""The kinds of evidence that a name stands in free text, each a pattern, searched together where they
share a cue (one pass over the text, the earlier kind first where two match at one place)."""
_SUBTYPES = {"english": "pinyin", "pinyin_name": "pinyin", "dotted": "minority"}
"""The subtype of the names each kind finds (`han` for the others)."""
_SEARCHED = {"english": "latin", "pinyin_name": "latin", "dotted": "dotted"}  # by a search's first kind
"""Which values a kind searches: those with a Latin letter, a dot, or (the others) a surname character."""
_CUES = {
    "titled": alternation(TITLES), "followed": "收|家住|的|[（(]", "person_colon": "[人:：]",
    "colon_field": "[:：]", "bracketed": "[（(]", "after_address": "[（(]",
    "clause": alternation(SUBJECT_VERBS), "memo": alternation(VALUE_VERBS),
    "proxy": alternation(VALUE_VERBS),
}
"""What a value must hold for a kind's pattern to be worth running on it (a cheap search first)."""
_LIST_SEPARATOR = "^(?:[、；;，,/ ]){1,2}$"
"""What stands between two names of a list."""
_STRONG_KINDS = frozenset(("labelled", "titled", "memo", "proxy", "followed", "person_colon"))
"""Patterns whose evidence is as strong as a strong label's."""
MIN_WORD_FREQUENCY = 20
"""Dictionary words rarer than this are not trusted to be ordinary words (jieba lists many rare names)."""
COMMON_WORD_FREQUENCY = 500
"""Words at least this frequent are not names even after a strong label (`联系人信息`)."""
NAME_COLUMN_SHARE = 0.8
"""A column without a name header is a name column when at least this share of its distinct values (and
at least `MIN_COLUMN_VALUES` of them) is a surname and a given name."""
MIN_COLUMN_VALUES = 8
LIST_LENGTH = 5
"""How many names down a list (`联系人：陈英绫、贾丽娟`) the first one's label reaches."""


@functools.cache
def surnames() -> tuple[str, ...]:
    """Single surnames (Faker's zh_CN list, the most common first, and `COMMON_VARIANTS`) and the compound
    ones."""
    from faker.providers.person.zh_CN import Provider

    singles = tuple(s for s in Provider.last_names if len(s) == 1)
    return singles + COMMON_VARIANTS + COMPOUND_SURNAMES


@functools.cache
def _words() -> dict[str, tuple[str, int]]:
    """Ordinary words of two or three characters in jieba's dictionary, with their tags and frequencies
    (names left out)."""
    words: dict[str, tuple[str, int]] = {}
    with importlib.resources.files("jieba").joinpath("dict.txt").open(encoding="utf-8") as lines:
        for line in lines:
            word, frequency, tag = line.split()
            if 2 <= len(word) <= 3 and not tag.startswith("nr") and int(frequency) >= MIN_WORD_FREQUENCY:
                words[word] = (tag, int(frequency))
    return words


@functools.cache
def _search(kinds: tuple[str, ...]) -> str:
    """One pattern for `kinds`: each kind's, its name captured in a group named for the kind."""
    return "|".join(f"(?:{_patterns()[kind].replace('(?P<name>', f'(?P<{kind}>')})" for kind in kinds)


@functools.cache
def _patterns() -> dict[str, str]:
    singles = "[" + "".join(s for s in surnames() if len(s) == 1) + "]"
    surname = f"(?:{alternation(COMPOUND_SURNAMES)}|{singles})"
    han = f"[{HAN}]"
    name = f"(?P<name>{surname}{han}{{1,2}})"  # the finder decides how many given characters belong to it
    ends = f"(?:[，,、;；|｜/。（({SPACE_CHARS}]|$)"  # what ends a field
    strong = alternation(STRONG_LABELS)
    english = f"(?:^|[^{MASKED}A-Za-z0-9_])(?i:{alternation(ENGLISH_LABELS)}){_KEY_VALUE}"
    dot = "[" + re.escape(_DOTS) + "]"
    pinyin = r"[A-Z][a-zA-Z]{0,11}(?:[ \-][A-Z][a-zA-Z]{0,11}){1,2}"
    kin = "(?:姨|舅|叔|伯|姑|哥|姐|弟|妹|爸|妈|嫂|婶)"
    return {
        "surname": surname,
        # In free text: a label, then the surname and up to three more Han characters.
        "labelled": f"{strong}[:：{SPACE_CHARS}]{{0,2}}(?P<name>{surname}{han}{{1,3}})",
        "weakly_labelled": f"{alternation(WEAK_LABELS)}[:：{SPACE_CHARS}]{{0,2}}"
                           f"(?P<name>{surname}{han}{{1,3}})",
        "titled": f"{name}{alternation(TITLES)}",
        "followed": f"{name}(?:收{ends}|家住|的{strong}|[（(]{strong}[）)])",
        # A field of its own: at the start of a value, or between delimiters (`…,张三,…`).
        "field": f"(?:^|[,，|｜\\t;；]){SPACE}*{name}{ends}",
        "english_han": f"{english}{name}",
        # Any word for a person: `…人` (`还款责任人张三`, `债务人：`), a relative with a colon (`二姨：`);
        # any label with a colon when the name fills the field (`催收员：李明，`); a name alone in brackets.
        "person_colon": f"(?:[^{MASKED}无有他某每别个众各些的]人[:：]?|{kin}[:：]){SPACE}*{name}",
        "colon_field": f"[:：]{SPACE}*{name}{ends}",
        # In brackets: a three-character name, or any right after an address (`…1502室（沈芳）`).
        "bracketed": f"[（(](?P<name>{surname}{han}{{2}})[）)]",
        "after_address": f"(?:[0-9室号楼栋幢座层户]|^)[（(]{name}[）)]",
        "clause": f"(?:^|[，。；：:,;、{SPACE_CHARS}（(]){name}{alternation(SUBJECT_VERBS)}",
        "memo": f"^{SPACE}*{name}{alternation(VALUE_VERBS)}",
        "listed": f"[、；;，,/ ]{{1,2}}(?P<name>{surname}{han}{{1,3}})",
        "proxy": f"(?:代|替|帮){name}{alternation(VALUE_VERBS)}",
        "dotted": f"(?P<name>{han}{{1,10}}(?:{dot}{han}{{1,10}})+)",
        "english": f"{english}(?P<name>{pinyin})",
        "pinyin_name": f"^{SPACE}*(?P<name>(?i:{_SYLLABLE}{{1,2}}(?: {_SYLLABLE}{{1,2}}){{1,2}})){SPACE}*$",
        # Whole values of a name column.
        "han_value": f"^\\s*{han}(?:[ \u3000]?{han}){{0,5}}\\s*$",  # `张 伟`: characters spaced out
        "dotted_value": f"^\\s*{han}{{1,10}}(?:\\s*{dot}\\s*{han}{{1,10}})+\\s*$",
        "pinyin_value": r"^\s*[A-Za-z]{1,10}(?:[ ,.\-]{1,2}[A-Za-z]{1,10}){1,3}\s*$",
        "strict_value": f"^\\s*{surname}{han}{{1,2}}\\s*$",
    }


def find(values: pa.Array, column: str | None) -> TextFound:
    """The names in a batch of distinct values: whole values of a name column, and names in free text."""
    if column_supports(column, COLUMN_HINTS) or _named_by_content(values):
        return _column_values(values)
    return _in_text(values)


def _named_by_content(values: pa.Array) -> bool:
    """Whether most distinct values are a surname and a given name (a name column under another header)."""
    present = values.filter(pc.is_valid(values))
    if len(present) < MIN_COLUMN_VALUES:
        return False
    shaped = present.filter(pa.array(matches(present, _patterns()["strict_value"])))
    if len(shaped) < NAME_COLUMN_SHARE * len(present):
        return False
    # A value counts when the name it holds is all of it: not a place (`江苏省`), a word or a relation.
    start, end, _ = whole_spans(shaped)
    data, offsets = utf8_buffer(shaped)
    chars, _, length = _code_points(data, offsets[:-1] + start, offsets[:-1] + end, offsets[1:])
    names = _han_names(chars, length, np.zeros(len(shaped), dtype=bool))
    return int((names == length).sum()) >= NAME_COLUMN_SHARE * len(present)


def _column_values(values: pa.Array) -> TextFound:
    """Every value of a name column shaped like a name, whole (surrounding whitespace left out)."""
    patterns = _patterns()
    han = matches(values, patterns["han_value"])
    dotted = matches(values, patterns["dotted_value"])
    pinyin = matches(values, patterns["pinyin_value"])
    shaped = np.flatnonzero(han | dotted | pinyin)
    placeholder = pc.is_in(pc.utf8_lower(pc.utf8_trim_whitespace(values.take(pa.array(shaped)))),
                           value_set=pa.array(sorted(_NOT_NAMES)))
    shaped = shaped[~placeholder.to_numpy(zero_copy_only=False)]
    if not len(shaped):
        return no_text_found()
    start, end, stripped = whole_spans(values.take(pa.array(shaped)))
    subtype = np.where(pinyin[shaped], "pinyin", np.where(dotted[shaped], "minority", "han"))
    return text_found(shaped, start, end, subtype, normalize(stripped), np.full(len(shaped), Context.FOR))


def _in_text(values: pa.Array) -> TextFound:
    """Names in free text, found by every kind of cue (`_SEARCHES`) and decided in bulk."""
    patterns = _patterns()
    data, offsets = utf8_buffer(values)
    # Han names need a surname character, pinyin ones a Latin letter, and each kind its cue: a kind's
    # pattern searches only the values that can hold it.
    subsets = {"han": np.flatnonzero(matches(values, f"{patterns['surname']}[{HAN}]")),
               "latin": np.flatnonzero(matches(values, "[A-Za-z]")),
               "dotted": np.flatnonzero(matches(values, "[" + re.escape(_DOTS) + "]"))}
    found: list[tuple[np.ndarray, ...]] = []  # row, start, end, subtype
    for kinds in _SEARCHES:
        subset = subsets[_SEARCHED.get(kinds[0], "han")]
        if kinds[0] in _CUES and len(subset):
            subset = subset[matches(values.take(pa.array(subset)), _CUES[kinds[0]])]
        if not len(subset):
            continue
        row, start, end, which = spans(values.take(pa.array(subset)), _search(kinds), *kinds)
        row = subset[row]
        for number, kind in enumerate(kinds):
            mine = which == number
            if kind in _SUBTYPES:  # pinyin and dotted names, few: one by one
                found.append(_named_one_by_one(kind, values, row[mine], start[mine], end[mine]))
            else:
                found.append(_decided(data, offsets, row[mine], start[mine], end[mine],
                                      np.full(int(mine.sum()), kind in _STRONG_KINDS)))
    none = np.zeros(0, dtype=np.int64)
    row, start, end = (np.concatenate([none] + [f[k] for f in found]) for k in range(3))
    subtype = np.concatenate([np.zeros(0, dtype=str)] + [f[3] for f in found])
    listed = _listed(values, data, offsets, row, end)
    row, start, end = (np.concatenate([a, b]) for a, b in zip((row, start, end), listed, strict=True))
    subtype = np.concatenate([subtype, np.full(len(listed[0]), "han")])
    named = ~_starts_organisation(values, row, end)
    row, start, end, subtype = row[named], start[named], end[named], subtype[named]
    if not len(row):
        return no_text_found()
    keep = first_by_priority(row, start, end, start)  # overlapping finds: the earliest, then the longest
    names = gather(data, offsets[row[keep]] + start[keep], end[keep] - start[keep])
    return text_found(row[keep], start[keep], end[keep], subtype[keep], normalize(names),
                      np.full(len(keep), Context.FOR))


def _starts_organisation(values: pa.Array, row: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Whether each name found is the start of an organisation's name: the Han characters after it, up to
    one that ends a name (`_STOP`), end in an organisation word (`户名华泰通安网络有限公司`)."""
    starts = np.zeros(len(row), dtype=bool)
    holding = np.flatnonzero(matches(values, alternation(ORGANISATION_WORDS)))
    for i in np.flatnonzero(np.isin(row, holding)).tolist():
        after = values[int(row[i])].as_py().encode()[end[i] :].decode()
        run = re.match(f"[{HAN}]*", after).group()
        run = run[: next((k for k, ch in enumerate(run) if ch in _STOP), len(run))]
        starts[i] = any(word in run for word in ORGANISATION_WORDS)
    return starts


def _named_one_by_one(kind: str, values: pa.Array, row: np.ndarray, start: np.ndarray, end: np.ndarray
                      ) -> tuple[np.ndarray, ...]:
    """Pinyin names as found, and dotted names without a label before or words after them."""
    kept = []
    for r, s, e in zip(row.tolist(), start.tolist(), end.tolist(), strict=True):
        text = values[r].as_py().encode()[s:e].decode()
        name = _dotted_end(text) if kind == "dotted" else text
        begin = s + len(text[: text.find(name)].encode())  # past a label a dotted match began with
        kept.append((r, begin, begin + len(name.encode())))
    row, start, end = (np.array([k[i] for k in kept], dtype=np.int64) for i in range(3))
    return row, start, end, np.full(len(kept), _SUBTYPES[kind])


def _decided(data: np.ndarray, offsets: np.ndarray, row: np.ndarray, start: np.ndarray, end: np.ndarray,
             strong: np.ndarray) -> tuple[np.ndarray, ...]:
    """The Han names that candidates (a surname and up to three more characters) hold, as spans."""
    chars, widths, length = _code_points(data, offsets[row] + start, offsets[row] + end, offsets[row + 1])
    size = _han_names(chars, length, strong)
    named = size > 0
    taken = np.take_along_axis(np.cumsum(widths, axis=1), np.maximum(size - 1, 0)[:, None], axis=1)[:, 0]
    return row[named], start[named], start[named] + taken[named], np.full(int(named.sum()), "han")


def _code_points(data: np.ndarray, begin: np.ndarray, end: np.ndarray, limit: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The code points of the characters from byte `begin` to `end`, then of the one character after
    them (before `limit`, the end of the value), as an (n, `_WIDTH` + 1) matrix padded with 0; each
    character's byte width; and how many characters are before `end`. Decoded from UTF-8 with numpy,
    one column at a time."""
    count = len(begin)
    chars = np.zeros((count, _WIDTH + 1), dtype=np.int64)
    widths = np.zeros((count, _WIDTH + 1), dtype=np.int64)
    length = np.zeros(count, dtype=np.int64)
    at, reading = begin.astype(np.int64), np.ones(count, dtype=bool)
    last = max(len(data) - 1, 0)
    for column in range(_WIDTH + 1):
        live = reading & (at < limit)
        lead = data[np.minimum(at, last)].astype(np.int64)
        width = np.where(lead < 0x80, 1, np.where(lead >= 0xF0, 4, np.where(lead >= 0xE0, 3, 2)))
        point = np.where(width == 1, lead, lead & (0xFF >> (width + 1)))
        for k in range(1, 4):
            point = np.where(k < width, (point << 6) | (data[np.minimum(at + k, last)] & 0x3F), point)
        chars[:, column] = np.where(live, point, 0)
        widths[:, column] = np.where(live, width, 0)
        length += live & (at < end)
        reading = live & (at < end)  # the character after the candidate is read, then no more
        at = at + width
    return chars, widths, length


def _listed(values: pa.Array, data: np.ndarray, offsets: np.ndarray, row: np.ndarray, end: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The names that follow a found name in a list (`陈英绫、贾丽娟；东方军`), up to `LIST_LENGTH` down:
    candidates whose separator starts where a found name ends."""
    none = np.zeros(0, dtype=np.int64)
    following_row, following_start, following_end, _ = spans(values, _patterns()["listed"], "name")
    found: list[tuple[np.ndarray, ...]] = [(none, none, none)]
    ends = np.unique((row.astype(np.int64) << 32) | end)
    for _ in range(LIST_LENGTH):
        if not len(ends) or not len(following_row):
            break
        linked = np.zeros(len(following_row), dtype=bool)
        for gap in (1, 2, 3, 4, 6):  # one or two separators of one or three bytes each
            key = (following_row.astype(np.int64) << 32) | (following_start - gap)
            hit = np.flatnonzero(ends[np.minimum(np.searchsorted(ends, key), len(ends) - 1)] == key)
            between = gather(data, offsets[following_row[hit]] + following_start[hit] - gap,
                             np.full(len(hit), gap))
            linked[hit[matches(between, _LIST_SEPARATOR)]] = True
        chosen = np.flatnonzero(linked)
        r, s, e, _ = _decided(data, offsets, following_row[chosen], following_start[chosen],
                              following_end[chosen], np.zeros(len(chosen), dtype=bool))
        found.append((r, s, e))
        ends = np.unique((r.astype(np.int64) << 32) | e)
    return tuple(np.concatenate([f[k] for f in found]) for k in range(3))  # type: ignore[return-value]


def _han_names(chars: np.ndarray, length: np.ndarray, strong: np.ndarray) -> np.ndarray:
    """How many characters of each candidate are a name, 0 for none, decided for all candidates at once on
    their code points (`_code_points`: a surname and up to three Han characters, `length` of them, then the
    character after them): the surname and the one or two given characters that the words after them
    leave it (`李磊电话` is 李磊, 电话 being a word; `徐晓东来电` is 徐晓东, 来电 being one), never a word
    for a relation, never an ordinary word (`马上`, `方便`) unless the evidence is `strong` and the word a
    rarer noun (`联系人高峰`), never a place (`玉树市`, `为玉树藏…`)."""
    count = len(chars)
    if not count:
        return np.zeros(0, dtype=np.int64)
    rows = np.arange(count)
    surname = 1 + _member(_keys(chars, 0, 2), "compound")
    first, second = chars[rows, surname], chars[rows, surname + 1]
    has_second = surname + 1 < length
    keep = ~_member(first, "stop") & (surname < length)
    keep &= ~(has_second & _member(_keys(chars, surname, 2), "titles"))
    # The second given character ends the name where it starts a word with the character after it,
    # unless that character starts a word with the next one (`徐晓东来电`: 来电, so 东 is the name's).
    cut = _member(second, "stop") | (_member(_keys(chars, surname + 1, 2), "words")
                                     & ~_member(_keys(chars, surname + 2, 2), "words"))
    given = np.where(has_second & ~cut, 2, 1)
    size = surname + given
    for word in (_keys(chars, 0, size), _keys(chars, 0, surname + 1)):
        keep &= ~_member(word, "kinship")
        ordinary = np.where(strong, _member(word, "not_after_strong"), _member(word, "words"))
        keep &= ~ordinary
    keep &= ~_member(chars[rows, size - 1], "place_ends")
    keep &= ~_member(_keys(chars, 0, size + 1), "places")
    return np.where(keep, size, 0)


_WIDTH = 6
"""Characters of a candidate read: a compound surname and three more, with room to spare."""


def _keys(chars: np.ndarray, start: np.ndarray | int, size: np.ndarray | int) -> np.ndarray:
    """The `size` (at most 3) characters of each row from `start` as one integer (21 bits a character),
    -1 where they would run past the row: a word's key in `_tables`."""
    rows = np.arange(len(chars))
    start = np.broadcast_to(start, rows.shape)
    size = np.broadcast_to(size, rows.shape)
    key = np.zeros(len(chars), dtype=np.int64)
    for k in range(3):
        at = np.minimum(start + k, chars.shape[1] - 1)
        key |= np.where(k < size, chars[rows, at], 0) << (21 * k)
    return np.where((size <= 3) & (start + size <= chars.shape[1]), key, -1)


def _member(keys: np.ndarray, table: str) -> np.ndarray:
    """Whether each key is in one of `_tables` (sorted: a binary search, no set built per call)."""
    known = _tables()[table]
    at = np.minimum(np.searchsorted(known, keys), len(known) - 1)
    return known[at] == keys


def _key(word: str) -> int:
    return sum(ord(ch) << (21 * k) for k, ch in enumerate(word))


@functools.cache
def _tables() -> dict[str, np.ndarray]:
    """The word lists `_han_names` looks characters and words up in, as sorted integer keys."""
    words = _words()

    def keys(items: object) -> np.ndarray:
        return np.unique(np.array([_key(w) for w in items if len(w) <= 3], dtype=np.int64))

    return {
        "compound": keys(COMPOUND_SURNAMES),
        "stop": keys(_STOP),
        "titles": keys(TITLES),
        "words": keys(words),
        "not_after_strong": keys(w for w, (tag, frequency) in words.items()
                                 if tag in _NON_NAME_TAGS or frequency >= COMMON_WORD_FREQUENCY),
        "kinship": keys(KINSHIP),
        "place_ends": keys(_PLACE_ENDS),
        "places": keys(_places()),
    }


@functools.cache
def _places() -> frozenset[str]:
    """The first two and three characters of every division name (`玉树`, `玉树藏`): a name that starts one
    is a place."""
    return frozenset(name[:k] for name in division_names() for k in (2, 3) if len(name) > k)


def _dotted_end(text: str) -> str:
    """A dotted name without a label before it or the words after its last part (`借款人买买提·艾力来电`
    is `买买提·艾力`)."""
    first = min(text.find(d) for d in _DOTS if d in text)
    cut = max((text.rfind(w, 0, first) + len(w) for w in CONTEXT if text.rfind(w, 0, first) >= 0), default=0)
    text = text[cut:]
    head, dot, last = max((text.rpartition(d) for d in _DOTS), key=lambda parts: len(parts[0]))
    for i in range(2, len(last)):
        if last[i] in _STOP or last[i : i + 2] in _words():
            return head + dot + last[:i]
    return text


def normalize(names: pa.Array) -> pa.Array:
    """The names without spaces, their dots as `·`, and pinyin in upper case with single spaces, so that one
    person written two ways gets one token."""
    han = without_spaces(names)
    for dot in _DOTS:
        if dot != "·":
            han = pc.replace_substring(han, dot, "·")
    pinyin = pc.utf8_trim(pc.replace_substring_regex(pc.utf8_upper(names), "[ \t\n\r\f,.\\-]+", " "), " ")
    return pc.if_else(pc.string_is_ascii(names), pinyin, han)


def surname_length(name: str) -> int:
    """How many leading characters of a Han name are its surname (0 for pinyin and minority names)."""
    if not name or name.isascii() or any(d in name for d in _DOTS):
        return 0
    return 2 if name.startswith(COMPOUND_SURNAMES) else 1


def mask_shown(written: pa.Array) -> np.ndarray:
    """How many leading characters of each written name a mask shows: its surname (`张**`, `欧阳**`);
    nothing of a pinyin or minority name, whose surname cannot be told from its position."""
    compound = matches(written, f"^{alternation(COMPOUND_SURNAMES)}[{HAN}]")
    han = matches(written, f"^[{HAN}][{HAN}]+$")
    dotted = matches(written, "[" + re.escape(_DOTS) + "]")
    return np.where(dotted, 0, np.where(compound, 2, np.where(han, 1, 0)))
