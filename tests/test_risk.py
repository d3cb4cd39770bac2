"""Re-identification risk on constructed tables: exact k and l, people versus rows, nulls left out, parts
summed as a whole, and the least-loss node of a known lattice."""

from __future__ import annotations

import datetime as dt
import itertools

import pyarrow as pa
import pytest

from pipeline.actions import build_action
from pipeline.ladders import (
    AmountRange,
    DatePart,
    DivisionOf,
    EntityAttribute,
    RegionProvince,
    YearBand,
    auto_quasi_identifiers,
    build_ladder,
    looks_like_gender,
)
from pipeline.lattice import choose_node, rung_key
from pipeline.plan import ColumnPlan, Mode, PlanError
from pipeline.policy import WholeColumnRule
from pipeline.risk import PERSON, class_counts, count_people, measure, merge_counts, person_digests


def _counts(columns: dict[str, list], person: list | None = None, sensitive: list | None = None) -> pa.Table:
    keys = {f"q{i}": pa.array(values, pa.string()) for i, values in enumerate(columns.values())}
    digests = person_digests(pa.array(person, pa.string())) if person is not None else None
    return class_counts(keys, digests, pa.array(sensitive, pa.string()) if sensitive is not None else None)


def _measure(columns: dict[str, list], **kwargs):
    counts = _counts(columns, kwargs.pop("person", None), kwargs.pop("sensitive", None))
    return measure(counts, [f"q{i}" for i in range(len(columns))], names=list(columns), **kwargs)


def test_k_is_the_smallest_class_and_nulls_are_left_out():
    figures = _measure({"city": ["深圳市"] * 3 + ["广州市"] * 2 + [None] * 4,
                        "gender": ["男", "男", "女", "女", "女", "男", "男", None, "女"]})
    # classes: (深圳,男)=2, (深圳,女)=1, (广州,女)=2; the four rows with a null are in no class
    assert (figures.k, figures.classes, figures.uniques, figures.records) == (1, 3, 1, 5)
    assert (figures.rows, figures.rows_left_out) == (9, 4)
    assert figures.max_risk == 1.0
    assert figures.avg_risk == pytest.approx(3 / 5, abs=1e-6)
    assert figures.l is None


def test_records_at_risk_follow_the_target():
    columns = {"band": ["a"] * 2 + ["b"] * 4 + ["c"] * 6}
    assert _measure(columns, target_k=5).records_at_risk == 6  # classes of 2 and 4 are below 5
    assert _measure(columns, target_k=3).records_at_risk == 2
    assert _measure(columns).records_at_risk == 6  # 1/5 without a target
    assert _measure(columns, target_k=3).risk_threshold == pytest.approx(1 / 3, abs=1e-6)


def test_l_is_the_fewest_distinct_sensitive_values_in_a_class():
    figures = _measure({"band": ["a", "a", "a", "b", "b"]},
                       sensitive=["逾期", "正常", "逾期", "正常", "正常"])
    assert (figures.k, figures.l) == (2, 1)  # class b holds one status only
    nulls = _measure({"band": ["a", "a"]}, sensitive=[None, "正常"])
    assert nulls.l == 1  # a null sensitive value is not a value


def test_people_not_rows():
    band = ["a"] * 5 + ["b"] * 3
    person = ["p1", "p1", "p1", "p2", "p2", "p3", "p4", "p5"]
    assert _measure({"band": band}).k == 3
    by_person = _measure({"band": band}, person=person)
    assert (by_person.counted, by_person.k, by_person.records) == ("people", 2, 5)
    # a row without a person value is a person of its own (never merged into someone counted)
    assert _measure({"band": ["a", "a", "a"]}, person=["p1", None, None]).k == 3


def test_parts_sum_to_the_whole():
    cities = [["深圳市", "广州市", "珠海市"][i % 3] for i in range(50)]
    genders = [["男", "女"][i * 7 % 2] for i in range(50)]
    people = [f"p{i % 17}" for i in range(50)]
    whole = _counts({"c": cities, "g": genders}, people)
    parts = [_counts({"c": cities[a:b], "g": genders[a:b]}, people[a:b])
             for a, b in ((0, 13), (13, 40), (40, 50))]
    merged = merge_counts(parts)
    assert measure(merged, ["q0", "q1"]).to_dict() == measure(whole, ["q0", "q1"]).to_dict()


def test_histogram_and_uniques_per_quasi_identifier():
    figures = _measure({"a": ["x"] * 10 + ["y", "z"], "b": ["1"] * 11 + ["2"]})
    buckets = {b["class_size"]: (b["classes"], b["records"]) for b in figures.histogram}
    assert buckets["1"] == (2, 2) and buckets["10-19"] == (1, 10)
    assert sum(b["records"] for b in figures.histogram) == figures.records
    assert figures.uniques_per_quasi_identifier == {"a": 2, "b": 1}


def test_digests_tell_people_apart_without_holding_them():
    values = pa.array(["11010519491231002X", "440524188001010014", "11010519491231002X", None])
    digests = person_digests(values).to_pylist()
    assert digests[0] == digests[2] != digests[1] and digests[3] is None
    assert all(isinstance(d, int) for d in digests[:3])


def _lattice_counts() -> pa.Table:
    """Two quasi-identifiers with three and two rungs: year -> 5-year band -> decade, city -> province."""
    years = [1980, 1981, 1982, 1983, 1984, 1985, 1986, 1987, 1988, 1989]
    cities = {"深圳市": "广东省", "广州市": "广东省", "杭州市": "浙江省"}
    rows = [(year, city) for year, city in itertools.product(years, cities) for _ in range(2)]
    rows += [(1980, "深圳市")]  # one more person born 1980 in 深圳
    keys = {
        rung_key(0, 0): [str(y) for y, _ in rows],
        rung_key(0, 1): [f"{y // 5 * 5}-{y // 5 * 5 + 4}" for y, _ in rows],
        rung_key(0, 2): [f"{y // 10 * 10}s" for y, _ in rows],
        rung_key(1, 0): [c for _, c in rows],
        rung_key(1, 1): [cities[c] for _, c in rows],
    }
    return class_counts({k: pa.array(v) for k, v in keys.items()})


def test_the_least_loss_node_that_meets_k():
    counts = _lattice_counts()  # 61 rows; every (year, city) class has 2 or 3 rows
    assert choose_node(counts, (3, 2), k=2, l=None, max_suppressed=0.0).node == (0, 0)
    # k=3. Losses: year 0, band 1 - 1/9, decade 1; city 0, province 1/2. In loss order: (year, province)
    # at 0.25 leaves 浙江 classes of 2 rows; (band, city) at 0.44 has classes of 10: chosen.
    decision = choose_node(counts, (3, 2), k=3, l=None, max_suppressed=0.0)
    assert decision.feasible and decision.node == (1, 0)
    assert decision.suppressed_rows == 0 and decision.loss == pytest.approx((1 - 1 / 9) / 2)
    # a budget of 2 rows (3.4%) cannot buy (year, province): it would suppress the 20 rows of 浙江
    assert choose_node(counts, (3, 2), k=3, l=None, max_suppressed=0.034).node == (1, 0)
    # a budget of 20 rows can: suppressing 浙江 loses less than climbing to bands
    bought = choose_node(counts, (3, 2), k=3, l=None, max_suppressed=20 / 61)
    assert (bought.node, bought.suppressed_rows) == ((0, 1), 20)


def test_suppression_within_the_budget_beats_climbing():
    keys = {rung_key(0, 0): ["a"] * 10 + ["b"] * 10 + ["c"], rung_key(0, 1): ["ab"] * 20 + ["c"]}
    counts = class_counts({k: pa.array(v) for k, v in keys.items()})
    climbed = choose_node(counts, (2,), k=5, l=None, max_suppressed=0.0)
    assert not climbed.feasible  # even the top leaves class c of one row
    assert climbed.suppressed_rows == 1 and climbed.k_before_suppression == 1
    suppressed = choose_node(counts, (2,), k=5, l=None, max_suppressed=0.05)
    assert suppressed.feasible and suppressed.node == (0,)
    assert suppressed.suppressed_rows == 1 and suppressed.suppressed.column("q0").to_pylist() == ["c"]


def test_l_diversity_joins_the_target():
    keys = {rung_key(0, 0): ["a"] * 3 + ["b"] * 3, rung_key(0, 1): ["ab"] * 6}
    counts = class_counts({k: pa.array(v) for k, v in keys.items()},
                          sensitive=pa.array(["x", "x", "x", "x", "y", "y"]))
    assert choose_node(counts, (2,), k=3, l=None, max_suppressed=0.0).node == (0,)
    assert choose_node(counts, (2,), k=3, l=2, max_suppressed=0.0).node == (1,)


def test_a_lattice_too_large_is_refused():
    counts = class_counts({rung_key(i, 0): pa.array(["a"]) for i in range(20)})
    with pytest.raises(ValueError, match="lattice"):
        choose_node(counts, (2,) * 20, k=1, l=None, max_suppressed=0.0)


def test_rungs_climb_dates_entities_regions_and_amounts():
    dates = pa.array([dt.date(1983, 7, 9), None, dt.date(1990, 1, 1)])
    assert DatePart("month").values(dates, dates).to_pylist() == ["1983-07", None, "1990-01"]
    assert YearBand().values(dates, dates).to_pylist() == ["1980-1984", None, "1990-1994"]
    ids = pa.array(["11010519491231002X", "44030519900101123X", "not an id", None])
    assert EntityAttribute("CN_RESIDENT_ID", "province").values(ids, ids).to_pylist() == [
        "北京市", "广东省", "未知", None]
    assert EntityAttribute("CN_RESIDENT_ID", "county").values(ids, ids).to_pylist()[:2] == [
        "北京市朝阳区", "深圳市南山区"]
    cities = pa.array(["深圳市", "杭州", "某市", None])
    assert RegionProvince().values(cities, cities).to_pylist() == ["广东省", "浙江省", "未知", None]
    codes = pa.array(["440305", "110105", "999999", None])
    assert DivisionOf("city").values(codes, codes).to_pylist() == ["深圳市", "北京市", "未知", None]
    assert DivisionOf("province").values(codes, codes).to_pylist()[:2] == ["广东省", "北京市"]
    amounts = pa.array([500, 1500, 9000])
    assert AmountRange((1000.0,)).values(amounts, amounts).to_pylist() == ["<1000", ">=1000", ">=1000"]


def _plan(name: str, mode: Mode, **kwargs) -> ColumnPlan:
    return ColumnPlan(name, mode, pa.string(), **kwargs)


def test_ladders_start_where_the_policy_leaves_a_column():
    generalize = build_action("generalize", {"to": "city"}, None)
    declared = _plan("sfzh", Mode.DECLARED, entities=("CN_RESIDENT_ID",),
                     actions={"CN_RESIDENT_ID": generalize})
    assert build_ladder(declared, pa.array([], pa.string()), None, "p").names == ["as released", "province"]
    masked = _plan("sfzh", Mode.DECLARED, entities=("CN_RESIDENT_ID",),
                   actions={"CN_RESIDENT_ID": build_action("mask", {}, None)})
    assert build_ladder(masked, pa.array([], pa.string()), None, "p").names == [
        "as released", "county", "city", "province"]
    years = _plan("birth", Mode.WHOLE, whole=WholeColumnRule(action="generalize", to="year"))
    assert build_ladder(years, pa.array([], pa.string()), None, "p").names == ["as released", "5-year band"]
    kept = ColumnPlan("born", Mode.KEEP, pa.date32())
    assert build_ladder(kept, pa.array([], pa.date32()), None, "p").names == [
        "as released", "month", "year", "5-year band"]
    amounts = _plan("amount", Mode.WHOLE, whole=WholeColumnRule(action="generalize", edges=(1, 2, 3, 4)))
    assert build_ladder(amounts, pa.array([], pa.int64()), None, "p").names == [
        "as released", "ranges at 1, 3", "ranges at 1"]
    redacted = _plan("name", Mode.WHOLE, whole=WholeColumnRule(action="redact"))
    with pytest.raises(PlanError, match="redacted"):
        build_ladder(redacted, pa.array([], pa.string()), None, "p")


def test_auto_takes_generalized_columns_and_unchanged_dates_gender_regions_postcodes():
    sample = pa.table({
        "born": pa.array([dt.date(1990, 1, 1)] * 4),
        "gender": ["男", "女", "F", "male"],
        "city": ["深圳市", "杭州市", "北京", "广州市"],
        "postcode": ["518000", "310000", "100000", "510000"],
        "county": pa.array([440305, 110105, 330106, 440106]),
        "note": ["已还款", "逾期", "正常", "正常"],
        "amount": pa.array([1, 2, 3, 4]),
        "status": ["正常", "逾期", "正常", "正常"],
    })
    plans = [ColumnPlan("born", Mode.KEEP, pa.date32()), _plan("gender", Mode.SCAN),
             _plan("city", Mode.SCAN), _plan("postcode", Mode.SCAN),
             ColumnPlan("county", Mode.KEEP, pa.int64()), _plan("note", Mode.SCAN),
             _plan("amount", Mode.WHOLE, whole=WholeColumnRule(action="generalize", edges=(2,))),
             _plan("status", Mode.SCAN)]
    from pipeline.transform import ColumnStats

    stats = {p.name: ColumnStats(rows=4, non_null=4) for p in plans if p.mode is Mode.SCAN}
    chosen = auto_quasi_identifiers(plans, sample, stats, skip=["status"])
    assert chosen == ["born", "gender", "city", "postcode", "county", "amount"]
    ladders = {p.name: build_ladder(p, sample.column(p.name).combine_chunks(), stats.get(p.name), "p").names
               for p in plans if p.name in chosen}
    assert ladders["county"] == ["as released", "city", "province"]
    assert ladders["city"] == ["as released", "province"]
    assert ladders["postcode"] == ladders["gender"] == ["as released"]
    assert not looks_like_gender(pa.array(["男", "已婚", "未婚", "离异"]))


def test_people_are_summed_only_when_each_person_is_in_one_row():
    band = ["a", "a", "b", "b", "b"]
    one_row_each = _counts({"band": band}, person=["p1", "p2", "p3", "p4", None])
    reduced = count_people([one_row_each])
    assert PERSON not in reduced.column_names and reduced.num_rows == 2
    assert measure(reduced, ["q0"]).to_dict() == measure(one_row_each, ["q0"]).to_dict()
    # p1 in both bands: summing at a coarser node would count p1 twice, so the digests stay
    spread = _counts({"band": band, "all": ["x"] * 5}, person=["p1", "p2", "p1", "p4", "p5"])
    assert PERSON in count_people([spread]).column_names
    assert measure(spread, ["q1"]).k == 4
    # parts of two files gathered unmerged: p1 in both is one person, not two
    halves = [_counts({"all": ["x", "x"]}, person=["p1", "p2"]), _counts({"all": ["x"]}, person=["p1"])]
    assert measure(count_people(halves), ["q0"]).k == 2


def test_a_person_is_the_same_however_the_id_is_spaced_or_cased():
    written = ["11010519491231002X", "110105 1949 1231 002x", "110105-19491231-002X"]
    digests = person_digests(pa.array(written))
    assert len(set(digests.to_pylist())) == 1


def test_a_ladder_whose_first_rung_masks_is_searched_without_pruning():
    """A masked number is no finer than its city: two numbers with one mask lie in two cities. The
    release the policy already makes (rung 0) meets k here although the coarser rung does not."""
    cities = ["北京市", "上海市", "广州市", "深圳市", "杭州市", "南京市"]
    keys = {rung_key(0, 0): ["138****5678"] * 6, rung_key(0, 1): cities}
    counts = class_counts({k: pa.array(v) for k, v in keys.items()})
    assert not choose_node(counts, (2,), k=3, l=None, max_suppressed=0.0, hierarchical=True).feasible
    decision = choose_node(counts, (2,), k=3, l=None, max_suppressed=0.0, hierarchical=False)
    assert decision.feasible and decision.node == (0,)
    masked = _plan("mobile", Mode.DECLARED, entities=("CN_PHONE",),
                   actions={"CN_PHONE": build_action("mask", {}, None)})
    generalized = _plan("mobile", Mode.DECLARED, entities=("CN_PHONE",),
                      actions={"CN_PHONE": build_action("generalize", {"to": "city"}, None)})
    assert not build_ladder(masked, pa.array([], pa.string()), None, "p").hierarchical
    assert build_ladder(generalized, pa.array([], pa.string()), None, "p").hierarchical


def test_the_region_table_maps_current_cities_to_their_province():
    """`region_provinces` walks the division table's tree: current names before abolished ones,
    placeholders and names of several provinces left out."""
    from recognizers.divisions import region_provinces

    table = region_provinces()
    assert len(table) > 900
    expected = {"深圳市": "广东省", "深圳": "广东省", "南昌市": "江西省", "吉林": "吉林省",
                "海口市": "海南省", "三亚市": "海南省", "重庆市": "重庆市", "北京": "北京市",
                "拉萨市": "西藏自治区"}
    assert {name: table.get(name) for name in expected} == expected
    assert "省直辖县级行政单位" not in table and "市辖区" not in table
    assert "张家" not in table  # 张家口市 (河北省) or 张家界市 (湖南省)
