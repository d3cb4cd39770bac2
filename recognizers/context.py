"""Context that raises or lowers confidence, in a way that works for Chinese.

Presidio's lemma-based enhancer matches context words against token lemmas; a blank Chinese pipeline
has no lemmas and splits text per character, so it never fires. Here context is plain substring search
in a short window of folded text before the match: the keyword nearest to the number decides, so
`手机号13800138000，订单号…` is a phone and `订单号13800138000` is not. The engine searches all windows
of a batch at once (`recognizers.engine.contexts`).

Column names are evidence too: a column called `sjhm` (手机号码) or `联系电话` supports phones in it.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping

import numpy as np

from recognizers.building import built_once
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
    "打折",
    "打卡",
)

_SCORES = {  # the confidence of a candidate: validated + context > validated > plausible + context > rest
    (Strength.VALIDATED, Context.FOR): 1.0,
    (Strength.VALIDATED, Context.NONE): 0.85,
    (Strength.VALIDATED, Context.AGAINST): 0.35,
    (Strength.PLAUSIBLE, Context.FOR): 0.6,
    (Strength.PLAUSIBLE, Context.NONE): 0.3,
    (Strength.PLAUSIBLE, Context.AGAINST): 0.1,
}

DEFAULT_THRESHOLD = 0.5
"""Findings below this score are not reported: validated values always pass, plausible ones need context."""


@built_once
def score_table() -> np.ndarray:
    """The confidence of a candidate as an array indexed by [strength, context + 1], for scoring in bulk
    (strength 0, no candidate, scores 0)."""
    table = np.zeros((3, 3))
    for (strength, context), value in _SCORES.items():
        table[strength, context + 1] = value
    return table


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
