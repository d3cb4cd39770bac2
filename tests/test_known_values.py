"""Known values: a number the run reports anywhere is reported wherever else it appears in the run, in
other files and columns, through keyed digests that never leave the run's processes."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import cloudpickle
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline import api, execution
from pipeline import known as run_known
from pipeline.known import write_gathered
from recognizers import engine
from recognizers.known import KnownValues
from recognizers.siphash import siphash24

KEY = bytes(range(16))
LUHN_FAILING = "6222021234567890120"
"""A UnionPay BIN whose Luhn check fails: plausible, reported only with context (a card column)."""
VALID = "6222021234567890128"
"""Luhn-valid under a listed BIN: validated, but not reported after `订单号` (order-number context)."""
DEFAULT = str(Path(__file__).parent.parent / "configs" / "default.yaml")


def test_siphash_gives_the_reference_implementations_test_vectors():
    """SipHash-2-4 with key 00..0f over messages 00, 01, … of lengths 0, 7, 8, 15, 16 and 63: the first
    block boundaries and a long message (vectors_sip64 of the reference implementation)."""
    messages = pa.array([bytes(range(n)) for n in (0, 7, 8, 15, 16, 63)], pa.binary())
    assert [int(d).to_bytes(8, "little").hex() for d in siphash24(KEY, messages)] == [
        "310e0edd47db6f72", "37d1018bf50002ab", "6224939a79f5f593", "e545be4961ca29a1", "db9bc2577fcc2a3f",
        "724506eb4c328a95",
    ]


def test_digests_depend_on_the_key_and_the_entity():
    value = pa.array(["11010519491231002X"])
    ids, cards = np.array(["CN_RESIDENT_ID"]), np.array(["CN_BANK_CARD"])
    known = KnownValues(KEY)
    assert known.digests(ids, value) != KnownValues(bytes(16)).digests(ids, value)
    assert known.digests(ids, value) != known.digests(cards, value)
    assert known.digests(ids, value) == KnownValues(KEY).digests(ids, value)


def test_a_candidate_below_the_threshold_is_noted_and_reported_once_known():
    memo = pa.array([f"备注 {LUHN_FAILING} 已处理"])
    seen = KnownValues(KEY, gather=True)
    assert not len(engine.find(memo, known=seen))
    _, pending = seen.gathered()
    card = seen.digests(np.array(["CN_BANK_CARD"]), pa.array([LUHN_FAILING]))
    assert pending.tolist() == card.tolist()
    found = engine.find(memo, known=KnownValues(KEY, promote=card))
    assert found.value.to_pylist() == [LUHN_FAILING]
    assert found.entity.tolist() == ["CN_BANK_CARD"] and found.validated.all()
    assert not len(engine.find(memo, known=KnownValues(KEY, promote=~card)))  # another digest: no


def test_a_known_number_never_displaces_one_reported_where_it_stands():
    """`1381 1231 010 2345 2345` reads as a landline (reported) or as a mobile overlapping it (left): the
    mobile being known elsewhere reports it where it stands alone, never in place of the landline."""
    memos = pa.array(["单号 13811231010", "单号 1381 1231 010 2345 2345"])
    mobile = KnownValues(KEY).digests(np.array(["CN_PHONE"]), pa.array(["13811231010"]))
    alone = engine.find(memos)
    assert list(zip(alone.row.tolist(), alone.value.to_pylist(), strict=True)) == [(1, "01023452345")]
    found = engine.find(memos, known=KnownValues(KEY, promote=mobile))
    reported = list(zip(found.row.tolist(), found.value.to_pylist(), strict=True))
    assert reported == [(0, "13811231010"), (1, "01023452345")]


def test_a_number_listed_after_a_known_one_shares_its_support():
    listed = pa.array([f"备注 {LUHN_FAILING}、6222021234567890138"])
    card = KnownValues(KEY).digests(np.array(["CN_BANK_CARD"]), pa.array([LUHN_FAILING]))
    assert not len(engine.find(listed))
    found = engine.find(listed, known=KnownValues(KEY, promote=card))
    assert found.value.to_pylist() == [LUHN_FAILING, "6222021234567890138"]


def test_only_candidates_overlapping_no_kept_one_are_left_below_the_threshold():
    start, end = np.array([0, 2, 18, 30]), np.array([18, 17, 28, 40])
    scores = np.array([1.0, 0.3, 0.3, 0.35])
    kept = np.array([0])
    assert engine._unsettled(start, end, scores, 0.5, kept).tolist() == [False, False, True, True]


def _write(folder: Path, tables: dict[str, dict[str, list]]) -> Path:
    folder.mkdir(parents=True)
    for name, columns in tables.items():
        pq.write_table(pa.table(columns, schema=pa.schema([(c, pa.string()) for c in columns])),
                       folder / name)
    return folder


@pytest.fixture
def across_files(tmp_path) -> Path:
    """A card column in one file; the same numbers in another file's memos, without context or after an
    order-number label, where the engine alone leaves them."""
    return _write(tmp_path / "in", {
        "part-0.parquet": {"bank_card": [LUHN_FAILING, VALID], "memo": ["首期", "已还"]},
        "part-1.parquet": {"bank_card": [None, None],
                           "memo": [f"备注 {LUHN_FAILING} 已处理", f"订单号{VALID}"]},
    })


def _memos(output: Path) -> list[str]:
    return pq.read_table(output / "part-1.parquet").column("memo").to_pylist()


@pytest.mark.parametrize("scheduler", ["threads", "processes"])
def test_numbers_reported_in_one_file_are_reported_in_another(across_files, tmp_path, scheduler):
    summary = api.run(str(across_files), str(tmp_path / "out"), DEFAULT, scheduler=scheduler)
    assert summary.status == "ok"
    assert _memos(tmp_path / "out") == ["备注 622202*********0120 已处理", "订单号622202*********0128"]
    manifest = json.loads((tmp_path / "out" / "_MANIFEST.json").read_text())
    assert manifest["known_values"]["numbers_reported_again"] == 2
    assert manifest["known_values"]["files_transformed_again"] == 1
    assert manifest["columns"]["memo"]["entities"]["CN_BANK_CARD"]["rows"] == 2
    assert not (tmp_path / "out" / "_staging").exists()  # the digests went with the staging folder


def test_without_known_values_the_engine_alone_leaves_them(across_files, tmp_path, monkeypatch):
    """What the feature is for: the same run with known values off keeps the memos as they were."""
    monkeypatch.setattr(api, "_report_known", lambda ctx, plans, release, known, results: results)
    assert api.run(str(across_files), str(tmp_path / "out"), DEFAULT).status == "ok"
    assert _memos(tmp_path / "out") == [f"备注 {LUHN_FAILING} 已处理", f"订单号{VALID}"]


def test_a_number_known_from_another_column_of_the_same_file_is_reported(tmp_path):
    source = _write(tmp_path / "in", {"part-0.parquet": {
        "bank_card": [LUHN_FAILING, None], "memo": [None, f"备注 {LUHN_FAILING}"]}})
    assert api.run(str(source), str(tmp_path / "out"), DEFAULT).status == "ok"
    memo = pq.read_table(tmp_path / "out" / "part-0.parquet").column("memo").to_pylist()
    assert memo == [None, "备注 622202*********0120"]


def test_a_known_number_never_unmasks_a_card_written_around_it(tmp_path):
    """The landline `010 6222 1231` is known from another file; inside a card written `010 6222 1231 0021
    2345 1949` it must not win over the card, which would leave most of the card in clear."""
    source = _write(tmp_path / "in", {
        "part-0.parquet": {"phone": ["01062221231"], "bank_card": [None]},
        "part-1.parquet": {"phone": [None, None],
                           "bank_card": ["流水01062221231", "流水010 6222 1231 0021 2345 1949"]},
    })
    assert api.run(str(source), str(tmp_path / "out"), DEFAULT).status == "ok"
    cards = pq.read_table(tmp_path / "out" / "part-1.parquet").column("bank_card").to_pylist()
    assert cards == ["流水010****1231", "流水010 6222 12** **** 2345 1949"]


def test_verify_finds_a_known_number_left_in_clear(across_files, tmp_path, monkeypatch):
    """Matched, but the files are not transformed again: verify, checking with the same digests, finds
    the numbers and the run commits nothing."""

    def matched_only(ctx, plans, release, known, results):
        gathered = {r.relative_path: r.gathered for r in results if r.gathered is not None}
        known.matched = run_known.match(gathered, ctx.storage_options, ctx.scheduler)
        return results

    monkeypatch.setattr(api, "_report_known", matched_only)
    summary = api.run(str(across_files), str(tmp_path / "out"), DEFAULT)
    assert (summary.status, summary.leaks) == ("leak", 2)
    assert not (tmp_path / "out" / "_SUCCESS").exists()


def _gathered(tmp_path: Path, name: str, reported: list[str], pending: list[str]):
    values = KnownValues(KEY, gather=True)
    cards = lambda numbers: values.digests(np.array(["CN_BANK_CARD"] * len(numbers)),  # noqa: E731
                                           pa.array(numbers, pa.string()))
    values.note_reported(cards(reported))
    values.note_pending(cards(pending))
    return write_gathered(values, str(tmp_path / name), None), cards


def test_matching_in_many_small_ranges_finds_what_one_range_finds(tmp_path, monkeypatch):
    numbers = [f"62220212345{i:08d}" for i in range(400)]
    first, cards = _gathered(tmp_path, "a", numbers[:300], numbers[350:])
    second, _ = _gathered(tmp_path, "b", numbers[300:350], numbers[:10] + numbers[320:330] + numbers[390:])
    gathered = {"a.parquet": first, "b.parquet": second}
    whole = run_known.match(gathered, None, "threads")
    monkeypatch.setattr(run_known, "MATCH_TASK_DIGESTS", 16)
    sizes = sum(np.diff(g.reported) + np.diff(g.pending) for g in gathered.values())
    assert len(run_known._ranges(sizes)) > 8
    split = run_known.match(gathered, None, "threads")
    assert set(whole) == set(split) == {"b.parquet"}
    assert sorted(whole["b.parquet"].tolist()) == sorted(split["b.parquet"].tolist()) == sorted(
        cards(numbers[:10] + numbers[320:330]).tolist())


def test_the_session_secret_never_enters_a_task(across_files, tmp_path, monkeypatch, task_graphs):
    secrets: list[bytes] = []
    install, compute = execution._install_secret, execution.compute
    monkeypatch.setattr(execution, "_install_secret",
                        lambda session, secret: (secrets.append(secret), install(session, secret)))

    def pickling_compute(tasks, label, scheduler=None):  # the match tasks go through here
        task_graphs.append(cloudpickle.dumps(list(tasks)))
        return compute(tasks, label, scheduler)

    monkeypatch.setattr(execution, "compute", pickling_compute)
    assert api.run(str(across_files), str(tmp_path / "out"), DEFAULT).status == "ok"
    assert len(secrets) == 1 and len(task_graphs) == 4  # transform, match, transform again, verify
    assert not [g for g in task_graphs if secrets[0] in g]
    assert not execution._session_secrets  # gone with the session
    with pytest.raises(TypeError, match="not pickled"):
        pickle.dumps(KnownValues(secrets[0]))
