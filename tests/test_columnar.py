"""The columnar fast path must give exactly the answers `detect` gives for every value it decides."""

from __future__ import annotations

import random
import secrets
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from faker import Faker

from pipeline import transform
from pipeline.actions import build_action
from pipeline.actions.base import Target
from pipeline.actions.generalize import CHOICES
from pipeline.keys import Keyring, KeySource
from pipeline.plan import plan_columns
from pipeline.policy import build_actions, load_policy
from pipeline.transform import transform_table
from recognizers import bank_card, detect
from recognizers.bank_card import bins
from recognizers.columnar import find_bare, find_labelled
from recognizers.resident_id import calc_check_digit

ENTITIES = ("CN_RESIDENT_ID", "CN_PHONE", "CN_BANK_CARD")
SAMPLE = Path(__file__).parent.parent / "sample_data"
CONFIGS = Path(__file__).parent.parent / "configs"


def _written_forms(rng: random.Random) -> list[str]:
    """Many ways exports write IDs, phones and cards, valid and not, plus near misses."""
    faker = Faker("zh_CN")
    faker.seed_instance(rng.randrange(10**6))
    known = [b for b in bins() if len(b) == 6]
    values = []
    for _ in range(400):
        number = faker.ssn()
        values += [number, number.lower(), number[:17] + rng.choice("0123456789X"), "62" + number[2:],
                   number[:6] + " " + number[6:14] + " " + number[14:], number[:15],
                   number[:6] + number[8:17]]  # the legacy 15-digit form
        body = number[:17]
        values.append(body[:2] + "9" + body[3:] + calc_check_digit(body[:2] + "9" + body[3:]))
        mobile = faker.phone_number()
        for prefix in ("", "+86 ", "+86", "0086 ", "86-", "(+86)", "(+86) ", "+86-"):
            values += [prefix + mobile, prefix + f"{mobile[:3]} {mobile[3:7]} {mobile[7:]}",
                       prefix + f"{mobile[:3]}-{mobile[3:7]}-{mobile[7:]}"]
        values += ["1" + rng.choice("0126") + mobile[2:], mobile[:3] + " " + mobile[3:], mobile + "0"]
        for length in (16, 17, 18, 19, 15):
            body = rng.choice([*known, "621700", "436742", "512345"]) + "".join(
                rng.choice("0123456789") for _ in range(length - 7))
            card = body + bank_card.calc_check_digit(body)
            values += [card, card[:-1] + str((int(card[-1]) + 1) % 10),
                       " ".join(card[i:i + 4] for i in range(0, length, 4)),
                       "-".join(card[i:i + 4] for i in range(0, length, 4)), card[:6] + " " + card[6:]]
    return values


LABELS = (
    "", "手机", "手机号：", "电话 ", "客户备用号码", "卡号:", "还款卡号 ", "银行卡/手机 ", "身份证号码：",
    "证件号", "订单号", "订单号：", "流水号 ", "QQ", "tel:", "tel", "Ｔｅｌ：", "(本人)", "号码+", "号码(",
    "编号-", "金额.", "备注\u200b", "联系人\u3000", "  ", "call me at ", "H", "见附件》",
)
TAILS = (
    "", "，请核对", "(本人)", " 已停机", "X", "Ｘ", "\u200bX", "x号", ".", "元", "  ", "\t", "》", "abc",
    "-", "转分机", "\u3000备用",
)


def _labelled(values: list[str], rng: random.Random) -> list[str]:
    """The written forms inside short texts: a label before, a tail after, both, or neither."""
    return [rng.choice(LABELS) + value + rng.choice(TAILS) for value in values]


def _assert_agrees(finder, values: list[str], column: str | None, threshold: float) -> int:
    """Every value `finder` decides gets exactly that one finding from `detect`; returns how many."""
    decided = 0
    for found in finder(pa.array(values), ENTITIES, column, threshold):
        befores = found.before.to_pylist() if found.before is not None else [""] * len(found)
        rows = zip(found.index.tolist(), found.values.to_pylist(), found.subtypes, found.written.to_pylist(),
                   befores, strict=True)
        for i, value, subtype, written, before in rows:
            result = detect(values[i], ENTITIES, column=column, threshold=threshold)
            assert len(result) == 1, (found.entity, i)
            finding = result[0]
            start = len(before)
            assert (finding.entity, finding.start, finding.end) == (found.entity, start, start + len(written))
            assert (finding.value, finding.subtype, finding.score) == (value, subtype, found.score)
            assert values[i][start : start + len(written)] == written
            decided += 1
    return decided


@pytest.mark.parametrize("column", [None, "mobile", "bank_card", "sfzh", "card_no", "remark"])
@pytest.mark.parametrize("threshold", [0.0, 0.5, 0.9])
def test_fast_path_agrees_with_detect(column, threshold):
    values = _written_forms(random.Random(hash((column, threshold)) % 1000))
    decided = _assert_agrees(find_bare, values, column, threshold)
    if threshold <= 0.85:  # validated without context scores 0.85: above that only named columns count
        assert decided > len(values) // 4  # the fast path does the bulk of the work, not a corner of it


@pytest.mark.parametrize("column", [None, "mobile", "bank_card", "remark"])
@pytest.mark.parametrize("threshold", [0.0, 0.5, 0.9])
def test_labelled_fast_path_agrees_with_detect(column, threshold):
    rng = random.Random(hash((column, threshold, "labelled")) % 1000)
    values = _labelled(_written_forms(rng), rng)
    decided = _assert_agrees(find_labelled, values, column, threshold)
    if threshold <= 0.85:
        assert decided > len(values) // 8


def test_labelled_leaves_whole_values_and_labels_against_to_detect():
    values = ["13812345678", " 13812345678 ", "订单号13812345678", "手机13812345678", "QQ13812345678"]
    found = find_labelled(pa.array(values), ENTITIES, None, 0.5)
    assert [(f.entity, f.index.tolist()) for f in found] == [("CN_PHONE", [3])]


def test_fast_path_respects_the_entities_asked_for():
    values = pa.array(["13812345678", "11010519491231003" + calc_check_digit("11010519491231003")])
    assert [b.entity for b in find_bare(values, ["CN_PHONE"], None, 0.5)] == ["CN_PHONE"]


@pytest.mark.parametrize(
    ("action", "params"),
    [("mask", {}), ("mask", {"keep_first": 0, "keep_last": 4}), ("mask", {"keep_first": 3, "char": "#"}),
     *[("generalize", {"to": choice}) for choice in ("birth_year", "age_band", "gender", "province", "city",
                                                     "carrier", "bank", "card_type", "bank_and_type")],
     ("tokenize", {})],
)
def test_bulk_action_equals_action_per_value(action, params):
    act = build_action(action, params, Keyring(secrets.token_bytes(32), KeySource(env="UNUSED")))
    values = _written_forms(random.Random(7))
    decided = 0
    for bare in find_bare(pa.array(values), ENTITIES, None, 0.0):  # 0.0: legacy 15-digit IDs too
        if action == "generalize" and params["to"] not in CHOICES[bare.entity]:
            continue
        written = [values[i] for i in bare.index.tolist()]
        bulk = act.replace_whole(bare.entity, pa.array(written), bare.values).to_pylist()
        one_by_one = [act.replace(Target(bare.entity, v, s, w, True))
                      for v, s, w in zip(bare.values.to_pylist(), bare.subtypes, written, strict=True)]
        assert bulk == one_by_one
        decided += len(bulk)
    assert decided > len(values) // 20  # IDs alone are 1 value in 15


@pytest.mark.parametrize("policy", ["default.yaml", "analytics_vendor.yaml", "collection_agency.yaml"])
def test_transform_gives_the_same_output_and_counts_without_the_fast_path(policy, monkeypatch):
    """The whole transform, fast paths on and off: byte-identical output, identical counts."""
    monkeypatch.setenv("CNPII_KEY", secrets.token_urlsafe(48))
    table = pq.read_table(sorted((SAMPLE / "customers").glob("*.parquet"))[0])
    rng = random.Random(11)
    remarks = _labelled(_written_forms(rng), rng)
    table = table.set_column(table.schema.get_field_index("remark"), "remark",
                             pa.array(rng.sample(remarks, table.num_rows)))
    loaded = load_policy(CONFIGS / policy)
    _, actions = build_actions(loaded, policy)
    plans = plan_columns(table.schema, loaded, actions, set(), policy)
    fast, fast_stats = transform_table(table, plans)
    monkeypatch.setattr(transform, "find_bare", lambda *args: [])
    monkeypatch.setattr(transform, "find_labelled", lambda *args: [])
    slow, slow_stats = transform_table(table, plans)
    assert fast.equals(slow)
    for name, stats in fast_stats.items():
        counted = ("rows", "non_null", "rows_with", "findings", "validated", "whole_value")
        assert [getattr(stats, c) for c in counted] == [getattr(slow_stats[name], c) for c in counted], name
    assert sum(fast_stats["remark"].findings.values()) > table.num_rows // 4
