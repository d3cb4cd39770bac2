"""The whole pipeline on object storage: `run` and `verify` from S3 to S3 (a moto server on loopback),
through the API and the CLI, give what a local run gives; a run that crashes part-way is never taken for
a complete output and leaves a previous good output complete."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline import api, partition
from pipeline.cli import main as cli
from pipeline.storage import InputError, OutputLocation, is_complete, read_manifest

LOANS = Path(__file__).parent.parent / "sample_data" / "loans"
FILES = ["part-00000.parquet", "part-00001.parquet"]


def _read_tables(output: str, options) -> dict[str, object]:
    """Every data file of a committed output, by relative path, as a pyarrow Table."""
    fs, root = fsspec.core.url_to_fs(output, **(options or {}))
    fs.invalidate_cache()
    tables = {}
    for entry in read_manifest(output, options)["outputs"]:
        with fs.open(f"{root}/{entry['relative_path']}", "rb") as f:
            tables[entry["relative_path"]] = pq.read_table(f)
    return tables


def _sha256s(output: str, options) -> dict[str, str]:
    fs, root = fsspec.core.url_to_fs(output, **(options or {}))
    fs.invalidate_cache()
    return {o["relative_path"]: hashlib.sha256(fs.cat_file(f"{root}/{o['relative_path']}")).hexdigest()
            for o in read_manifest(output, options)["outputs"]}


@pytest.fixture(scope="module")
def local_output(tmp_path_factory) -> dict[str, object]:
    """The loans sample de-identified by the default policy on the local filesystem: the reference."""
    output = str(tmp_path_factory.mktemp("local") / "out")
    assert api.run(str(LOANS), output, None).status == "ok"
    return _read_tables(output, None)


@pytest.fixture
def bucket(s3_bucket):
    """A fresh bucket holding the loans sample under `in/`."""
    fs, _ = fsspec.core.url_to_fs(s3_bucket.url, **s3_bucket.options)
    for name in FILES:
        fs.put_file(str(LOANS / name), f"{s3_bucket.url}/in/{name}")
    return s3_bucket


def _assert_committed_like_local(output: str, options, local_output) -> None:
    assert is_complete(output, options)
    manifest = read_manifest(output, options)
    assert [o["relative_path"] for o in manifest["outputs"]] == FILES
    assert sum(o["rows"] for o in manifest["outputs"]) == sum(t.num_rows for t in local_output.values())
    assert manifest["verify"]["status"] == "passed"
    assert _sha256s(output, options) == {o["relative_path"]: o["sha256"] for o in manifest["outputs"]}
    s3_tables = _read_tables(output, options)
    assert s3_tables.keys() == local_output.keys()
    for name, table in local_output.items():
        assert s3_tables[name].equals(table), name
    verified = api.verify(output, None, storage_options=options)
    assert (verified.status, verified.leaks, verified.files) == ("ok", 0, len(FILES))


def test_api_run_from_s3_to_s3_matches_a_local_run(bucket, local_output):
    summary = api.run(f"{bucket.url}/in", f"{bucket.url}/out", None, storage_options=bucket.options)
    assert (summary.status, summary.files) == ("ok", len(FILES))
    assert summary.manifest == f"{bucket.url}/out/_MANIFEST.json"
    _assert_committed_like_local(f"{bucket.url}/out", bucket.options, local_output)
    fs, _ = fsspec.core.url_to_fs(bucket.url, **bucket.options)
    fs.invalidate_cache()
    assert not fs.exists(f"{bucket.url}/out/_staging")


def test_cli_run_with_storage_options_matches_a_local_run(bucket, local_output, capsys):
    options = json.dumps(bucket.options)
    code = cli(["run", f"{bucket.url}/in", f"{bucket.url}/out", "--storage-options", options])
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert code == 0 and summary["status"] == "ok"
    _assert_committed_like_local(f"{bucket.url}/out", bucket.options, local_output)
    assert cli(["verify", f"{bucket.url}/out", "--storage-options", options]) == 0


class Crash(Exception):
    """Stands for the run dying while it transforms a file."""


@pytest.fixture
def crash_on_second_file(monkeypatch):
    """Call it to arm a crash: transforming the second file then writes part of its output and raises.
    The tasks run in threads of this process (the default local scheduler), so the patch reaches them."""
    real = partition.process_file

    def crashing(url, relative_path, plans, storage_options=None, output_url=None, *options, **named):
        if output_url is not None and relative_path == FILES[1]:
            with fsspec.open(output_url, "wb", **(storage_options or {})) as f:
                f.write(b"PAR1 half a file")
            raise Crash
        return real(url, relative_path, plans, storage_options, output_url, *options, **named)

    def arm() -> None:
        monkeypatch.setattr(api, "process_file", crashing)

    return arm


def test_a_run_crashing_on_the_second_file_commits_nothing(bucket, crash_on_second_file, monkeypatch):
    output = f"{bucket.url}/out"
    crash_on_second_file()
    # the process died: no clean-up ran (neither abort nor the end of the lease)
    monkeypatch.setattr(OutputLocation, "abort", lambda self: None)
    monkeypatch.setattr(OutputLocation, "_remove_staging", lambda self, chosen: None)
    with pytest.raises(Crash):
        api.run(f"{bucket.url}/in", output, None, storage_options=bucket.options)
    fs, _ = fsspec.core.url_to_fs(bucket.url, **bucket.options)
    fs.invalidate_cache()
    assert fs.glob(f"{output}/_staging/*/{FILES[1]}")  # the half-written file is there ...
    assert not fs.exists(f"{output}/_SUCCESS")
    assert not is_complete(output, bucket.options)  # ... and nobody takes it for a result
    with pytest.raises(InputError, match="no _SUCCESS"):
        read_manifest(output, bucket.options)
    with pytest.raises(InputError, match="no Parquet files"):  # staging is never read as data
        api.verify(output, None, storage_options=bucket.options)


def test_a_crashed_overwrite_leaves_the_previous_output_complete(bucket, local_output, crash_on_second_file):
    output = f"{bucket.url}/out"
    good = api.run(f"{bucket.url}/in", output, None, storage_options=bucket.options)
    before = _sha256s(output, bucket.options)
    crash_on_second_file()
    with pytest.raises(Crash):
        api.run(f"{bucket.url}/in", output, None, storage_options=bucket.options, mode="overwrite")
    assert read_manifest(output, bucket.options)["run_id"] == good.run_id
    assert _sha256s(output, bucket.options) == before
    _assert_committed_like_local(output, bucket.options, local_output)
    fs, _ = fsspec.core.url_to_fs(bucket.url, **bucket.options)
    fs.invalidate_cache()
    assert not fs.exists(f"{output}/_staging")  # the failed run removed what it staged


def test_known_values_are_matched_through_object_storage(s3_bucket, tmp_path):
    """The digests go to the run's staging area in the bucket and are read back in bucket ranges: a card
    reported in one file's card column is masked in another file's memo, and nothing of the digests
    stays in the bucket."""
    card = "6222021234567890120"  # fails Luhn: reported in a card column, not bare in a memo
    fs, _ = fsspec.core.url_to_fs(s3_bucket.url, **s3_bucket.options)
    for name, cards, memos in (("part-0.parquet", [card], ["首期"]),
                               ("part-1.parquet", [None], [f"备注 {card}"])):
        pq.write_table(pa.table({"bank_card": pa.array(cards, pa.string()), "memo": memos}), tmp_path / name)
        fs.put_file(str(tmp_path / name), f"{s3_bucket.url}/in/{name}")
    summary = api.run(f"{s3_bucket.url}/in", f"{s3_bucket.url}/out", None, storage_options=s3_bucket.options)
    assert summary.status == "ok"
    memo = _read_tables(f"{s3_bucket.url}/out", s3_bucket.options)["part-1.parquet"].column("memo")
    assert memo.to_pylist() == ["备注 622202*********0120"]
    fs.invalidate_cache()
    assert not fs.exists(f"{s3_bucket.url}/out/_staging")
    known = read_manifest(f"{s3_bucket.url}/out", s3_bucket.options)["known_values"]
    assert known["files_transformed_again"] == 1
