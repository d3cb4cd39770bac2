"""Hostile input: broken files, odd column types, odd text, bad policies, interrupted runs.

Every case ends in a correct result or in a clear error naming file, column and reason (never a cell
value), and nothing is half-written: no `_SUCCESS`, no committed files, a previous output left intact.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import errno
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline import api, partition
from pipeline.partition import DataError
from pipeline.plan import PlanError
from pipeline.policy import PolicyError, parse_policy
from pipeline.storage import (
    LEASE,
    SUCCESS,
    InputError,
    OutputBusyError,
    OutputExistsError,
    is_complete,
    read_manifest,
)
from recognizers import engine
from recognizers.resident_id import calc_check_digit

ROOT = Path(__file__).parent.parent
KEY = "hostile-test-key-" + "fedcba9876543210" * 3
PHONE = "13800138000"
ID = "11010519491231003" + calc_check_digit("11010519491231003")
ID_X = "11010519491231002X"
CARD = "6222021234567890128"
SECRETS = (PHONE, ID, ID_X, ID_X[:-1], CARD)


@pytest.fixture(autouse=True)
def _environment(monkeypatch):
    monkeypatch.setenv("CNPII_KEY", KEY)


def _dataset(folder: Path, *tables: pa.Table) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for number, table in enumerate(tables):
        pq.write_table(table, folder / f"part-{number}.parquet")
    return folder


def _no_value_in(message: str) -> None:
    for secret in SECRETS:
        assert secret not in message


def _nothing_committed(output: Path) -> None:
    assert not is_complete(str(output))
    assert not (output / SUCCESS).exists()
    assert not [p for p in output.rglob("*.parquet") if "_staging" not in p.parts]
    assert not (output / "_staging").exists() or not any((output / "_staging").iterdir())


def _refused(tmp_path: Path, input: Path, error: type[Exception], *words: str, policy=None) -> str:
    output = tmp_path / "out"
    with pytest.raises(error) as caught:
        api.run(str(input), str(output), policy)
    message = str(caught.value)
    for word in words:
        assert word in message
    _no_value_in(message)
    _nothing_committed(output)
    return message


def _run(tmp_path: Path, *tables: pa.Table, policy=None) -> pa.Table:
    input = _dataset(tmp_path / "in", *tables)
    summary = api.run(str(input), str(tmp_path / "out"), policy)
    assert summary.status == "ok"
    assert is_complete(str(tmp_path / "out"))
    return pq.read_table(tmp_path / "out")


def _string_table() -> pa.Table:
    return pa.table({"note": [f"电话{PHONE}", "无"], "n": pa.array([1, 2], pa.int64())})


# -- files ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [b"", b"PAR1 this is not a parquet file at all", "truncated"],
    ids=["empty", "corrupt", "truncated"],
)
def test_broken_file_is_refused_naming_it(tmp_path, content):
    input = _dataset(tmp_path / "in", _string_table())
    if content == "truncated":
        whole = (input / "part-0.parquet").read_bytes()
        content = whole[: len(whole) // 2]
    (input / "part-1.parquet").write_bytes(content)
    _refused(tmp_path, input, DataError, "part-1.parquet", "corrupt")


def test_a_value_that_is_not_utf8_is_refused_naming_file_and_column(tmp_path):
    """Parquet readers do not check that a string column holds UTF-8: the text search does, and the error
    names the file and the column, never the value."""
    input = _dataset(tmp_path / "in", _string_table())
    bad = pa.array([b"\xe5\xbc\xa0\xff secret", b"ok"], pa.binary()).view(pa.string())
    pq.write_table(pa.table({"note": bad, "n": pa.array([3, 4], pa.int64())}), input / "part-1.parquet")
    error = _refused(tmp_path, input, DataError, "part-1.parquet", "'note'")
    assert "UTF-8" in str(error) and "secret" not in str(error)


def test_zero_row_file_gives_an_empty_output_file(tmp_path):
    table = _string_table()
    out = _run(tmp_path, table, table.slice(0, 0))
    assert out.num_rows == 2
    assert pq.read_table(tmp_path / "out" / "part-1.parquet").num_rows == 0
    assert PHONE not in str(out.to_pylist())


def test_non_parquet_file_in_the_folder_is_refused(tmp_path):
    input = _dataset(tmp_path / "in", _string_table())
    (input / "notes.csv").write_text(f"phone\n{PHONE}\n", encoding="utf-8")
    _refused(tmp_path, input, InputError, "notes.csv", "not a Parquet file")


def test_drifting_schema_column_added_is_refused(tmp_path):
    table = _string_table()
    input = _dataset(tmp_path / "in", table, table.append_column("extra", pa.array(["a", "b"])))
    _refused(tmp_path, input, PlanError, "part-1.parquet", "extra")


def test_drifting_schema_type_change_is_refused(tmp_path):
    input = _dataset(
        tmp_path / "in",
        pa.table({"phone": [PHONE, "x"]}),
        pa.table({"phone": pa.array([int(PHONE), 1], pa.int64())}),
    )
    _refused(tmp_path, input, PlanError, "part-1.parquet", "'phone'", "int64", "string")


@pytest.mark.parametrize("empty_first", [False, True])
def test_an_empty_file_with_null_typed_columns_joins_the_dataset(tmp_path, empty_first):
    """pyarrow types the columns of an empty frame null; such a file is not drift."""
    full = pa.table({"note": [f"电话{PHONE}", "无"], "amount": pa.array([5.0, 20.0]),
                     "born": ["1990-01-02", None]})
    empty = pa.table({name: pa.nulls(0) for name in full.column_names})
    tables = (empty, full) if empty_first else (full, empty)
    policy = parse_policy({"columns": {"amount": {"action": "generalize", "edges": [10]},
                                       "born": {"action": "generalize", "to": "year"}}})
    out = _run(tmp_path, *tables, policy=policy)
    assert out.column("note").to_pylist() == ["电话138****8000", "无"]
    assert out.column("amount").to_pylist() == ["<10", ">=10"]
    for name in ("part-0.parquet", "part-1.parquet"):  # every output file has the dataset's types
        assert pq.read_schema(tmp_path / "out" / name).field("note").type == pa.string()


def test_a_null_typed_column_with_rows_is_read_as_the_dataset_type(tmp_path):
    input = _dataset(tmp_path / "in", pa.table({"note": [f"电话{PHONE}"]}), pa.table({"note": pa.nulls(3)}))
    summary = api.scan(str(input))
    assert summary.rows == 4 and summary.entities["CN_PHONE"]["rows"] == 1


# -- columns -------------------------------------------------------------------------------------------


def test_large_and_dictionary_strings_are_scanned(tmp_path):
    text = [f"tel {PHONE}", "x", f"tel {PHONE}"]
    out = _run(
        tmp_path,
        pa.table({"large": pa.array(text, pa.large_string()), "dict": pa.array(text).dictionary_encode()}),
    )
    assert out.column("large").to_pylist() == ["tel 138****8000", "x", "tel 138****8000"]
    assert out.column("dict").to_pylist() == ["tel 138****8000", "x", "tel 138****8000"]


@pytest.mark.parametrize(
    "array",
    [
        pa.array([PHONE.encode(), b"\xff\xfe\x00"], pa.binary()),
        pa.array([[PHONE], []], pa.list_(pa.string())),
        pa.array([{"a": PHONE}, None], pa.struct([("a", pa.string())])),
        pa.array([[("home", PHONE)], None], pa.map_(pa.string(), pa.string())),
    ],
    ids=["binary", "list", "struct", "map"],
)
def test_binary_and_nested_columns_are_refused_unless_named(tmp_path, array):
    input = _dataset(tmp_path / "in", pa.table({"blob": array}))
    _refused(tmp_path, input, PlanError, "'blob'", "cannot scan")
    policy = parse_policy({"columns": {"blob": {"action": "redact"}}})
    redacted = api.run(str(input), str(tmp_path / "redacted"), policy)
    assert redacted.status == "ok"
    assert pq.read_table(tmp_path / "redacted").column("blob").null_count == 2


def test_integer_and_decimal_phones_and_ids_are_masked(tmp_path):
    out = _run(
        tmp_path,
        pa.table(
            {
                "phone": pa.array([int(PHONE), None], pa.int64()),
                "id": pa.array([decimal.Decimal(ID), None], pa.decimal128(20, 0)),
                "amount": pa.array([100, 2500], pa.int64()),
            }
        ),
    )
    assert out.column("phone").to_pylist() == ["138****8000", None]
    assert ID not in str(out.column("id").to_pylist())
    assert out.column("amount").to_pylist() == [100, 2500]


def test_integer_ids_that_lost_their_x_are_refused(tmp_path):
    input = _dataset(tmp_path / "in", pa.table({"id": pa.array([int(ID_X[:-1]), 7], pa.int64())}))
    _refused(tmp_path, input, PlanError, "part-0.parquet", "'id'", "check character X")


@pytest.mark.parametrize(
    "array",
    [
        pa.array([float(PHONE), 1.5], pa.float64()),
        pa.array([float(ID), 2.0], pa.float64()),  # digits already lost beyond 2**53
        pa.array([decimal.Decimal(PHONE + ".00"), None], pa.decimal128(20, 2)),
    ],
    ids=["float-phone", "float-id", "decimal-phone"],
)
def test_float_and_decimal_columns_holding_phones_or_ids_are_refused(tmp_path, array):
    """Fail closed: a float column of phones would pass through unchanged, so the run is refused."""
    input = _dataset(tmp_path / "in", pa.table({"contact": array}))
    _refused(tmp_path, input, PlanError, "part-0.parquet", "'contact'", "float or decimal")


def test_float_amounts_pass_unchanged(tmp_path):
    amounts = [1.5, 2500.0, 99000000.0, None, float("nan")]
    out = _run(tmp_path, pa.table({"amount": pa.array(amounts, pa.float64())}))
    assert out.column("amount").to_pylist()[:4] == amounts[:4]


def test_timestamps_and_all_null_columns_pass(tmp_path):
    table = pa.table(
        {
            "at": pa.array([dt.datetime(2024, 1, 2, 3, 4), None], pa.timestamp("ms")),
            "empty_text": pa.nulls(2, pa.string()),
            "empty": pa.nulls(2),
            "note": [f"手机{PHONE}", None],
        }
    )
    out = _run(tmp_path, table)
    assert out.column("at").to_pylist() == table.column("at").to_pylist()
    assert out.column("empty_text").null_count == 2 and out.column("empty").null_count == 2
    assert out.column("note").to_pylist() == ["手机138****8000", None]


def test_ten_megabyte_cell_is_masked_and_otherwise_unchanged(tmp_path):
    head, tail = "备注" * 2_500_000, "x" * 5_000_000
    out = _run(tmp_path, pa.table({"memo": [head + f"电话{PHONE}" + tail, "a"]}))
    assert out.column("memo")[0].as_py() == head + "电话138****8000" + tail


def test_two_million_tiny_cells(tmp_path):
    out = _run(tmp_path, pa.table({"c": pa.array(["a", "b"] * 1_000_000)}))
    assert out.num_rows == 2_000_000
    assert out.column("c").slice(0, 4).to_pylist() == ["a", "b", "a", "b"]


# -- text ----------------------------------------------------------------------------------------------


def test_odd_text_is_masked_around_its_digits(tmp_path):
    cells = [
        "电话１３８００１３８０００",  # full-width digits
        "138\u200b0013\u200b8000",  # zero-width spaces inside the number
        "138\u00a00013\u00a08000",  # no-break spaces inside the number
        f"😀{PHONE}😀 Тел. مرحبا",  # emoji and mixed scripts
        "138****5678",  # already masked: stays, and is not a leak
        "1.10105E+17",  # an ID a spreadsheet turned into scientific notation: digits lost, not detected
    ]
    out = _run(tmp_path, pa.table({"note": cells}))
    assert out.column("note").to_pylist() == [
        "电话１３８****８０００",
        "138\u200b****\u200b8000",
        "138\u00a0****\u00a08000",
        "😀138****8000😀 Тел. مرحبا",
        "138****5678",
        "1.10105E+17",
    ]
    assert api.verify(str(tmp_path / "out")).status == "ok"


# -- policy --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "words"),
    [
        ({"colums": {}}, ["colums", "Extra inputs"]),
        ({"threshold": "high"}, ["threshold"]),
        ({"entities": ["CN_PASSPORT"]}, ["entities", "CN_PASSPORT"]),
        ({"actions": {"CN_PHONE": {"action": "shred"}}}, ["actions.CN_PHONE", "shred"]),
        ({"columns": {"memo": {"entity": "CN_EMAIL", "action": "mask"}}}, ["columns.memo", "CN_EMAIL"]),
    ],
    ids=["unknown-key", "wrong-type", "unknown-entity", "unknown-action", "unknown-column-entity"],
)
def test_invalid_policy_names_the_key(document, words):
    with pytest.raises(PolicyError) as caught:
        parse_policy(document, "policy.yaml")
    for word in ["policy.yaml", *words]:
        assert word in str(caught.value)


def test_policy_column_missing_from_data_is_refused(tmp_path):
    input = _dataset(tmp_path / "in", _string_table())
    policy = parse_policy({"columns": {"mobil": {"entity": "CN_PHONE", "action": "mask"}}})
    _refused(tmp_path, input, PlanError, "mobil", "not in the data", policy=policy)


@pytest.mark.parametrize(("key", "words"), [(None, ["no key", "CNPII_KEY"]), ("short", ["5 bytes"])])
def test_missing_or_short_key_is_refused_before_any_work(tmp_path, monkeypatch, key, words):
    if key is None:
        monkeypatch.delenv("CNPII_KEY")
    else:
        monkeypatch.setenv("CNPII_KEY", key)
    input = _dataset(tmp_path / "in", _string_table())
    policy = parse_policy({"actions": {"CN_PHONE": {"action": "tokenize"}}})
    message = _refused(tmp_path, input, PolicyError, "key", *words, policy=policy)
    assert KEY not in message and (key is None or key not in message.replace("key", ""))
    assert not (tmp_path / "out").exists()


# -- runs ----------------------------------------------------------------------------------------------


def test_output_equal_to_or_inside_the_input_is_refused(tmp_path):
    input = _dataset(tmp_path / "in", _string_table())
    for output in (input, input / "masked"):
        with pytest.raises(InputError, match="overlap"):
            api.run(str(input), str(output), None)
    assert sorted(p.name for p in input.iterdir()) == ["part-0.parquet"]


def test_output_already_present(tmp_path):
    input = _dataset(tmp_path / "in", _string_table())
    output = tmp_path / "out"
    first = api.run(str(input), str(output), None)
    with pytest.raises(OutputExistsError, match="overwrite"):
        api.run(str(input), str(output), None)
    assert read_manifest(str(output))["run_id"] == first.run_id
    second = api.run(str(input), str(output), None, mode="overwrite")
    assert read_manifest(str(output))["run_id"] == second.run_id
    other = tmp_path / "theirs"
    other.mkdir()
    (other / "keep.txt").write_text("not ours")
    with pytest.raises(OutputExistsError, match="not a cnpii output"):
        api.run(str(input), str(other), None, mode="overwrite")
    assert (other / "keep.txt").read_text() == "not ours"


def test_failed_rerun_leaves_the_previous_output_intact(tmp_path):
    input = _dataset(tmp_path / "in", _string_table())
    output = tmp_path / "out"
    first = api.run(str(input), str(output), None)
    before = {p.name: p.read_bytes() for p in output.iterdir()}
    (input / "part-1.parquet").write_bytes(b"garbage")
    with pytest.raises(DataError):
        api.run(str(input), str(output), None, mode="overwrite")
    assert read_manifest(str(output))["run_id"] == first.run_id
    assert {p.name: p.read_bytes() for p in output.iterdir()} == before


def test_disk_full_during_the_staged_write(tmp_path, monkeypatch):
    input = _dataset(tmp_path / "in", _string_table())
    output = tmp_path / "out"
    first = api.run(str(input), str(output), None)
    before = {p.name: p.read_bytes() for p in output.iterdir()}

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(partition.pq.ParquetWriter, "write_table", full)
    with pytest.raises(DataError) as caught:
        api.run(str(input), str(output), None, mode="overwrite")
    assert "part-0.parquet" in str(caught.value) and "No space left on device" in str(caught.value)
    assert read_manifest(str(output))["run_id"] == first.run_id
    assert {p.name: p.read_bytes() for p in output.iterdir()} == before


def _cli_run(input: Path, output: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "CNPII_KEY": KEY}
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", "run", str(input), str(output), *extra],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _tables(folder: Path) -> dict[str, list]:
    return {p.name: pq.read_table(p).to_pylist() for p in sorted(folder.glob("*.parquet"))}


def test_sigkill_at_random_points_never_commits_a_partial_output(tmp_path):
    from pipeline.sample_data import generate

    generate(tmp_path / "data", rows=300, seed=3, files_per_table=3)
    input = tmp_path / "data" / "customers"
    clean = tmp_path / "clean"
    assert _cli_run(input, clean).wait(timeout=300) == 0
    expected = _tables(clean)
    rng = random.Random(6)
    for attempt in range(4):
        output = tmp_path / f"out-{attempt}"
        process = _cli_run(input, output)
        time.sleep(rng.uniform(0.5, 6.0))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        if is_complete(str(output)):  # killed after `_SUCCESS`: the commit had finished
            assert _tables(output) == expected
        else:
            assert not (output / SUCCESS).exists()
            # A run killed outright leaves its lease to expire; the operator who knows it is dead removes it.
            (output / LEASE).unlink(missing_ok=True)
        assert _cli_run(input, output, "--mode", "overwrite").wait(timeout=300) == 0
        assert is_complete(str(output))
        assert _tables(output) == expected


@pytest.mark.parametrize(("signum", "code", "word"),
                         [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")])
def test_a_signal_mid_run_ends_in_one_line_and_leaves_nothing_staged(tmp_path, signum, code, word):
    """Ctrl-C or SIGTERM while files are being transformed exits 130 or 143 with
    one line on stderr (no traceback), removes the staging area and the output folder the run created."""
    from pipeline.sample_data import generate

    generate(tmp_path / "data", rows=60_000, seed=1, files_per_table=2)
    rng = random.Random(int(signum))
    for attempt in range(2):
        output = tmp_path / f"out-{attempt}"
        process = subprocess.Popen(
            [sys.executable, "-m", "pipeline.cli", "run", str(tmp_path / "data" / "customers"), str(output)],
            cwd=ROOT, env={**os.environ, "CNPII_KEY": KEY}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            text=True)
        deadline = time.monotonic() + 120
        while not (output / "_staging").exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, 0.3))
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=120)
        if is_complete(str(output)):  # the run had committed before the signal came (at exit, it kills)
            assert process.returncode in (0, code, -signum), stderr
            continue
        assert process.returncode == code, stderr
        assert "Traceback" not in stderr and stderr.strip().splitlines()[-1].startswith(f"cnpii: {word};")
        assert is_complete(str(output)) or not output.exists()


def test_a_closed_pipe_ends_detect_quietly():
    """`cnpii detect < f | head -1` ends without a traceback or a complaint."""
    lines = "".join(f'{{"text": "电话{PHONE} 第{i}行"}}\n' for i in range(100_000))
    process = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "detect"], cwd=ROOT, text=True,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    def feed() -> None:
        with contextlib.suppress(BrokenPipeError):  # detect stops reading once its reader is gone
            process.stdin.write(lines)
            process.stdin.close()

    feeder = threading.Thread(target=feed)
    feeder.start()
    assert PHONE in process.stdout.readline()
    process.stdout.close()
    stderr = process.stderr.read()
    assert process.wait(timeout=60) == 0 and stderr == ""
    feeder.join(timeout=60)


def test_a_column_name_with_a_line_break_keeps_the_markdown_table_whole(tmp_path):
    """A newline or `|` in a column name does not break the report's table."""
    name = "备注\n| x"
    input = _dataset(tmp_path / "in", pa.table({name: [f"电话{PHONE}", "无"]}))
    api.scan(str(input), report=tmp_path / "scan.json")
    table = [line for line in (tmp_path / "scan.md").read_text(encoding="utf-8").splitlines()
             if line.startswith("|")]
    assert len(table) == 3 and "备注\\n\\| x" in table[2]  # header, rule, one row


def test_key_value_metadata_of_the_input_is_not_copied(tmp_path):
    """Schema and field metadata (an export query naming an ID) do not reach the output."""
    field = pa.field("note", pa.string(), metadata={"comment": f"客户 {ID}"})
    schema = pa.schema([field, pa.field("n", pa.int64())], metadata={"export_query": f"where sfzh='{ID}'"})
    tables = (pa.table({"note": ["无", "有"], "n": [1, 2]}, schema=schema), schema.empty_table())
    _run(tmp_path, *tables)
    for name in ("part-0.parquet", "part-1.parquet"):  # with rows, and without (its schema from the footer)
        raw = (tmp_path / "out" / name).read_bytes()
        assert ID.encode() not in raw and b"export_query" not in raw, name
        assert pq.read_schema(tmp_path / "out" / name).field("note").metadata is None


def test_errors_that_cannot_quote_data_are_shown(caplog):
    """Missing credentials, an unreachable scheduler and a worker without a key are shown as they are,
    not as 'unexpected … (message withheld)'. A pyarrow conversion error can quote a cell: withheld."""
    from botocore.exceptions import NoCredentialsError

    from pipeline.cli import EXIT_RUNTIME, EXIT_USAGE, _report_error
    from pipeline.keys import KeyMaterialError

    cases = [
        (NoCredentialsError(), EXIT_RUNTIME, "Unable to locate credentials"),
        (OSError("Timed out trying to connect to tcp://10.0.0.5:8786 after 30 s"), EXIT_RUNTIME, "Timed out"),
        (KeyMaterialError("no key in environment variable CNPII_KEY"), EXIT_USAGE, "CNPII_KEY"),
        (pa.ArrowInvalid(f"Could not convert '{PHONE}' with type str"), EXIT_RUNTIME, "message withheld"),
    ]
    for error, code, shown in cases:
        caplog.clear()
        assert _report_error(error) == code
        assert shown in caplog.text and PHONE not in caplog.text


def test_an_unreachable_scheduler_is_named_in_the_error(tmp_path):
    env = {**os.environ, "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "2s"}
    command = [sys.executable, "-m", "pipeline.cli", "scan", str(ROOT / "sample_data" / "customers"),
               "--scheduler", "tcp://127.0.0.1:9"]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 3 and "tcp://127.0.0.1:9" in done.stderr and "withheld" not in done.stderr


def test_two_runs_into_one_output_the_second_is_refused_clearly(tmp_path):
    """The second of two concurrent runs says that the first holds the output."""
    from pipeline.sample_data import generate

    generate(tmp_path / "data", rows=60_000, seed=2, files_per_table=2)
    output = tmp_path / "out"
    first = subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", "run", str(tmp_path / "data" / "customers"), str(output)],
        cwd=ROOT, env={**os.environ, "CNPII_KEY": KEY}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not (output / "_LEASE.json").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    with pytest.raises(OutputBusyError, match="is writing here"):  # exit 3: a later try can succeed
        api.run(str(tmp_path / "data" / "customers"), str(output), None, mode="overwrite")
    assert first.wait(timeout=300) == 0
    assert is_complete(str(output)) and not (output / "_LEASE.json").exists()


@pytest.mark.parametrize("layout", ["hive", "file", "column"])
def test_personal_data_in_names_is_refused_and_scanned(tmp_path, layout):
    """Partition values, file names and column names holding personal data would reach the output paths,
    the manifest and the reports: a run refuses them and scan lists them."""
    table = pa.table({"note": ["无", "有"]})
    folder = tmp_path / "in"
    if layout == "hive":
        path = folder / f"mobile={PHONE}" / f"sfzh={ID}" / "part-0.parquet"
    elif layout == "file":
        path = folder / f"customer_{ID}_{PHONE}.parquet"
    else:
        path, table = folder / "part-0.parquet", pa.table({f"备注{PHONE}": ["无", "有"]})
    path.parent.mkdir(parents=True)
    pq.write_table(table, path)
    with pytest.raises(InputError, match="names hold personal data") as refused:
        api.run(str(folder), str(tmp_path / "out"), None)
    assert "CN_PHONE" in str(refused.value) and "138****8000" in str(refused.value)
    _no_value_in(str(refused.value))
    assert not (tmp_path / "out").exists()
    summary = api.scan(str(folder), report=tmp_path / "scan.json")
    assert summary.names_with_personal_data >= 1
    report = (tmp_path / "scan.json").read_text(encoding="utf-8")
    assert "holds CN_PHONE" in report
    _no_value_in(report)


def test_the_names_of_a_wide_table_are_searched_together(tmp_path, monkeypatch):
    """Each column name was searched on its own, twice or three times a run: a table of 300 columns spent
    seconds on its names. They are searched in one engine call a context, and one holding a phone is
    still refused."""
    calls = []
    find = engine.find

    def counted(values, *args, **kwargs):
        calls.extend([True] if any(str(v).startswith("col_") for v in values.to_pylist()) else [])
        return find(values, *args, **kwargs)

    monkeypatch.setattr(engine, "find", counted)
    columns = [f"col_{number:03d}" for number in range(300)]
    cells = {column: ["无"] for column in columns}
    plain = _dataset(tmp_path / "in", pa.table(cells))
    assert api.run(str(plain), str(tmp_path / "out"), None).status == "ok"
    assert len(calls) <= 4  # searches holding column names (the cells are searched a column at a time)
    leaky = _dataset(tmp_path / "in2", pa.table({**cells, f"备注{PHONE}": ["无"]}))
    with pytest.raises(InputError, match="column name 备注138\\*\\*\\*\\*8000 holds CN_PHONE"):
        api.run(str(leaky), str(tmp_path / "out2"), None)


def test_metadata_kept_on_request_is_scanned_first(tmp_path):
    """`metadata: keep` copies the metadata, after scanning it for personal data."""
    clean = pa.schema([pa.field("note", pa.string(), metadata={"unit": "无"})], metadata={"source": "crm"})
    input = _dataset(tmp_path / "in", pa.table({"note": ["无"]}, schema=clean))
    out = tmp_path / "out"
    assert api.run(str(input), str(out), parse_policy({"metadata": "keep"})).status == "ok"
    written = pq.read_schema(out / "part-0.parquet")
    assert written.metadata[b"source"] == b"crm"
    assert written.field("note").metadata == {b"unit": "无".encode()}
    leaky = clean.with_metadata({"export_query": f"where sfzh='{ID}'"})
    input = _dataset(tmp_path / "in2", pa.table({"note": ["无"]}, schema=leaky))
    with pytest.raises(InputError, match="schema metadata, key 'export_query' holds CN_RESIDENT_ID") as no:
        api.run(str(input), str(tmp_path / "out2"), parse_policy({"metadata": "keep"}))
    _no_value_in(str(no.value))

