"""The main job end to end: scan, run and verify on Parquet, through the Python API and the CLI."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import dask
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline import api, execution
from pipeline.cli import EXIT_USAGE
from pipeline.cli import main as cli
from pipeline.plan import plan_columns
from pipeline.policy import PolicyError, build_actions, load_policy, parse_policy
from pipeline.storage import InputError, OutputExistsError, is_complete, read_manifest
from pipeline.transform import scan_table, transform_table
from recognizers import detect
from recognizers.resident_id import calc_check_digit

SAMPLE = Path(__file__).parent.parent / "sample_data"
CONFIGS = Path(__file__).parent.parent / "configs"
KEY = "test-key-" + "0123456789abcdef" * 3


def _id(body17: str) -> str:
    return body17 + calc_check_digit(body17)


ID_A, ID_B = _id("11010519491231003"), _id("44030419900307124")
PHONE_A, PHONE_B = "13812345678", "15987654321"
CARD_A = "6222021234567890128"  # ICBC BIN, Luhn-valid


def _table() -> pa.Table:
    """Whole-value and free-text columns, as strings and integers, with rows that repeat."""
    return pa.table(
        {
            "customer_id": pa.array([1, 2, 3, 4], pa.int64()),
            "id_number": [ID_A, ID_B, ID_A, None],
            "mobile": [PHONE_A, "+86 159-8765-4321", PHONE_A, "无"],
            "phone_int": pa.array([int(PHONE_A), int(PHONE_B), None, int(PHONE_A)], pa.int64()),
            "id_int": pa.array([int(ID_A), None, int(ID_A), None], pa.int64()),
            "card": [CARD_A, "6222 0212 3456 7890 128", None, CARD_A],
            "note": [
                f"客户手机{PHONE_A}，身份证{ID_A}。",
                "客户来电咨询还款日期。",
                f"卡号{CARD_A}已冻结",
                None,
            ],
            "amount": pa.array([100, 2500, 99000, None], pa.int32()),
            "city": ["深圳市", "北京市", "深圳市", "上海市"],
        }
    )


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    folder = tmp_path / "input"
    folder.mkdir()
    table = _table()
    pq.write_table(table.slice(0, 2), folder / "part-0.parquet")
    pq.write_table(table.slice(2), folder / "part-1.parquet")
    return folder


@pytest.fixture(autouse=True)
def _key(monkeypatch):
    monkeypatch.setenv("CNPII_KEY", KEY)


def _read(folder: Path) -> pa.Table:
    files = sorted(p for p in folder.glob("*.parquet"))
    return pa.concat_tables(pq.read_table(p) for p in files)


def _raw_values() -> set[str]:
    return {ID_A, ID_B, PHONE_A, PHONE_B, CARD_A}


def _cells(table: pa.Table) -> list[str]:
    return [str(v) for column in table.columns for v in column.to_pylist() if v is not None]


def _leaks(table: pa.Table) -> list[str]:
    """Raw values of the fixture found anywhere in a table, as text or digits."""
    return [
        raw
        for cell in _cells(table)
        for raw in _raw_values()
        if raw in cell.replace(" ", "").replace("-", "")
    ]


def test_default_policy_masks_everything_and_commits(dataset, tmp_path):
    out = tmp_path / "out"
    summary = api.run(str(dataset), str(out), None)
    assert summary.status == "ok", summary
    assert is_complete(str(out), None)
    result, original = _read(out), _read(dataset)
    assert result.num_rows == original.num_rows
    assert _leaks(result) == []
    assert result.column("customer_id").equals(original.column("customer_id"))
    assert result.column("amount").equals(original.column("amount"))
    assert result.column("city").equals(original.column("city"))
    assert result.schema.field("amount").type == pa.int32()
    assert result.column("mobile").to_pylist()[0] == "138****5678"
    assert result.column("mobile").to_pylist()[1] == "+86 159-****-4321"
    assert result.column("mobile").to_pylist()[3] == "无"
    assert result.column("note").to_pylist()[1] == "客户来电咨询还款日期。"  # no PII: byte-identical
    assert result.column("note").to_pylist()[0].startswith("客户手机138****5678，身份证")
    assert result.column("phone_int").to_pylist()[0] == "138****5678"  # an integer column holding phones
    manifest = read_manifest(str(out), None)
    assert manifest["verify"]["status"] == "passed"
    assert {o["relative_path"] for o in manifest["outputs"]} == {"part-0.parquet", "part-1.parquet"}
    assert manifest["entities"]["CN_PHONE"]["rows"] >= 4
    assert api.verify(str(out)).status == "ok"


def test_each_file_keeps_its_rows_and_name(dataset, tmp_path):
    out = tmp_path / "out"
    api.run(str(dataset), str(out), None)
    for name in ("part-0.parquet", "part-1.parquet"):
        assert pq.read_metadata(out / name).num_rows == pq.read_metadata(dataset / name).num_rows


ACTION_CASES = {
    "mask": {"action": "mask"},
    "tokenize_hmac": {"action": "tokenize", "format": "hmac"},
    "tokenize_preserving": {"action": "tokenize", "format": "preserving"},
    "tokenize_reversible": {"action": "tokenize", "format": "reversible"},
    "redact": {"action": "redact"},
    "fake": {"action": "fake"},
}


@pytest.mark.parametrize("case", sorted(ACTION_CASES))
def test_each_action_on_whole_values_free_text_and_integers(case, dataset, tmp_path):
    rule = ACTION_CASES[case]
    policy = parse_policy(
        {
            "key": {"env": "CNPII_KEY"},
            "actions": {e: rule for e in ("CN_RESIDENT_ID", "CN_PHONE", "CN_BANK_CARD")},
        }
    )
    out = tmp_path / "out"
    summary = api.run(str(dataset), str(out), policy)
    assert summary.status == "ok"
    result = _read(out)
    assert _leaks(result) == []
    notes = result.column("note").to_pylist()
    assert notes[1] == "客户来电咨询还款日期。"
    assert notes[0].startswith("客户手机") and "，身份证" in notes[0] and notes[0].endswith("。")
    assert notes[2].startswith("卡号") and notes[2].endswith("已冻结")
    mobile, phone_int = result.column("mobile").to_pylist(), result.column("phone_int").to_pylist()
    if case == "redact":
        assert mobile[0] is None and phone_int[0] is None and "<CN_PHONE>" in notes[0]
    else:
        assert mobile[0] and mobile[0] == mobile[2] == phone_int[0]  # same value, same output everywhere
    if case.startswith("tokenize") or case == "fake":
        assert mobile[0] == mobile[2] and mobile[1] != mobile[0]
        assert result.column("id_number").to_pylist()[0] == result.column("id_int").to_pylist()[0]


def test_generalize_on_whole_values_and_text(dataset, tmp_path):
    policy = parse_policy(
        {
            "actions": {
                "CN_RESIDENT_ID": {"action": "generalize", "to": "birth_year"},
                "CN_PHONE": {"action": "generalize", "to": "province"},
                "CN_BANK_CARD": {"action": "generalize", "to": "bank"},
            },
            "columns": {"amount": {"action": "generalize", "edges": [1000, 10000]}},
        }
    )
    out = tmp_path / "out"
    assert api.run(str(dataset), str(out), policy).status == "ok"
    result = _read(out)
    assert _leaks(result) == []
    assert result.column("id_number").to_pylist()[:2] == ["1949年", "1990年"]
    assert result.column("id_int").to_pylist()[0] == "1949年"
    assert "1949年" in result.column("note").to_pylist()[0]
    assert result.column("amount").to_pylist() == ["<1000", "1000-10000", ">=10000", None]


def test_same_key_same_output_across_runs(dataset, tmp_path):
    policy = CONFIGS / "analytics_vendor.yaml"
    first, second = tmp_path / "a", tmp_path / "b"
    api.run(str(dataset), str(first), None)
    api.run(str(dataset), str(second), None)
    assert _read(first).equals(_read(second))
    shutil.rmtree(first), shutil.rmtree(second)
    for out in (first, second):
        api.run(str(SAMPLE / "customers"), str(out), policy)
    assert _read(first).equals(_read(second))


def test_process_pool_gives_the_thread_pools_output(tmp_path):
    policy = CONFIGS / "analytics_vendor.yaml"
    threads, processes = tmp_path / "threads", tmp_path / "processes"
    api.run(str(SAMPLE / "customers"), str(threads), policy)
    summary = api.run(str(SAMPLE / "customers"), str(processes), policy, scheduler="processes")
    assert summary.status == "ok" and summary.files > 1
    assert _read(threads).equals(_read(processes))


@pytest.mark.parametrize("policy", ["default.yaml", "analytics_vendor.yaml", "collection_agency.yaml"])
def test_scan_counts_what_the_transform_counts(policy):
    table = pq.read_table(sorted((SAMPLE / "customers").glob("*.parquet"))[0])
    loaded = load_policy(CONFIGS / policy)
    _, actions = build_actions(loaded, policy)
    plans = plan_columns(table.schema, loaded, actions, set(), policy)
    _, transformed = transform_table(table, plans)
    assert scan_table(table, plans) == transformed
    assert sum(sum(stats.findings.values()) for stats in transformed.values()) > table.num_rows


def test_a_scheduler_that_is_neither_a_pool_nor_an_address_is_refused(dataset, capsys):
    assert cli(["scan", str(dataset), "--scheduler", "thread"]) == EXIT_USAGE
    assert "expected threads or processes, or the address" in capsys.readouterr().err
    with pytest.raises(ValueError, match="scheduler 'proceses'"):
        api.scan(str(dataset), scheduler="proceses")


def test_verify_fails_a_planted_phone(dataset, tmp_path, capsys):
    out = tmp_path / "out"
    api.run(str(dataset), str(out), None)
    table = pq.read_table(out / "part-1.parquet")
    notes = table.column("note").to_pylist()
    notes[1] = "回访电话 13912345678"
    pq.write_table(
        table.set_column(table.schema.get_field_index("note"), "note", pa.array(notes)),
        out / "part-1.parquet",
    )
    assert api.verify(str(out)).status == "leak"
    assert cli(["verify", str(out)]) == 1
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["status"] == "leak" and summary["leaks"] == 1
    assert "13912345678" not in json.dumps(summary)


def test_masked_values_are_not_leaks(tmp_path):
    folder = tmp_path / "masked"
    folder.mkdir()
    pq.write_table(
        pa.table({"mobile": ["138****5678", "+86 159-****-4321"], "id": ["1****************2", None]}),
        folder / "part-0.parquet",
    )
    assert api.verify(str(folder)).status == "ok"


def test_declared_and_kept_columns(dataset, tmp_path):
    policy = parse_policy(
        {
            "columns": {
                "customer_id": "keep",
                "city": "keep",
                "mobile": {"entity": "CN_PHONE", "action": "mask"},
            }
        }
    )
    out = tmp_path / "out"
    assert api.run(str(dataset), str(out), policy).status == "ok"
    mobile = _read(out).column("mobile").to_pylist()
    assert mobile[0] == "138****5678"
    assert mobile[3] == "*"  # a declared column: what does not parse is masked whole (fail closed)


def test_refusals_happen_before_any_output(dataset, tmp_path, monkeypatch):
    out = tmp_path / "out"
    monkeypatch.delenv("CNPII_KEY")
    with pytest.raises(PolicyError, match="CNPII_KEY"):
        api.run(str(dataset), str(out), parse_policy({"actions": {"CN_PHONE": {"action": "tokenize"}}}))
    assert not out.exists()
    with pytest.raises(InputError):
        api.run(str(dataset), str(dataset / "inside"), None)
    with pytest.raises(PolicyError, match="nosuchcolumn"):
        api.run(str(dataset), str(out), parse_policy({"columns": {"nosuchcolumn": "keep"}}))
    assert not out.exists()
    api.run(str(dataset), str(out), None)
    with pytest.raises(OutputExistsError):
        api.run(str(dataset), str(out), None)
    assert api.run(str(dataset), str(out), None, mode="overwrite").status == "ok"


def test_scan_reports_columns_without_raw_values(dataset, tmp_path):
    report = tmp_path / "scan.json"
    summary = api.scan(str(dataset), report=report)
    document = json.loads(report.read_text(encoding="utf-8"))
    columns = document["columns"]
    assert columns["mobile"]["entities"]["CN_PHONE"]["layout"] == "whole_value"
    assert columns["mobile"]["entities"]["CN_PHONE"]["confidence"] == "high"
    assert columns["note"]["entities"]["CN_PHONE"]["layout"] == "free_text"
    assert columns["phone_int"]["entities"]["CN_PHONE"]["rows"] == 3
    assert "city" not in columns or not columns["city"]["entities"]
    text = report.read_text(encoding="utf-8") + report.with_suffix(".md").read_text(encoding="utf-8")
    assert not [raw for raw in _raw_values() if raw in text]
    assert summary.entities["CN_RESIDENT_ID"]["rows"] >= 3


def test_cli_run_prints_the_summary_last(dataset, tmp_path, capsys):
    out = tmp_path / "out"
    summary_file = tmp_path / "summary.json"
    code = cli(
        [
            "run",
            str(dataset),
            str(out),
            "--config",
            str(CONFIGS / "default.yaml"),
            "--summary-path",
            str(summary_file),
        ]
    )
    lines = capsys.readouterr().out.strip().splitlines()
    assert code == 0
    summary = json.loads(lines[-1])
    assert summary == json.loads(summary_file.read_text(encoding="utf-8"))
    assert (
        summary["status"] == "ok" and summary["rows"] == 4 and summary["manifest"].endswith("_MANIFEST.json")
    )
    manifest = json.loads((out / "_MANIFEST.json").read_text(encoding="utf-8"))
    assert manifest["seconds"] == summary["seconds"] > 0  # the manifest once said 0.0
    assert cli(["run", str(dataset), str(out)]) == 2  # output exists
    assert cli(["run", str(dataset), str(tmp_path / "x"), "--config", str(tmp_path / "missing.yaml")]) == 2


def test_integer_columns_without_pii_keep_their_type(tmp_path):
    folder = tmp_path / "ints"
    folder.mkdir()
    pq.write_table(
        pa.table(
            {
                "loan_id": pa.array([50000001, 50000002], pa.int64()),
                "ts": pa.array([1700000000123, 1700000000456], pa.int64()),
            }
        ),
        folder / "p.parquet",
    )
    out = tmp_path / "out"
    assert api.run(str(folder), str(out), None).status == "ok"
    assert _read(out).equals(_read(folder))


def test_detect_finds_nothing_raw_in_sample_output(tmp_path):
    out = tmp_path / "customers"
    assert api.run(str(SAMPLE / "customers"), str(out), None).status == "ok"
    table = _read(out)
    for name in ("id_number", "mobile", "bank_card", "remark"):
        assert not [v for v in table.column(name).to_pylist() if v and detect(v)]


@pytest.mark.parametrize("weakened", [{"threshold": 0.9}, {"integer_columns": "keep"}, {"entities": []}])
def test_a_policy_that_weakens_detection_does_not_weaken_verify(dataset, tmp_path, weakened):
    """Verify runs at the fail-closed defaults: such a run once passed its own verify, and a later default
    verify found IDs."""
    summary = api.run(str(dataset), str(tmp_path / "out"), parse_policy(weakened))
    assert summary.status == "leak" and summary.leaks > 0
    assert not (tmp_path / "out" / "_SUCCESS").exists()


def test_what_the_policy_lets_through_is_reported_and_verify_uses_the_recorded_policy(dataset, tmp_path,
                                                                                      capsys):
    """Phones the policy keeps are allowed residuals, counted; `cnpii verify
    OUT` without --config checks by the policy the output was made with."""
    policy = parse_policy({"columns": {"mobile": {"entity": "CN_PHONE", "action": "keep"}}})
    out = tmp_path / "out"
    summary = api.run(str(dataset), str(out), policy)
    assert summary.status == "ok" and summary.allowed_residuals == {"mobile": {"CN_PHONE": 3}}
    manifest = json.loads((out / "_MANIFEST.json").read_text(encoding="utf-8"))
    assert manifest["allowed_residuals"] == {"mobile": {"CN_PHONE": 3}}
    assert parse_policy(manifest["policy"]).digest == manifest["policy_digest"] == policy.digest
    assert cli(["verify", str(out), "--report", str(tmp_path / "verify.json")]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["allowed_residuals"] == {
        "mobile": {"CN_PHONE": 3}}
    assert "_MANIFEST.json" in json.loads((tmp_path / "verify.json").read_text())["policy_source"]
    assert cli(["verify", str(out), "--config", str(CONFIGS / "default.yaml")]) == 1  # mobiles are leaks


def test_a_leak_is_named_on_stderr_and_in_the_markdown_report(dataset, tmp_path):
    """A leaking run names each leaking column and entity on stderr, off a terminal too, and in its
    Markdown report; runs off a terminal log each phase with counts and rates."""
    import subprocess
    import sys

    policy = tmp_path / "weak.yaml"
    policy.write_text("version: 1\nentities: []\n", encoding="utf-8")
    command = [sys.executable, "-m", "pipeline.cli", "run", str(dataset), str(tmp_path / "out"), "--config",
               str(policy), "--report", str(tmp_path / "run.json")]
    done = subprocess.run(command, cwd=Path(__file__).parent.parent, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "CNPII_KEY": KEY})
    assert done.returncode == 1
    assert "personal data left: column 'note' holds CN_PHONE" in done.stderr
    assert "INFO cnpii: de-identifying: 2 tasks done in" in done.stderr
    assert "INFO cnpii: de-identified 4 rows in 2 files in" in done.stderr
    assert not [raw for raw in _raw_values() if raw in done.stderr]
    markdown = (tmp_path / "run.md").read_text(encoding="utf-8")
    assert "## Personal data left where the policy forbids it" in markdown
    assert "| note | CN_PHONE |" in markdown


def test_a_cnpii_output_is_refused_as_input_unless_meant(dataset, tmp_path):
    """An output fed back in would have its reversible tokens encrypted again and its generalized values
    turned into 未知, with status ok and IDs "found" where none were: it is refused unless meant."""
    collection = parse_policy({"columns": {"id_number": {"entity": "CN_RESIDENT_ID", "action": "tokenize",
                                                         "format": "reversible"}}})
    vendor = parse_policy({"columns": {"id_number": {"entity": "CN_RESIDENT_ID", "action": "generalize",
                                                     "to": "province"}}})
    first = tmp_path / "first"
    assert api.run(str(dataset), str(first), collection).status == "ok"
    with pytest.raises(InputError, match="is a cnpii output"):
        api.run(str(first), str(tmp_path / "again"), collection)
    loose = tmp_path / "loose"  # the files alone, without the manifest: the tokens give it away
    loose.mkdir()
    for part in first.glob("*.parquet"):
        (loose / part.name).write_bytes(part.read_bytes())
    with pytest.raises(InputError, match="column 'id_number' holds cnpii tokens"):
        api.run(str(loose), str(tmp_path / "again"), collection)
    again = api.run(str(loose), str(tmp_path / "again"), vendor, accept_cnpii_output=True)
    assert again.status == "ok"
    assert "CN_RESIDENT_ID" not in again.entities  # declared columns count what was there: tokens, no IDs


def test_the_integer_probe_runs_once_per_run(dataset, tmp_path, monkeypatch):
    """Verify does not probe again the integer columns the run has just probed clean."""
    labels: list[str] = []
    compute = api.compute

    def recording(tasks, label, scheduler=None):
        labels.append(label)
        return compute(tasks, label, scheduler)

    monkeypatch.setattr(api, "compute", recording)
    assert api.run(str(dataset), str(tmp_path / "out"), None).status == "ok"
    assert labels.count("probing integer columns") == 1
    labels.clear()
    weak = parse_policy({"integer_columns": "keep", "columns": {"phone_int": "keep", "id_int": "keep"}})
    api.run(str(dataset), str(tmp_path / "out2"), weak)
    assert labels.count("probing integer columns") == 1  # this run did not probe: verify must


def test_rows_that_do_not_add_up_are_incomplete_not_a_leak(dataset, tmp_path, monkeypatch, capsys):
    """A staged output whose row count differs from the input's holds no personal data: its status is
    `incomplete` (exit 1, nothing committed, the failed check in the report), not `leak`."""
    transform = api.process_file

    def one_row_more_read(*args, **kwargs):
        result = transform(*args, **kwargs)
        result.rows += 1
        return result

    monkeypatch.setattr(api, "process_file", one_row_more_read)
    out, report = tmp_path / "out", tmp_path / "run.json"
    assert cli(["run", str(dataset), str(out), "--report", str(report)]) == 1
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (summary["status"], summary["leaks"]) == ("incomplete", 0)
    assert not out.exists()
    verified = json.loads(report.read_text(encoding="utf-8"))["verify"]
    checks = {c["check"]: c["passed"] for c in verified["checks"]}
    assert checks == {"no_residual_personal_data": True, "row_counts_preserved": False,
                      "every_input_file_written": True}


def test_a_file_missing_from_the_output_is_incomplete(dataset, tmp_path, monkeypatch):
    staged = api.storage.OutputLocation.staged_files
    monkeypatch.setattr(api.storage.OutputLocation, "staged_files", lambda self: staged(self)[:-1])
    summary = api.run(str(dataset), str(tmp_path / "out"), None)
    assert (summary.status, summary.leaks, summary.manifest) == ("incomplete", 0, None)
    assert not is_complete(str(tmp_path / "out"))


def _meet(folder: str, me: int) -> bool:
    """A task of `test_a_process_pool_runs_its_tasks_side_by_side`: whether the other task started while
    this one waited for it (a minute at most)."""
    Path(folder, str(me)).touch()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if Path(folder, str(1 - me)).exists():
            return True
        time.sleep(0.05)
    return False


def test_a_process_pool_runs_its_tasks_side_by_side(tmp_path):
    # dask's process pool handed out six tasks at once: the two files of a small dataset ran one after
    # the other in one worker.
    tasks = [dask.delayed(_meet)(str(tmp_path), me) for me in (0, 1)]
    with execution.session("processes"):
        assert execution.compute(tasks, "meeting", "processes") == [True, True]
