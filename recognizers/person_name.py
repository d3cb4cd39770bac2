"""Chinese personal names (CN_PERSON_NAME): where they stand, and how they are written.

No checksum proves a name. A name is reported where something says it is one, or where its characters
alone make one far likelier than ordinary words:

- **a name column**: its header (`姓名`, `联系人`, `contact_name`, `xm`…), or failing that its content (most
  distinct values of the batch are surname + given name). Every value of such a column that is shaped
  like a name is reported whole: Han characters (`张伟`, nicknames such as `张哥` too), a minority name
  with the middle dot (`阿依古丽·买买提`), or a name in pinyin (`ZHANG WEI`);
- **a cue around it in free text**: a label before it (`借款人`, `联系人：`, `转账给`, any `…人`, `二姨：`),
  a title after it (`张伟先生`), a verb that follows a person starting a clause (`郭丽娟同意…`), a
  transaction verb after it in a memo (`张伟还款`, `代苏宁还款`), delimiters around it (`…,张三,…`,
  `（魏小红）` after an address), a name before it in a list (`陈英绫、贾丽娟`), an English label or JSON
  key (`Beneficiary: ZHANG WEI`, `"name": "李四"`), a colon after it that starts a field (`张三：`, a chat
  log's `16:14:29 【孟霞】说：`), a payment app's wording (`红包-来自万露`). The name is a surname (single,
  or compound such as `欧阳`) and one or two given characters: whether the second still belongs to it is
  decided by the words around it (`李磊电话` is 李磊) and by whether it rather starts a verb (`周利未接通`);
  an ordinary word that starts with a surname character (`客户马上还款`, `联系人方便时`), a word for a
  relation (`岳父`), a place (`玉树市`) or a surname with a title alone (`王先生`, `王工`) is not a name.
  After weak evidence (`由`, a delimiter) the characters must also be likely in a name (`name_odds`:
  `由于长江` is none);
- **nothing around it** (`张建国在会上说`): `bare_names`, by the odds of its characters (never a brand's or
  a lender's product's: `周大福`, `花呗`), and Tibetan and Mongolian names without a dot (`扎西顿珠`,
  `其其格`; one part alone after a cue: `收款人：图雅`); a cue's name comes first where they overlap;
- **a middle dot between Han characters** (`买买提·艾力`): how transliterated names are written; **a pinyin
  surname and given name** among other words (`MA JIANHUA到柜台`, `with Lin Wei`).

The decisions are made for all candidates of a batch at once, on its code points (`name_words`). The
surname list is Faker's zh_CN one with three common spellings and the compound surnames added; the
ordinary words are jieba's dictionary (MIT), read from the installed package, without its segmenter.
"""
from __future__ import annotations

import functools
import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from recognizers.arrays import gather, prefix_bytes, ranges, utf8_buffer
from recognizers.bare_names import BARE_ODDS, bare_names, minority_names
from recognizers.building import built_once
from recognizers.context import Context, column_supports
from recognizers.name_odds import GIVEN, SURNAME, VERB, VERB_MARGIN, odds
from recognizers.name_words import (
    COMPOUND_SURNAMES,
    MINORITY_NAME_PARTS,
    MINORITY_NAMES,
    STOP,
    TITLES,
    Characters,
    characters,
    form_of_address,
    inside_long_word,
    is_han,
    keys_at,
    member,
    ordinary_words,
    relation_or_place,
    run_keys,
    surnames,
    window,
)
from recognizers.patterns import (
    HAN,
    ORGANISATION_WORDS,
    SPACE,
    SPACE_CHARS,
    TextFound,
    alternation,
    first_by_priority,
    matches,
    moved,
    no_text_found,
    overlapping,
    spans,
    text_found,
    together,
    whole_spans,
    without_spaces,
)

ENTITY = "CN_PERSON_NAME"


STRONG_LABELS = (
    "借款人", "联系人", "户名", "收款人", "付款人", "汇款人", "配偶", "转账给", "转给", "汇给", "付给",
    "打给", "退款给", "退给", "姓名", "担保人", "持卡人", "开户人", "申请人", "债务人", "收件人", "寄件人",
    "收货人", "经办人",
    "代理人", "法定代表人", "父亲", "母亲", "妻子", "丈夫", "老公", "老婆", "儿子", "女儿", "哥哥", "姐姐",
    "弟弟", "妹妹", "同事", "朋友", "亲属", "室友", "表哥", "表姐", "堂哥", "堂弟", "舅舅", "叔叔", "阿姨",
    "姑姑", "女友", "男友", "前妻", "前夫", "本人", "介绍人", "推荐人", "被保险人", "投保人", "受益人",
    "委托人", "对方", "买家", "卖家", "下单人", "代收人", "签收人", "还款人", "借款人为", "买方", "卖方",
    "妈妈", "爸爸", "通讯录", "联系人1", "联系人2", "联系人3", "户主", "房东", "租客", "领款人", "账户名称",
    "开户名", "客户姓名",
    "法人代表", "法定代表", "之妻", "之夫", "之子", "之女", "之父", "之母", "审核人", "负责人", "实际控制人",
    "家属", "车主", "伤者", "患者", "司机", "驾驶员", "尊敬的", "被告", "原告", "英文名",
)  # fmt: skip
"""Words after which a surname and given name are a person's name."""
WEAK_LABELS = (
    "客户", "用户", "会员", "学员", "员工", "业务员", "催收员", "坐席", "代", "找", "致电", "联系", "请",
    "为", "与", "由", "给", "根据", "称", "认识", "通知", "转告", "我叫", "我是", "转账",
    "来自", "收款-", "提现-", "亲属卡", "财付通",  # a payment app's bill: `红包-来自万露`, `财付通-李子红`
)  # fmt: skip
"""Words often followed by a name, as often by an ordinary word (`客户马上还款`): an ordinary word after
them is not a name."""
PERSON_LABELS = ("客户", "用户", "会员", "学员", "员工", "业务员", "催收员", "坐席", "我叫", "我是")
"""The weak labels that say a person follows: a name that fills its field after one may be a place's
name too (`客户龙华，手机…`, `我叫邹平，`), as after a strong label (`姓名：卢龙`)."""
VALUE_VERBS = ("还款", "转账", "汇款", "付款", "打款", "借款", "代还", "报销", "垫付", "收款", "下单",
               "下的单")
"""A transaction verb right after a name that starts a memo (`张伟还款`) or a proxy's (`帮任立新下的单`)."""
SUBJECT_VERBS = (
    "称", "声称", "表示", "同意", "承诺", "承认", "答应", "说", "来电", "拒绝", "要求", "反映", "确认",
    "告知", "回复", "本人", "已于", "已经", "已将", "目前", "现在", "否认", "不同意", "无力", "失联", "提供",
    "的手机", "的电话", "的身份证", "的银行卡", "的账户", "的工作单位", "的家人", "的父亲", "的母亲",
    "的妻子", "的丈夫",
    "系", "名下", "逾期", "欠款", "拖欠", "未还", "已还", "下落不明", "拒接", "到场", "签字", "不在",
)  # fmt: skip
"""What follows a person who begins a clause in a note (`郭丽娟同意…`, `，徐芬欣是…` is left alone)."""
CONTEXT: tuple[str, ...] = STRONG_LABELS + WEAK_LABELS
ENGLISH_LABELS = (
    "beneficiary", "beneficiary name", "name", "full name", "account name", "account holder", "holder",
    "payee", "payer", "customer", "customer name", "borrower", "contact", "contact name", "applicant",
    "recipient", "receiver", "sender", "guarantor", "spouse", "mr", "mr.", "ms", "ms.", "mrs", "mrs.", "miss",
    "dear", "deliver to", "attn", "attention", "payer name", "payee name", "transfer to", "transferred to",
    "paid to", "pay to", "sent to", "debtor", "agent", "collector", "operator", "handler", "caller",
    "employee", "relative", "emergency contact", "witness", "signatory", "legal representative",
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

COMPOUND_ROMANIZED = ("Ouyang", "Sima", "Shangguan", "Zhuge", "Dongfang", "Huangfu", "Linghu", "Murong",
                      "Xiahou", "Yuchi", "Gongsun", "Zhangsun", "Yuwen", "Situ", "Duanmu", "Dugu", "Nangong")
"""Compound surnames in pinyin, with Faker's `last_romanized_names` the surnames a pinyin name in free text
must have (`ZHANG Wei`, `Xiaoming Liu`)."""
ROMANIZED_NOT_NAMES = frozenset(("hong kong", "tai ping", "he is", "he has", "he said"))
"""Pairs of pinyin-shaped capitalized words that are not a name."""
ENGLISH_TITLES = ("mr", "mrs", "ms", "miss", "dr", "sir", "madam")
"""Titles before a name after an English label (`Dear Mr Zhang Wei`): not the name's; one with a single
word after it is a title and a surname (`Dear Mr Wang`), as `王先生` is."""
ENGLISH_NOT_NAME_WORDS = (
    # Organisations.
    "co", "ltd", "limited", "inc", "llc", "corp", "corporation", "company", "bank", "group", "holdings",
    "technology", "technologies", "tech", "services", "service", "systems", "solutions", "software",
    "network", "networks", "web", "computer", "electronics", "motors", "trading", "industrial",
    "industries", "insurance", "finance", "financial", "securities", "capital", "investment",
    "investments", "partners", "store", "stores", "shop", "mall", "market", "supermarket", "hospital",
    "clinic", "university", "college", "school", "airlines", "airways", "logistics", "express",
    "pharmaceutical", "foods", "hotel", "restaurant", "agency", "association", "foundation",
    "government", "bureau", "department", "office", "center", "centre", "platform", "payments",
    "wallet", "international", "global",
    # A reader who is no one in particular.
    "customer", "customers", "client", "user", "member", "valued", "team", "support",
)  # fmt: skip
"""Words that make the capitalized words after an English label an organisation's name or a form of
address (`Payee: Tesla Motors`, `Shenzhen Tencent Computer Systems Co., Ltd.`, `Dear Valued Customer`):
none is a pinyin syllable, so no Chinese name holds one."""
ENGLISH_TAIL_BYTES = 48
"""How far past a name after an English label its capitalized words are read for `ENGLISH_NOT_NAME_WORDS`
(the label's pattern takes three words at most: `… Computer` of `… Computer Systems Co., Ltd.`)."""
_DOTS = "·•・．.‧∙･"
PERIODS = ".．"
"""The dots (`_DOTS`) that also end sentences."""
UNBROKEN_PIECES = ("阿不都",)
"""Pieces of Uyghur names that hold stop characters (`阿不都拉`, `阿不都热合曼`): no end of a name."""
_KEY_VALUE = f"[\"']?{SPACE}*[:：=>]?{SPACE}*[\"']?{SPACE}*"
"""Between an English label and its value: `Name: `, `name = `, `"name": "` in JSON, `<name>`."""
_LABEL_END = f"[:：=\\]】>）)\\-{SPACE_CHARS}]"
"""What stands between a label and its name, at most two of them: `姓名：`, `姓名=`, `[姓名]`, `【姓名】`,
`<姓名>`, `转账-`, `乙方（借款人）：`."""
_FIELD_ENDS = f"，,、;；|｜/。（(<\u3000{SPACE_CHARS}"
"""What ends a field that holds a name (an ideographic space and a tag too)."""
_CAMEL = "[A-Z][a-z]{1,7}[A-Z][a-z]{1,7}"
"""Two capitalized words written together, as a pinyin name may be (`LinJuan`)."""
_SYLLABLE = ("(?:(?:zh|ch|sh|[bpmfdtnlgkhjqxrzcsyw])?(?:iang|iong|uang|ang|eng|ing|ong|ian|iao|uai|uan|"
             "ai|ei|ao|ou|an|en|in|un|ia|ie|iu|ua|uo|ui|ue|er|a|o|e|i|u|v))")
"""A Mandarin syllable in pinyin without tones: a whole value of two or three such words is a name."""
_NOT_NAMES = frozenset((
    "无", "未知", "暂无", "不详", "空", "本人", "null", "none", "n/a", "na", "未填", "其他", "测试", "test",
    "先生", "女士", "小姐",
))  # fmt: skip
"""Placeholders that name columns hold instead of a name."""
_SEARCHES = (
    ("labelled", "person_colon"), ("person_labelled", "weakly_labelled"), ("titled",), ("followed",),
    ("field",), ("colon_field",), ("speaker",), ("chat_header",), ("bracketed",), ("after_address",),
    ("clause",), ("english",), ("english_han",), ("memo",), ("proxy", "received"), ("dotted",),
    ("pinyin_name",), ("pinyin_text",), ("latin_labelled", "pinyin_labelled"),
)
"""The kinds of evidence that a name stands in free text, each a pattern, searched together where they
share a cue (one pass over the text, the earlier kind first where two match at one place). A weak label is
searched apart: its match, no name, would hide a strong label inside it (`联系其朋友金子勇`: 其朋友)."""
_SUBTYPES = {"english": "pinyin", "pinyin_name": "pinyin", "pinyin_text": "pinyin",
             "pinyin_labelled": "pinyin", "latin_labelled": "pinyin", "dotted": "minority"}
"""The subtype of the names each kind finds (`han` for the others)."""
_SEARCHED = {"english": "latin", "english_han": "latin", "pinyin_name": "latin", "pinyin_text": "latin",
             "latin_labelled": "latin",
             "dotted": "dotted"}
"""Which values a search (by its first kind) looks at: those with a Latin letter, a dot, or (the others) a
surname character."""
_CUES = {
    "titled": alternation(TITLES), "followed": "收|家住|的|[（(]|[向给][你您]", "person_colon": "[人员者:：]",
    "colon_field": "[:：]", "speaker": "[:：]", "chat_header": "[0-9]{4}[-/.年][0-9]", "bracketed": "[（(]",
    "after_address": "[（(]",
    "clause": alternation(SUBJECT_VERBS), "memo": alternation(VALUE_VERBS),
    "proxy": alternation(VALUE_VERBS),
}
"""What a value must hold for a kind's pattern to be worth running on it (a cheap search first)."""
_LIST_SEPARATOR = "^(?:[、；;，,/ ]){1,2}$"
"""What stands between two names of a list."""
_HAN_TAILS = frozenset(("english_han",))
"""Kinds whose pattern holds no group: their cue holds no Han character right before the name, so the name
is the Han characters a match ends with (`_han_tails`), found without RE2 extracting a group."""
_PINNED_KINDS = frozenset(("titled", "clause", "memo", "proxy", "received", "speaker", "chat_header"))
"""Patterns whose word after the name (a title or a verb of two characters or more, or one no name
character starts) says where it ends (`谢志明说`: the name is all before 说, though 明说 is a word)."""
_CUED_BEFORE = frozenset(("labelled", "memo", "proxy", "received", "person_colon", "english_han"))
"""Strong kinds whose cue stands right before the name (`代谢凤英还款`: 代 makes a word with 谢, and is the
cue); the others' cue follows it (`主管汤浩经理`: 经理)."""
_PERSON_KINDS = frozenset(("labelled", "person_labelled", "person_colon"))
"""Kinds whose label says a person follows: a name that fills the field after it may be a place's name."""
_STRONG_KINDS = frozenset(("labelled", "titled", "memo", "proxy", "received", "followed", "person_colon",
                           "english_han"))
"""Patterns whose evidence is as strong as a strong label's."""
NAME_COLUMN_SHARE = 0.8
"""A column without a name header is a name column when at least this share of its distinct values (and
at least `MIN_COLUMN_VALUES` of them) is a surname and a given name."""
MIN_COLUMN_VALUES = 8
WEAK_ODDS = -1.0
"""A name after weak evidence (a weak label, a delimiter, a verb after it) needs its characters' mean log
odds of being a name's (`name_odds`) to reach this: `由于长江` is no name after `由`."""
WORD_START_ODDS = 2.0
"""The mean log odds of being a name's (`name_odds`) that three characters need after weak evidence when
the surname and the first given character make a word (`客户黄金凤来电`, `周鹏志，许国琳`): ordinary
words that start so score below it (`黄金周` 1.7, `余额宝` 0.2), names of common characters above it."""
STOP_GIVEN_ODDS = -1.0
"""The log odds of being a given name's character (`name_odds`) from which a stop character (`向`, `承`,
`其`) may start a given name after strong evidence: one that only starts the words after a name (`已`,
`说`) never does."""
LIST_LENGTH = 5
"""How many names down a list (`联系人：陈英绫、贾丽娟`) the first one's label reaches."""


@built_once
def romanized_surnames() -> tuple[str, ...]:
    """Surnames in pinyin, capitalized: Faker's zh_CN list and `COMPOUND_ROMANIZED`."""
    from faker.providers.person.zh_CN import Provider

    return tuple(Provider.last_romanized_names) + COMPOUND_ROMANIZED


@functools.cache
def _search(kinds: tuple[str, ...]) -> str:
    """One pattern for `kinds`: each kind's, its name captured in a group named for the kind."""
    return "|".join(f"(?:{_patterns()[kind].replace('(?P<name>', f'(?P<{kind}>')})" for kind in kinds)


@built_once
def _patterns() -> dict[str, str]:
    singles = sorted(s for s in surnames() if len(s) == 1)
    surname = f"(?:{alternation(COMPOUND_SURNAMES)}|[{''.join(singles)}])"
    han = f"[{HAN}]"
    # A name in text starts with a surname or the first character of a Tibetan or Mongolian name's part
    # (`借款人：卓玛`), as one class (a small program for RE2); the finder tells which, and decides how
    # many given characters belong to a name.
    firsts = sorted(set(singles) | {part[0] for part in MINORITY_NAME_PARTS})
    opening = f"(?:{alternation(COMPOUND_SURNAMES)}|[{''.join(firsts)}]){han}"
    name = f"(?P<name>{opening}{han}?)"
    labelled = f"(?P<name>{opening}{han}{{0,2}})"  # after a label: up to four characters
    ends = f"(?:[{_FIELD_ENDS}]|$)"
    strong = alternation(STRONG_LABELS)
    # An English label, or a name column's header as a key or tag (`<xm>`, `lxr=`, `userName=`).
    keys = COLUMN_HINTS["token"] + COLUMN_HINTS["joined"] + ("username",)
    english = (f"(?:^|[^A-Za-z0-9_])(?:(?i:{alternation(ENGLISH_LABELS)}){_KEY_VALUE}"
               f"|(?i:{alternation(keys)}){_KEY_VALUE.replace('[:：=>]?', '[:：=>]')})")
    dot = "[" + re.escape(_DOTS) + "]"
    pinyin = r"[A-Z][a-zA-Z]{0,11}(?:[ \-][A-Z][a-zA-Z]{0,11}){1,2}"
    kin = "(?:姨|舅|叔|伯|姑|哥|姐|弟|妹|爸|妈|嫂|婶)"
    romanized_title = alternation(romanized_surnames())
    romanized = alternation(romanized_surnames() + tuple(name.upper() for name in romanized_surnames()))
    return {
        "opening": opening,  # what a Han name in free text starts with
        # In free text: a label, then the surname and up to three more Han characters.
        # Labels may follow each other (`微信转账-来自夏国华`): the name follows the last.
        "labelled": f"(?:{strong}(?:换成|改为|改成|变更为)?{_LABEL_END}{{0,2}})+{labelled}",  # `收件人换成`
        "weakly_labelled": f"(?:{alternation(WEAK_LABELS)}{_LABEL_END}{{0,2}})+{labelled}",
        "person_labelled": f"(?:{alternation(PERSON_LABELS)}{_LABEL_END}{{0,2}})+{labelled}",
        "titled": f"{name}{alternation(TITLES)}",
        "followed": f"{name}(?:收{ends}|家住|的{strong}|[（(]{strong}[）)]|[向给][你您](?:转账|付款)"
                    f"|[（(](?:身份证|证件|手机|电话))",  # `方洋（身份证号4403…）`
        # A field of its own: at the start of a value or a line, or between delimiters (`…,张三,…`,
        # `<td>张三</td>`, `1、魏国华 139…`).
        "field": f"(?:^|[,，|｜\\t\\n\\r;；> ]|[0-9]、){SPACE}*{name}(?:{ends}|[\\[【0-9])",
        # No group: the name is the Han characters a match ends with (`_han_tails`), its cue holding none.
        "english_han": f"{english}{opening}{han}?",
        # Any word for a person: `…人` (`还款责任人张三`, `债务人：`), a relative with a colon (`二姨：`);
        # any label with a colon when the name fills the field (`催收员：李明，`); a name alone in brackets.
        "person_colon": f"(?:[^无有他某每别个众各些的家\\x00-\\x7f][人员者][:：]?|{kin}[:：]){SPACE}*{name}",
        "colon_field": f"[:：]{SPACE}*{name}{ends}",
        # A name that a colon follows at the start of a field: who speaks or what is theirs (`程文华：承诺…`,
        # `张飞英:330106…` in an ID column), in a chat log after the time too, bracketed or with a role
        # (`16:14:29 【孟霞】说：`, `龙一鸣(用户)：`); a verb of speech before the colon is not the name's.
        "speaker": f"(?:^|[。；;，,\\n\\r\\]]|[0-9]:[0-9]{{2}}){SPACE}*[【\\[]?"
                   f"(?P<name>{opening}{han}??)[】\\]]?(?:[（(][^）)]{{1,6}}[）)])?(?:说|称|讲|道|问|答)?[:：]",
        # A chat log's line that names who writes, then when (`江子涵 2024-01-19 15:16:19`).
        "chat_header": f"(?:^|[\\n\\r]){SPACE}*(?P<name>{opening}{han}{{0,2}})[ \\t]+[0-9]{{4}}[-/.年][0-9]",
        # In brackets: a three-character name, or any right after an address (`…1502室（沈芳）`).
        "bracketed": f"[（(](?P<name>{surname}{han}{{2}})[）)]",
        "after_address": f"(?:[0-9室号楼栋幢座层户]|^)[（(]{name}[）)]",
        "clause": f"(?:^|[，。；：:,;、{SPACE_CHARS}（(]){name}{alternation(SUBJECT_VERBS)}",
        "memo": f"^{SPACE}*{name}{alternation(VALUE_VERBS)}",
        "listed": f"[、；;，,/ ]{{1,2}}{opening}{han}{{0,2}}",  # no group, as `english_han`
        "proxy": f"(?:代|替|帮){name}{alternation(VALUE_VERBS)}",
        "received": f"收到{name}{alternation(VALUE_VERBS)}",  # `收到任秀还款`
        "dotted": f"(?P<name>{han}{{1,10}}(?:{dot}{han}{{1,10}})+)",
        # After an English label, a name written together too if it is pinyin (`Customer LinJuan called`).
        "english": f"{english}(?P<name>{pinyin}|{_CAMEL})",
        # A pinyin surname and a given name in either order, capitalized or in capitals, among other words.
        "pinyin_text": f"(?:^|[^A-Za-z])(?P<name>{romanized} [A-Z][A-Za-z]{{0,11}}"
                       f"|[A-Z][a-z]{{0,11}} {romanized_title})(?:$|[^A-Za-z])",
        # Pinyin after a Chinese label, in either order and any case (`客户 XIULAN LUO 来电`,
        # `联系人：XIA,SONG`, `客户 LeiZhu`): its words must be pinyin (`_pinyin_words`).
        "pinyin_labelled": f"{alternation(CONTEXT)}{_LABEL_END}{{0,2}}(?P<name>{pinyin}"
                           f"|[A-Z][a-zA-Z]{{0,11}}, ?[A-Z][a-zA-Z]{{0,11}}"
                           f"|{_CAMEL})(?:$|[^A-Za-z])",
        # Any capitalized words after a strong label (`持卡人 Cheung Peter`), as after an English one.
        "latin_labelled": f"{strong}{_LABEL_END}{{0,2}}"
                          f"(?P<name>[A-Z][a-z]{{1,11}}(?: [A-Z][a-z]{{1,11}}){{1,2}})(?:$|[^A-Za-z])",
        # Capitalized words in brackets (`（Yuk Ling Chan）`): the name after which they stand decides.
        "alias": "[（(][A-Z][a-zA-Z]{1,11}(?: [A-Z][a-zA-Z]{1,11}){1,3}[）)]",
        "pinyin_name": f"^{SPACE}*(?P<name>(?i:{_SYLLABLE}{{1,2}}(?: {_SYLLABLE}{{1,2}}){{1,2}})){SPACE}*$",
        # Whole values of a name column.
        # `张 伟`, `周  涛`, `王\t芳`: characters spaced out, as fixed-width exports pad a short name.
        # Up to eight characters: a Uyghur name written without its dot (`阿依古丽买买提`) has seven.
        "han_value": f"^\\s*{han}(?:[ \t\u3000]{{0,3}}{han}){{0,7}}\\s*$",
        # A name column's minority names may be hyphenated where the dot could not be stored (`扎西-多吉`).
        "dotted_value": f"^\\s*{han}{{1,10}}(?:\\s*(?:{dot}|-)\\s*{han}{{1,10}})+\\s*$",
        # `Zhang Wei`, `XIA,SONG`, `ZHANG/WEI` (as an airline writes it), `WangFang` (written together).
        "pinyin_value": r"^\s*(?:[A-Za-z]{1,10}(?:[ ,.\-/]{1,2}[A-Za-z]{1,10}){1,3}"
                        r"|[A-Z][a-z]{1,7}(?:[A-Z][a-z]{1,7}){1,2})\s*$",
        "strict_value": f"^\\s*{surname}{han}{{1,2}}\\s*$",
        # A name column's value that starts with a name, then something else: up to three marks before it.
        "column_lead": f"^[^{HAN}]{{0,3}}?(?P<name>{opening}{han}{{0,2}})(?:[^{HAN}]|等|$)",
    }


_MAY_NAME = "[^\\x00-\\x7f]|[A-Za-z][^A-Za-z]*[A-Za-z]"
"""What a value holds if free text in it can name a person: a character beyond ASCII (a Han or dotted
name) or two Latin letters (a pinyin name is two words). A column of numbers or codes holds neither."""


def find(values: pa.Array, column: str | None) -> TextFound:
    """The names in a batch of distinct values: whole values of a name column, and names in free text. In
    a name column, a value that is not a name whole is free text too (`王芳（母亲）`, `王芳、李强`,
    `联系人：王芳`, `王芳13812345678`)."""
    held = np.flatnonzero(matches(values, _MAY_NAME))
    if column_supports(column, COLUMN_HINTS) or _named_by_content(values, len(held)):
        whole = _column_values(values)
        rest = np.setdiff1d(held, whole.row)
        return together([whole, _leading_names(values, rest), _in_text(values, rest)])
    return _in_text(values, held)


_LABEL_SEARCHES = frozenset(("labelled", "person_labelled"))
"""The searches (by their first kind) whose name group takes up to four characters after a label, so that
a match may take the first characters of another label (`被告韦霞向原告黎平`: 韦霞向原)."""
LABEL_REACH = 48
"""How many bytes past such a match a label that starts inside it is read to: the longest label and the
longest name it takes, with what stands between."""


def _cue_spans(values: pa.Array, rows: np.ndarray, kinds: tuple[str, ...], groups: tuple[str, ...]
               ) -> tuple[np.ndarray, ...]:
    """Row, start and end byte (of the name group, or of the match without `groups`) and kind of every
    match of `kinds` in values `rows`. After a label, what a match took past its first two characters is
    searched again, up to `LABEL_REACH` bytes on: a label there is read (`被告韦霞向原告黎平`: 原告)."""
    pattern = _search(kinds)
    row, start, end, which = spans(values.take(pa.array(rows)), pattern, *groups)
    row = rows[row]
    if kinds[0] not in _LABEL_SEARCHES or not len(row):
        return row, start, end, which
    data, offsets = utf8_buffer(values)
    parts = [(row, start, end, which)]
    for _ in range(2):  # a label found so may itself take the start of a third
        long = np.flatnonzero(end - start > 6)  # more than two Han characters of three bytes
        if not len(long):
            break
        inside = row[long]
        begin = offsets[inside] + start[long] + 6
        value_end = offsets[inside + 1]
        window = prefix_bytes(data, begin, value_end, end[long] - start[long] - 6 + LABEL_REACH)
        stop = begin + pc.binary_length(window).to_numpy(zero_copy_only=False)
        again = spans(window, pattern, *groups)
        # A match cut short by the window's end is none: the whole search reads that name.
        cut = (begin[again[0]] + again[2] == stop[again[0]]) & (stop[again[0]] < value_end[again[0]])
        found_row, found_start, found_end, which = (part[~cut] for part in again)
        shift = begin[found_row] - offsets[inside[found_row]]
        row, start, end = inside[found_row], found_start + shift, found_end + shift
        parts.append((row, start, end, which))
    row, start, end, which = (np.concatenate([p[k] for p in parts]) for k in range(4))
    key = np.stack([row, start, end, which])
    _, first = np.unique(key, axis=1, return_index=True)  # a match found again is one match
    first = np.sort(first)
    return row[first], start[first], end[first], which[first]


def _leading_names(values: pa.Array, rows: np.ndarray) -> TextFound:
    """The name that values `rows` of a name column start with, before what a system or a clerk added
    (`万一霞-黑名单`, `严明超(VIP)`, `程军4523`, `高明等3人`, `*林军一`): the column is the evidence, as a
    strong label's would be."""
    if not len(rows):
        return no_text_found()
    subset = values.take(pa.array(rows))
    row, start, end, _ = spans(subset, _search(("column_lead",)), "column_lead")
    text = characters(subset)
    strong = np.ones(len(row), dtype=bool)
    row, start, end, subtype = _decided(text, row, start, end, strong, ~strong)
    names = gather(text.data, text.offsets[row] + start, end - start)
    return moved(text_found(row, start, end, subtype, normalize(names), np.full(len(row), Context.FOR)), rows)


def _named_by_content(values: pa.Array, may_name: int) -> bool:
    """Whether most distinct values are a surname and a given name (a name column under another header),
    `may_name` of them holding what a name needs (`_MAY_NAME`)."""
    present = values.filter(pc.is_valid(values))
    if len(present) < MIN_COLUMN_VALUES or may_name < NAME_COLUMN_SHARE * len(present):
        return False
    shaped = present.filter(pa.array(matches(present, _patterns()["strict_value"])))
    if len(shaped) < NAME_COLUMN_SHARE * len(present):
        return False
    # A value counts when the name it holds is all of it: not a place (`江苏省`), a word or a relation.
    start, end, _ = whole_spans(shaped)
    chars, _, length, before = window(characters(shaped), np.arange(len(shaped)), start, end)
    weak = np.zeros(len(shaped), dtype=bool)
    names = _han_names(chars, length, weak, weak, before)
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


def _in_text(values: pa.Array, held: np.ndarray) -> TextFound:
    """Names in free text (`_cued_and_bare`) among the values that can hold one (`held`)."""
    if len(held) == len(values):
        return _cued_and_bare(values)
    if not len(held):
        return no_text_found()
    found = _cued_and_bare(values.take(pa.array(held)))
    return moved(found, held)


def _cued_and_bare(values: pa.Array) -> TextFound:
    """Names in free text, found by every kind of cue (`_SEARCHES`) and decided in bulk, and names with no
    cue (`bare_names`, `minority_names`)."""
    patterns = _patterns()
    text = characters(values)
    # Han names need a surname character, pinyin ones a Latin letter, and each kind its cue: a kind's
    # pattern searches only the values that can hold it.
    han = np.flatnonzero(matches(values, patterns["opening"]))
    searched = {"han": han, "latin": np.flatnonzero(matches(values, "[A-Za-z]")),
                "dotted": np.flatnonzero(matches(values, "[" + re.escape(_DOTS) + "]"))}
    with_han = values.take(pa.array(han))  # one pass for each cue, however many kinds share it
    cued = {cue: han[matches(with_han, cue)] for cue in dict.fromkeys(_CUES.values())} if len(han) else {}
    found: list[tuple[np.ndarray, ...]] = []  # row, start, end, subtype
    remnants = _mask_remnants(text)
    for kinds in _SEARCHES:
        first = kinds[0]
        subset = cued.get(_CUES[first], han) if first in _CUES else searched[_SEARCHED.get(first, "han")]
        if not len(subset):
            continue
        tails = first in _HAN_TAILS
        row, start, end, which = _cue_spans(values, subset, kinds, () if tails else kinds)
        if tails:
            start = _han_tails(text, row, end)
        for number, kind in enumerate(kinds):
            mine = which == number
            if kind in _SUBTYPES:  # pinyin and dotted names: as found, or trimmed
                found.append(_named_as_found(kind, values, row[mine], start[mine], end[mine]))
            else:
                # After weak evidence a masked name's surname ends the candidate (`与穆斯*`, once 斯林 of
                # 穆斯林 is masked); after strong evidence it is the name's (`联系人王林*`).
                ending = end[mine] if kind in _STRONG_KINDS else _before_any(text, row[mine], start[mine],
                                                                            end[mine], remnants)
                found.append(_decided(text, row[mine], start[mine], ending,
                                      np.full(int(mine.sum()), kind in _STRONG_KINDS & _CUED_BEFORE),
                                      np.full(int(mine.sum()), kind in _STRONG_KINDS - _CUED_BEFORE),
                                      kind in _PINNED_KINDS, kind in _PERSON_KINDS))
                if kind == "speaker":  # a field's title is a frequent word (`荣誉：`), though jieba tags some
                    found[-1] = tuple(part[~_frequent_words(text, *found[-1][:3])] for part in found[-1])
    none = np.zeros(0, dtype=np.int64)
    row, start, end = (np.concatenate([none] + [f[k] for f in found]) for k in range(3))
    subtype = np.concatenate([np.zeros(0, dtype=str)] + [f[3] for f in found])
    minority_row, minority_start, minority_end = minority_names(text)
    found_otherwise = (np.concatenate(spans_of) for spans_of in (
        (row, minority_row), (start, minority_start), (end, minority_end)))
    bare_row, bare_start, bare_end = _bare_names_beside(values, text, *found_otherwise, remnants)
    # Where finds overlap, the earliest (and longest) comes first (`借款人扎西顿珠` is one name, `包·巴特尔`
    # too): bare names overlap no cue's or minority name, but the names of a list after them may.
    row, start, end = (np.concatenate(spans_of) for spans_of in (
        (minority_row, row, bare_row), (minority_start, start, bare_start), (minority_end, end, bare_end)))
    cued = np.concatenate([np.zeros(len(minority_row), dtype=bool), np.ones(len(subtype), dtype=bool),
                           np.zeros(len(bare_row), dtype=bool)])
    subtype = np.concatenate([np.full(len(minority_row), "minority"), subtype, np.full(len(bare_row), "han")])
    listed = _listed(values, text, row, end)
    row, start, end = (np.concatenate([a, b]) for a, b in zip((row, start, end), listed, strict=True))
    subtype = np.concatenate([subtype, np.full(len(listed[0]), "han")])
    cued = np.concatenate([cued, np.ones(len(listed[0]), dtype=bool)])
    named = ~_starts_organisation(values, text, row, start, end)
    row, start, end, subtype, cued = row[named], start[named], end[named], subtype[named], cued[named]
    if not len(row):
        return no_text_found()
    # A minority name takes in the names it overlaps: `安德鲁·托马斯` read from 鲁 (安德 is a word) and the
    # bare 安德鲁 are one name, and neither alone leaves the other's part masked.
    start, end = _joined_to_minority_names(row, start, end, subtype == "minority")
    keep = first_by_priority(row, start, end, start)
    row, start, end, subtype, cued = row[keep], start[keep], end[keep], subtype[keep], cued[keep]
    spread = cued & (subtype == "han")
    again = _repeated(text, row[spread], start[spread], end[spread], (row, start, end))
    aliases = _aliases(values, searched["latin"], row, end)
    row, start, end = (np.concatenate([a, b, c]) for a, b, c in zip((row, start, end), again, aliases,
                                                                       strict=True))
    subtype = np.concatenate([subtype, np.full(len(again[0]), "han"), np.full(len(aliases[0]), "pinyin")])
    order = np.lexsort((start, row))
    row, start, end, subtype = row[order], start[order], end[order], subtype[order]
    names = gather(text.data, text.offsets[row] + start, end - start)
    return text_found(row, start, end, subtype, normalize(names), np.full(len(row), Context.FOR))


def _aliases(values: pa.Array, latin: np.ndarray, row: np.ndarray, end: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The names in Latin letters in brackets right after a name found (`row`, `end`), among the values
    that hold a Latin letter (`latin`): the same person's English or Cantonese name (`黄晓东（Yuk Ling
    Chan）`, `崔俊杰（Chan Peter）`). Row, start and end byte of each, inside its brackets."""
    none = np.zeros(0, dtype=np.int64)
    if not len(latin) or not len(row):
        return none, none, none
    alias_row, alias_start, alias_end, _ = spans(values.take(pa.array(latin)), _patterns()["alias"])
    alias_row = latin[alias_row]
    after = np.isin((alias_row.astype(np.int64) << 32) | alias_start, (row.astype(np.int64) << 32) | end)
    alias_row, alias_start, alias_end = alias_row[after], alias_start[after], alias_end[after]
    data, offsets = utf8_buffer(values)
    opening = np.where(data[offsets[alias_row] + alias_start] == ord("("), 1, 3)  # `(` or `（`
    closing = np.where(data[offsets[alias_row] + alias_end - 1] == ord(")"), 1, 3)
    return alias_row, alias_start + opening, alias_end - closing


def _repeated(text: Characters, row: np.ndarray, start: np.ndarray, end: np.ndarray,
              taken: tuple[np.ndarray, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where the Han names of two or three characters (of three bytes each) found by a cue in a value
    (`row`, `start`, `end`) stand again in it, apart from the names found (`taken`) and never inside a word:
    `找到罗宇本人后，罗宇表示`, the first 罗宇, found by the second's cue. A name found by its cue in a value
    is that name wherever it stands there; one found by its characters alone is not spread (a misread
    place would be, `阿拉伯`). Row, start and end byte of each, the longer names first where two would
    overlap; every place is looked up at once by its characters and value."""
    none = np.zeros(0, dtype=np.int64)
    named = np.flatnonzero((end - start == 6) | (end - start == 9))  # two or three characters of 3 bytes
    if not len(named):
        return none, none, none
    first = np.zeros(len(row), dtype=np.int64)
    first[named] = np.searchsorted(text.at, text.offsets[row[named]] + start[named])
    size = (end - start) // 3
    opening = np.zeros(0x110000, dtype=bool)
    opening[text.point[first[named]]] = True
    holding = np.zeros(len(text.offsets), dtype=bool)
    holding[row[named]] = True
    places = np.flatnonzero(opening[text.point])
    places = places[holding[text.value[places]]]
    found: list[tuple[np.ndarray, ...]] = []
    for length in (3, 2):
        names = named[size[named] == length]
        at = places[places + length - 1 < len(text.point)]
        at = at[text.value[at + length - 1] == text.value[at]]
        if not len(names) or not len(at):
            continue
        # A name's characters and its value, looked up as one integer and then checked one by one.
        key, key_row = run_keys(text.point, first[names], length), row[names].astype(np.int64)
        mixed = key ^ (key_row << 43)
        order = np.argsort(mixed, kind="stable")
        mixed, key, key_row = mixed[order], key[order], key_row[order]
        at_key, at_row = run_keys(text.point, at, length), text.value[at].astype(np.int64)
        hit = np.minimum(np.searchsorted(mixed, at_key ^ (at_row << 43)), len(mixed) - 1)
        same = (key[hit] == at_key) & (key_row[hit] == at_row)
        at, at_key = at[same], at_key[same]
        r = text.value[at]
        s = text.at[at] - text.offsets[r]
        e = text.at[at + length - 1] + text.width[at + length - 1] - text.offsets[r]
        alone = ~overlapping(r, s, e, *taken)
        at, at_key, r, s, e = at[alone], at_key[alone], r[alone], s[alone], e[alone]
        alone = ~_inside_word(text, at, length, at_key)
        alone &= ~inside_long_word(text, at, np.full(len(at), length))
        found.append((r[alone], s[alone], e[alone]))
        taken = tuple(np.concatenate([t, f]) for t, f in zip(taken, found[-1], strict=True))
    return tuple(np.concatenate([none] + [f[k] for f in found]) for k in range(3))  # type: ignore[return-value]


def _inside_word(text: Characters, at: np.ndarray, length: int, key: np.ndarray) -> np.ndarray:
    """Whether the `length` characters from each of `at` (`key`, as `run_keys` makes it) are an ordinary or
    a frequent word (`顾客`) or stand inside a word: their first makes a dictionary word with the character
    before (`这位领导` for 位领), their last a frequent one with the character after (`文明史`), or two of
    them a dictionary word with the character after (`周恩来`)."""
    point, value, last = text.point, text.value, at + length - 1
    prior, following = np.maximum(at - 1, 0), np.minimum(last + 1, len(point) - 1)
    before = np.where((at > 0) & (value[prior] == value[at]), point[prior], 0).astype(np.int64)
    after = np.where((last + 1 < len(point)) & (value[following] == value[at]), point[following], 0)
    after = after.astype(np.int64)
    inside = member(key, "words") | member(key, "famous_words")  # `顾客`, which jieba tags as a name
    inside |= member(before | (point[at].astype(np.int64) << 21), "any_words")
    inside |= member(point[last].astype(np.int64) | (after << 21), "frequent_words")
    if length == 2:
        inside |= (after > 0) & member(key | (after << 42), "any_words")
    return inside


_ORGANISATION_BREAKS = (STOP - set("电联总有")) | {"一"}
"""What ends the run of characters after a name that may finish an organisation's name: what ends a name,
but for the characters that start words inside organisations' names (`华星电子分公司`, `联通`, `总公司`,
`云帆电子商务有限公司`), and a count (`李明经营一家公司`: 李明 is a person)."""


def _starts_organisation(values: pa.Array, text: Characters, row: np.ndarray, start: np.ndarray,
                         end: np.ndarray) -> np.ndarray:
    """Whether each name found (`row`, `start`, `end`) is the start of an organisation's name: the Han
    characters after it, up to one of `_ORGANISATION_BREAKS` or the next name found, hold an organisation
    word (`户名华泰通安网络有限公司`). A list of people and their places is none (`陈玉昆辽宁省大连市…
    发行员周永东辽宁省辽阳市第二人民医院`), as verify reads it once 周永东 is masked. The runs of the batch
    are cut from its characters (`text`, read from `values`) at once and searched in one pass."""
    starts = np.zeros(len(row), dtype=bool)
    chosen = np.flatnonzero(np.isin(row, np.flatnonzero(matches(values, alternation(ORGANISATION_WORDS)))))
    if not len(chosen) or not len(text.at):
        return starts
    begin = text.offsets[row[chosen]] + end[chosen]
    after = np.searchsorted(text.at, begin)  # the character after the name, if it is one read
    # A run stops at a character that is no Han one or a break, and at the first character of a value.
    stops = ~is_han(text.point) | _breaks()[text.point]
    stops[1:] |= text.value[1:] != text.value[:-1]
    stops[_characters_of(text, row, start, np.minimum(start + 1, end))] = True
    stops = np.append(np.flatnonzero(stops), len(text.at))
    stop = stops[np.searchsorted(stops, after)]
    run_end = np.append(text.at, len(text.data))[stop]
    read = np.append(text.at, -1)[after] == begin  # else the name ends its value or an ASCII run follows
    runs = gather(text.data, begin, np.where(read, run_end - begin, 0))
    starts[chosen] = matches(runs, alternation(ORGANISATION_WORDS))
    return starts


@built_once
def _breaks() -> np.ndarray:
    """`_ORGANISATION_BREAKS` as a lookup by code point."""
    table = np.zeros(0x110000, dtype=bool)
    table[[ord(ch) for ch in _ORGANISATION_BREAKS]] = True
    return table


def _frequent_words(text: Characters, row: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Whether each span of two or three characters is a frequent word of the dictionary."""
    first = np.searchsorted(text.at, text.offsets[row] + start)
    length = np.searchsorted(text.at, text.offsets[row] + end) - first
    frequent = np.zeros(len(row), dtype=bool)
    for size in (2, 3):
        chosen = np.flatnonzero(length == size)
        frequent[chosen] = member(run_keys(text.point, first[chosen], size), "frequent_words")
    return frequent


MASKS = "*＊"
"""What a mask writes (its default character, in either width): a surname right before it is what a masked
name shows."""


BARE_READINGS = 4
"""How many times bare names are read past the names found before (`_bare_names_beside`)."""


def _bare_names_beside(values: pa.Array, text: Characters, row: np.ndarray, start: np.ndarray,
                       end: np.ndarray, remnants: np.ndarray) -> tuple[np.ndarray, ...]:
    """Bare names (`bare_names`), read as verify reads them once the names found (`row`, `start`, `end`)
    are masked: a name found stands as the end of its value for a bare name before or after it
    (`赵志文王桦`: 文王 is a word only until 赵志文 is masked), as does the surname a mask shows
    (`remnants`). The values where a reading found bare names are read again past them, up to
    `BARE_READINGS` times (`范军左刚柴丽娟`: 柴丽娟, then 左刚, then 范军)."""
    stops = np.concatenate([_characters_of(text, row, start, end), remnants])
    parts = [bare_names(text, stops)]
    known = [(row, start, end), parts[0]]
    for _ in range(BARE_READINGS - 1):
        rows = np.unique(parts[-1][0])
        if not len(rows):
            break
        subset = characters(values.take(pa.array(rows)))
        known_row, known_start, known_end = (np.concatenate([k[i] for k in known]) for i in range(3))
        mine = np.isin(known_row, rows)
        local = np.searchsorted(rows, known_row[mine])
        found_row, found_start, found_end = bare_names(subset, np.concatenate([
            _characters_of(subset, local, known_start[mine], known_end[mine]), _mask_remnants(subset)]))
        parts.append((rows[found_row], found_start, found_end))
        known.append(parts[-1])
    return tuple(np.concatenate([part[i] for part in parts]) for i in range(3))


def _before_any(text: Characters, row: np.ndarray, start: np.ndarray, end: np.ndarray, stops: np.ndarray
                ) -> np.ndarray:
    """The end byte of each span (byte offsets into its value), cut before the first of `stops` (indices
    into `text.point`) after its first character."""
    if not len(stops):
        return end
    stops = np.sort(stops)
    first = np.searchsorted(text.at, text.offsets[row] + start)
    last = np.searchsorted(text.at, text.offsets[row] + end)
    following = stops[np.minimum(np.searchsorted(stops, first, side="right"), len(stops) - 1)]
    cut = (following > first) & (following < last)
    return np.where(cut, text.at[np.where(cut, following, 0)] - text.offsets[row], end)


def _joined_to_minority_names(row: np.ndarray, start: np.ndarray, end: np.ndarray, minority: np.ndarray
                              ) -> tuple[np.ndarray, np.ndarray]:
    """Start and end of each span, those of a minority name (`minority`) widened to every span of its
    value that it overlaps."""
    order = np.argsort(row, kind="stable")
    sorted_row = row[order]
    joined_start, joined_end = start.copy(), end.copy()
    for i in np.flatnonzero(minority):
        same = order[np.searchsorted(sorted_row, row[i]):np.searchsorted(sorted_row, row[i], side="right")]
        touching = same[(start[same] < end[i]) & (end[same] > start[i])]
        joined_start[i], joined_end[i] = start[touching].min(), end[touching].max()
    return joined_start, joined_end


def _characters_of(text: Characters, row: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """The indices into `text.point` of the characters read inside each span (byte offsets into its
    value): a Latin name's letters are read only beside a Han character."""
    first = np.searchsorted(text.at, text.offsets[row] + start)
    last = np.searchsorted(text.at, text.offsets[row] + end)
    return ranges(first, last - first)


def _mask_remnants(text: Characters) -> np.ndarray:
    """The characters of the surname a masked name shows (`李**`, `欧阳*`): a surname, or a compound one,
    right before a mask. `由李**`, `向陈*`, `外呼汪**` and `高清蓝*女士` read as bare names once 李明, 陈婷,
    汪欣妍 and 蓝牙 (a name before 女士) were masked, and the run stopped at verify."""
    masked = np.isin(text.point, [ord(mask) for mask in MASKS])
    before = np.flatnonzero(masked[1:] & (text.value[1:] == text.value[:-1]))
    # A place's last character before a mask is what a masked address shows (`石家庄裕华区****`: 区 is a
    # surname too).
    single = before[member(text.point[before], "surnames") & ~member(text.point[before], "place_ends")]
    double = before[before > 0]
    double = double[(text.value[double - 1] == text.value[double])
                    & member(run_keys(text.point, double - 1, 2), "compound")]
    return np.concatenate([single, double - 1, double])


def _named_as_found(kind: str, values: pa.Array, row: np.ndarray, start: np.ndarray, end: np.ndarray
                    ) -> tuple[np.ndarray, ...]:
    """Pinyin names as found (in free text, those whose words are pinyin: `_pinyin_words`; after an English
    label, those written together: `Customer WeChat` is none), and dotted names without a label before or
    words after them (`_dotted_end`, each distinct match once)."""
    subtype = _SUBTYPES[kind]
    if kind in ("english", "latin_labelled"):
        row, start, end = _english_named(values, row, start, end)
    if kind in ("pinyin_name", "latin_labelled"):  # the match is the name
        return row, start, end, np.full(len(row), subtype)
    data, offsets = utf8_buffer(values)
    matched = gather(data, offsets[row] + start, end - start)
    if kind != "dotted":
        pinyin = _pinyin_words(matched)
        if kind == "english":
            pinyin |= ~matches(matched, f"^{_CAMEL}$")
        row, start, end = row[pinyin], start[pinyin], end[pinyin]
    else:
        texts = matched.to_pylist()
        names = [_dotted_end(text) for text in texts]
        named = np.array([bool(name) for name in names], dtype=bool)
        # Past a label the match began with.
        start = start + np.array([len(t[: t.find(n)].encode()) for t, n in zip(texts, names, strict=True)],
                                 dtype=np.int64)
        end = start + np.array([len(name.encode()) for name in names], dtype=np.int64)
        row, start, end = row[named], start[named], end[named]
    return row, start, end, np.full(len(row), subtype)


def _english_named(values: pa.Array, row: np.ndarray, start: np.ndarray, end: np.ndarray
                   ) -> tuple[np.ndarray, ...]:
    """The names among the capitalized words after English labels: none where they, and the capitalized
    words right after them, hold one of `ENGLISH_NOT_NAME_WORDS`; a title before them left out, and none
    where one word is left."""
    data, offsets = utf8_buffer(values)
    words = prefix_bytes(data, offsets[row] + start, offsets[row + 1], end - start + ENGLISH_TAIL_BYTES)
    not_name = f"(?i:{alternation(ENGLISH_NOT_NAME_WORDS)})"
    keep = ~matches(words, f"^(?:[A-Z][A-Za-z&.'-]* +)*{not_name}(?:$|[^A-Za-z])")
    matched = gather(data, offsets[row] + start, end - start)
    titles = f"^(?i:{alternation(ENGLISH_TITLES)})\\.?[ -]"
    titled = matches(matched, titles)
    keep &= ~(titled & ~matches(matched, f"{titles}[^ -]+[ -]"))  # `Mr Wang`: a title and a surname
    shift = pc.find_substring_regex(matched, "[ -]").to_numpy(zero_copy_only=False) + 1
    start = np.where(titled, start + shift, start)
    return row[keep], start[keep], end[keep]


def _decided(text: Characters, row: np.ndarray, start: np.ndarray, end: np.ndarray, labelled: np.ndarray,
             followed: np.ndarray, pinned: bool = False, person: bool = False) -> tuple[np.ndarray, ...]:
    """The Han names that candidates (a surname and up to three more characters; all of them a name's if
    `pinned`) hold, as spans: after strong evidence before them (`labelled`) or after them (`followed`: a
    title, `张伟先生`), or weak evidence. After weak evidence a name never lies inside an idiom or a brand
    (`称花呗利息`). After a label that says a person follows (`person`), a candidate that fills its field
    may be a place's name."""
    chars, widths, length, before = window(text, row, start, end)
    after = chars[np.arange(len(chars)), length]
    filled = person & ((after == 0) | np.isin(after, [ord(c) for c in _FIELD_ENDS]))
    size = _han_names(chars, length, labelled, followed, before, pinned, filled)
    named = size > 0
    weak = np.flatnonzero(named & ~(labelled | followed))
    named[weak] = ~inside_long_word(text, np.searchsorted(text.at, text.offsets[row[weak]] + start[weak]),
                                    size[weak])
    taken = np.take_along_axis(np.cumsum(widths, axis=1), np.maximum(size - 1, 0)[:, None], axis=1)[:, 0]
    return row[named], start[named], start[named] + taken[named], np.full(int(named.sum()), "han")


def _listed(values: pa.Array, text: Characters, row: np.ndarray, end: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The names that follow a found name in a list (`陈英绫、贾丽娟；东方军`), up to `LIST_LENGTH` down:
    candidates whose separator starts where a found name ends."""
    none = np.zeros(0, dtype=np.int64)
    following_row, _, following_end, _ = spans(values, _patterns()["listed"])
    following_start = _han_tails(text, following_row, following_end)
    found: list[tuple[np.ndarray, ...]] = [(none, none, none)]
    ends = np.unique((row.astype(np.int64) << 32) | end)
    for _ in range(LIST_LENGTH):
        if not len(ends) or not len(following_row):
            break
        linked = np.zeros(len(following_row), dtype=bool)
        for gap in (1, 2, 3, 4, 6):  # one or two separators of one or three bytes each
            key = (following_row.astype(np.int64) << 32) | (following_start - gap)
            hit = np.flatnonzero(ends[np.minimum(np.searchsorted(ends, key), len(ends) - 1)] == key)
            between = gather(text.data, text.offsets[following_row[hit]] + following_start[hit] - gap,
                             np.full(len(hit), gap))
            linked[hit[matches(between, _LIST_SEPARATOR)]] = True
        chosen = np.flatnonzero(linked)
        weak = np.zeros(len(chosen), dtype=bool)
        r, s, e, _ = _decided(text, following_row[chosen], following_start[chosen], following_end[chosen],
                              weak, weak)
        found.append((r, s, e))
        ends = np.unique((r.astype(np.int64) << 32) | e)
    return tuple(np.concatenate([f[k] for f in found]) for k in range(3))  # type: ignore[return-value]


def _han_tails(text: Characters, row: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Where the run of Han characters that ends at byte `end` of each value `row` starts, as a byte offset
    into the value: the name a match of a kind without a group (`_HAN_TAILS`, `listed`) ends with. The runs
    are a name's few characters long: each is walked back a character at a time, all at once."""
    last = np.searchsorted(text.at, text.offsets[row] + end) - 1
    first = last
    while True:
        prior = np.maximum(first - 1, 0)
        extend = (first > 0) & is_han(text.point[prior]) & (text.value[prior] == row)
        if not extend.any():
            return text.at[first] - text.offsets[row]
        first = np.where(extend, prior, first)


def _han_names(chars: np.ndarray, length: np.ndarray, labelled: np.ndarray, followed: np.ndarray,
               before: np.ndarray, pinned: bool = False, filled: np.ndarray | bool = False) -> np.ndarray:
    """How many characters of each candidate are a name, 0 for none, decided for all candidates at once on
    their code points (`name_words.window`: a surname and up to three Han characters, `length` of them,
    then the character after them, and `before` them): the surname and the one or two given characters
    that the words after them leave it (`李磊电话` is 李磊, 电话 being a word; `徐晓东来电` is 徐晓东, 来电
    being one; all of them if `pinned`), never a word for a relation, never an ordinary word (`马上`,
    `方便`) unless the evidence is strong (a label right before it, `labelled`, or a title after it,
    `followed`) and the word a rarer noun (`联系人高峰`), never a place (`玉树市`, `为玉树藏…`); unless
    a label stands right before it, not after a character it makes a word with (`由于`, `主管汤浩经理`);
    after weak evidence only with `WEAK_ODDS`. A place's name may be a name that fills the field after a
    label for a person (`filled`: `客户梁平，`)."""
    count = len(chars)
    if not count:
        return np.zeros(0, dtype=np.int64)
    strong = labelled | followed
    rows = np.arange(count)
    surname = 1 + member(keys_at(chars, 0, 2), "compound")
    first, second = chars[rows, surname], chars[rows, surname + 1]
    has_second = surname + 1 < length
    keep = (surname == 2) | member(chars[:, 0], "surnames")  # else perhaps a minority name's part
    # A stop character ends a name before its given name, unless strong evidence stands before it and the
    # character is as common in given names as `STOP_GIVEN_ODDS` says (`联系人：施向东`, `户名：刘承志`).
    stop_first = member(first, "stop")
    keep &= ~stop_first | (strong & (odds(first, GIVEN) >= STOP_GIVEN_ODDS)
                           & ~member(keys_at(chars, surname, 2), "words"))  # `联系人：王其他`: 其他 is a word
    keep &= surname < length
    # A surname that is a stop character before a verb is no name (`同事都看见了`: 都 is `all`).
    verb_after = odds(first, VERB) - odds(first, GIVEN) > VERB_MARGIN
    given_word = member(keys_at(chars, surname, 2), "frequent_words")  # `已由部门经理`: 部门
    keep &= ~((surname == 1) & member(chars[:, 0], "stop") & (verb_after | given_word))
    # Only a label's last character may make a word with the surname (`由于西南`, `主管汤浩经理`).
    keep &= labelled | ~member(before | (chars[:, 0] << 21), "any_words")
    keep &= ~(has_second & member(keys_at(chars, surname, 2), "titles"))
    # The second given character ends the name where it starts a word with the character after it,
    # unless that character starts a word with the next one (`徐晓东来电`: 来电, so 东 is the name's).
    cut = member(second, "stop") | (member(keys_at(chars, surname + 1, 2), "words")
                                     & ~member(keys_at(chars, surname + 2, 2), "words"))
    cut |= odds(second, VERB) - odds(second, GIVEN) > VERB_MARGIN  # `周利未接通`: 未 starts what follows
    cut |= member(keys_at(chars, surname + 1, 3), "words")  # `王婷医药费`
    cut |= member(keys_at(chars, surname + 1, 2), "after_name")  # `王怡三人`, `王莉之子`
    # Three characters that fill the field right after a strong label for a person are a name whatever
    # words they make and though 诺 ends a name elsewhere (`借款人：李一诺，`; `代理人：高一鸣，`: 高一), but
    # for a function character (`同事刘明了 我`).
    whole = labelled & filled & has_second & (surname + 2 == length) & ~member(second, "function")
    given = np.where(has_second & (pinned | ~cut | whole), 2, 1)
    keep &= ~form_of_address(chars[:, 0], first, given)
    size = surname + given
    name_odds = odds(chars[:, 0], SURNAME) + odds(first, GIVEN) + np.where(given == 2, odds(second, GIVEN), 0)
    word, start_word = (np.where(strong, member(key, "not_after_strong"), member(key, "words"))
                        for key in (keys_at(chars, 0, size), keys_at(chars, 0, surname + 1)))
    # A surname and given character that make a word are no name, but where a second given character
    # follows and the characters are a name's (`联系人王国庆`: 王国 is a word; `客户黄金凤来电`, after weak
    # evidence, with `WORD_START_ODDS`), or the three fill a strong label's field (`whole`).
    start_odds = name_odds / 3 >= np.where(strong, BARE_ODDS, WORD_START_ODDS)
    keep &= ~word & (~start_word | ((given == 2) & (start_odds | whole)))
    keep &= ~relation_or_place(chars, surname, size)
    # `连云港` alone; `黄平还款` is a memo's name; `客户龙华，` one that fills a person's field (`filled`).
    keep &= strong | (filled & (size == length)) | ~member(keys_at(chars, 0, size), "places")
    keep &= strong | (name_odds / (1 + given) >= WEAK_ODDS)
    # Else a Tibetan or Mongolian name of one part (`借款人：卓玛`): not a place's start (`乌兰察布`), nor an
    # ordinary word after weak evidence.
    part = keys_at(chars, 0, 2)
    part = (member(part, "minority_parts") & ~member(keys_at(chars, 0, 3), "places")
            & (strong | ~member(part, "words")))
    return np.where(keep, size, np.where(part, 2, 0))


def _pinyin_words(texts: pa.Array) -> np.ndarray:
    """Whether each of `texts` (words a space, a comma or a hyphen apart, or run together capitalized:
    `LeiZhu`) is words of one or two pinyin syllables each, and no known pair of ordinary words
    (`Hong Kong`)."""
    word = f"(?i:{_SYLLABLE}{{1,2}})"
    texts = normalize(texts)  # single spaces between the words
    listed = pc.is_in(pc.utf8_lower(texts), value_set=pa.array(sorted(ROMANIZED_NOT_NAMES)))
    return matches(texts, f"^{word}(?: {word})*$") & ~listed.to_numpy(zero_copy_only=False)


@built_once
def _labels_anywhere() -> re.Pattern[str]:
    """Every label of `CONTEXT` at every position, overlapping ones too (a lookahead), the longest first:
    where the last one to end before a dotted name ends is where the name may start."""
    return re.compile(f"(?=({'|'.join(map(re.escape, sorted(set(CONTEXT), key=len, reverse=True)))}))")


@functools.lru_cache(maxsize=1 << 16)
def _dotted_end(text: str) -> str:
    """A dotted name without a label before it or the words after its last part (`借款人买买提·艾力来电`
    is `买买提·艾力`), empty where a period stands for the dot and ends a sentence. The stop characters
    of `UNBROKEN_PIECES` end nothing (`古丽米拉·阿不都拉`)."""
    scan = text  # the text as the rules read it, of the same length
    for piece in UNBROKEN_PIECES:
        scan = scan.replace(piece, piece[0] + "\uffff" * (len(piece) - 1))
    first = min(text.find(d) for d in _DOTS if d in text)
    cut = max((found.end(1) for found in _labels_anywhere().finditer(text, 0, first)), default=0)
    # The first part starts after the last word it does not belong to (`议长萨阿东·哈马迪`: 议长).
    words = ordinary_words()
    begin = first - 1
    while begin > cut and scan[begin - 1] not in STOP and scan[begin - 1 : begin + 1] not in words \
            and scan[begin - 2 : begin] not in words:
        begin -= 1
    text, scan = text[begin:], scan[begin:]
    dot_at = max(text.rfind(d) for d in _DOTS)
    end = next((i for i in range(dot_at + 3, len(text)) if scan[i] in STOP or scan[i : i + 2] in words),
               len(text))
    # A period typed for the dot is a sentence's end where an ordinary word follows it (`已还款.承诺`).
    if any(ch in PERIODS and scan[i + 1 : i + 3] in words for i, ch in enumerate(text[:end])):
        return ""
    return text[:end]


def normalize(names: pa.Array) -> pa.Array:
    """The names without spaces, their dots as `·`, and pinyin in upper case with single spaces (words run
    together capitalized set apart), so that one person written two ways gets one token."""
    han = without_spaces(names)
    for dot in _DOTS + "-":  # a hyphen where a name column could not store the dot
        if dot != "·":
            han = pc.replace_substring(han, dot, "·")
    apart = pc.replace_substring_regex(names, "([a-z])([A-Z])", "\\1 \\2")  # `WangFang`: Wang Fang
    pinyin = pc.utf8_trim(pc.replace_substring_regex(pc.utf8_upper(apart), "[ \t\n\r\f,./\\-]+", " "), " ")
    return pc.if_else(pc.string_is_ascii(names), pinyin, han)


def mask_shown(written: pa.Array) -> np.ndarray:
    """How many leading characters of each written name a mask shows: its surname (`张**`, `欧阳**`);
    nothing of a pinyin or minority name (`扎西顿珠`, `其其格`), whose surname cannot be told from its
    position."""
    compound = matches(written, f"^{alternation(COMPOUND_SURNAMES)}[{HAN}]")
    han = matches(written, f"^[{HAN}][{HAN}]+$")
    minority = matches(written, "[" + re.escape(_DOTS) + "]") | matches(
        written, f"^{alternation(MINORITY_NAME_PARTS + MINORITY_NAMES)}")
    return np.where(minority, 0, np.where(compound, 2, np.where(han, 1, 0)))
