"""Context that raises or lowers confidence, in a way that works for Chinese.

Presidio's lemma-based enhancer matches context words against token lemmas; a blank Chinese pipeline
has no lemmas and splits text per character, so it never fires. Here context is plain substring search
in a short window of folded text before the match: the keyword nearest to the number decides, so
`手机号13800138000，订单号…` is a phone and `订单号13800138000` is not.

Column names are evidence too: a column called `sjhm` (手机号码) or `联系电话` supports phones in it.
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Iterable, Mapping

from recognizers.findings import Strength

WINDOW = 14
"""Characters before a match searched for supporting keywords (a label and its punctuation fit)."""

LABEL_GAP = 3
"""A negative word counts only as the label right before the number (`订单号：`), not from afar:
`时间：2023-11-05 客户13800138000` is still a phone."""


class Context(enum.IntEnum):
    """What the nearest keyword before a match says about it."""

    AGAINST = -1
    NONE = 0
    FOR = 1


# Words that label numbers which are not personal data: order, serial and reference numbers, times.
NEGATIVE_WORDS: tuple[str, ...] = (
    "订单",
    "单号",
    "流水",
    "交易号",
    "参考号",
    "编号",
    "工号",
    "批次",
    "快递",
    "运单",
    "物流",
    "序列号",
    "序号",
    "凭证",
    "凭证号",
    "imei",
    "meid",
    "时间戳",
    "timestamp",
    "时间",
    "日期",
    "金额",
    "余额",
    "qq",
    "版本",
    "trace",
    "request",
    "请求",
    "联行号",
    "行号",
    "信用代码",
    "税号",
    "邮编",
    "坐标",
    "条码",
    "发票",
    "设备",
    "order",
    "serial",
    "txn",
    "tracking",
    "ref",
    "isbn",
    "券码",
    "验证码",
    "密码",
    "合同号",
    "保单号",
    "申请号",
    "ticket",
    "工单",
)

_SCORES = {
    (Strength.VALIDATED, Context.FOR): 1.0,
    (Strength.VALIDATED, Context.NONE): 0.85,
    (Strength.VALIDATED, Context.AGAINST): 0.35,
    (Strength.PLAUSIBLE, Context.FOR): 0.6,
    (Strength.PLAUSIBLE, Context.NONE): 0.3,
    (Strength.PLAUSIBLE, Context.AGAINST): 0.1,
}

DEFAULT_THRESHOLD = 0.5
"""Findings below this score are not reported: validated values always pass, plausible ones need context."""


def score(strength: Strength, context: Context) -> float:
    """Confidence of a candidate: validated + context > validated > plausible + context > the rest."""
    return _SCORES[strength, context]


@functools.lru_cache(maxsize=16)
def _keywords(positive: tuple[str, ...]) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """Searches over a reversed window, where the first match is the keyword ending nearest to the
    number: every keyword with the negative ones first (on a tie, `凭证号` ending where `证号` would, the
    label against wins), and the positive ones alone."""
    reversed_words = [re.escape(word[::-1]) for word in positive]
    negative = "|".join(re.escape(word[::-1]) for word in NEGATIVE_WORDS)
    return (
        re.compile(f"(?P<against>{negative})|(?P<for>{'|'.join(reversed_words)})"),
        re.compile("|".join(reversed_words)),
    )


def context_before(folded_text: str, start: int, positive: Iterable[str]) -> Context:
    """Classify the window before `start` by the keyword that ends nearest to the match; a negative word
    counts only within `LABEL_GAP` characters of the match."""
    window = folded_text[max(0, start - WINDOW) : start].lower()[::-1]
    any_word, positive_word = _keywords(tuple(positive))
    nearest = any_word.search(window)
    if nearest is None:
        return Context.NONE
    if nearest.lastgroup == "for":
        return Context.FOR
    if nearest.start() <= LABEL_GAP:
        return Context.AGAINST
    return Context.FOR if positive_word.search(window) else Context.NONE


_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_SPLIT = re.compile(r"[^0-9a-z\u4e00-\u9fff]+")


def column_tokens(column: str) -> tuple[str, ...]:
    """Split a column name into lower-case tokens: `borrowerIdNo` and `borrower_id_no` give the same."""
    return tuple(t for t in _SPLIT.split(_CAMEL.sub("_", column).lower()) if t)


def column_supports(column: str | None, hints: Mapping[str, tuple[str, ...]]) -> bool:
    """Whether a column name is evidence for an entity, given its `COLUMN_HINTS`.

    `hints` maps a kind of match to words: `token` words must equal a whole token (pinyin initials such
    as `sjhm` are too short to search inside other words), `joined` words must equal the name with its
    separators removed (`id_no` -> `idno`), and `contains` words may appear anywhere (Chinese labels).
    """
    if not column:
        return False
    tokens = column_tokens(column)
    joined = "".join(tokens)
    return (
        any(t in hints.get("token", ()) for t in tokens)
        or joined in hints.get("joined", ())
        or any(word in joined for word in hints.get("contains", ()))
    )
