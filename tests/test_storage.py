"""pipeline.storage on the local filesystem and on a real S3 server (moto, loopback): listing, the output
checks, and the commit protocol — including a crash at every storage operation of a commit."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fsspec.implementations.local import LocalFileOpener, LocalFileSystem

from pipeline import storage
from pipeline.storage import (
    InputError,
    OutputBusyError,
    OutputExistsError,
    OutputLocation,
    StorageError,
    is_complete,
    list_input_files,
    read_manifest,
)


@dataclass
class Store:
    """A place to put datasets: a root URL and the storage options that open it."""

    root: str
    options: dict[str, Any] | None

    def url(self, *parts: str) -> str:
        return "/".join([self.root, *parts])

    def put(self, relative: str, body: bytes) -> str:
        url = self.url(relative)
        fs, path = fsspec.core.url_to_fs(url, **(self.options or {}))
        if isinstance(fs, LocalFileSystem):
            fs.makedirs(os.path.dirname(path), exist_ok=True)
        fs.pipe_file(path, body)
        return url

    def read(self, url: str) -> bytes:
        with fsspec.open(url, "rb", **(self.options or {})) as f:
            return f.read()

    def exists(self, url: str) -> bool:
        fs, path = fsspec.core.url_to_fs(url, **(self.options or {}))
        fs.invalidate_cache()
        return fs.exists(path)


def parquet_bytes(rows: int, tag: str = "x") -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(pa.table({"n": list(range(rows)), "tag": [tag] * rows}), sink)
    return sink.getvalue().to_pybytes()


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path) -> Store:
    if request.param == "local":
        return Store(str(tmp_path), None)
    bucket = request.getfixturevalue("s3_bucket")
    return Store(bucket.url, bucket.options)


def stage(location: OutputLocation, files: dict[str, int], store: Store, tag: str) -> None:
    """Write one Parquet file per relative path with that many rows, as a run's workers would."""
    for relative, rows in files.items():
        with fsspec.open(location.staged_url(relative), "wb", **(store.options or {})) as f:
            pq.write_table(pa.table({"n": list(range(rows)), "tag": [tag] * rows}), f)


def committed(store: Store, output: str, run_id: str, files: dict[str, int], tag: str = "old",
              mode: str = "overwrite") -> OutputLocation:
    location = OutputLocation(output, run_id, store.options, mode)
    stage(location, files, store, tag)
    location.commit({"command": "run", "status": "ok"})
    return location


def contents_match_manifest(store: Store, output: str) -> bool:
    """Stronger than is_complete: every listed file's bytes hash to the manifest's sha256."""
    manifest = read_manifest(output, store.options)
    return all(hashlib.sha256(store.read(store.url("out", o["relative_path"]))).hexdigest() == o["sha256"]
               for o in manifest["outputs"])


# --- listing -------------------------------------------------------------------------------------------


def test_a_single_file_is_listed_by_its_base_name(store):
    url = store.put("in/year=2024/part-0.parquet", parquet_bytes(3))
    [file] = list_input_files(url, store.options)
    assert file.relative_path == "part-0.parquet"
    assert file.size == len(parquet_bytes(3))
    assert store.read(file.url) == parquet_bytes(3)


def test_a_hive_dataset_is_listed_recursively_sorted_and_metadata_is_skipped(store):
    for name in ["year=2024/month=02/part-0.parquet", "year=2024/month=01/part-1.parq",
                 "year=2024/month=01/part-0.pq", "a.parquet"]:
        store.put(f"in/{name}", parquet_bytes(2))
    for name in ["_SUCCESS", "_MANIFEST.json", ".part-0.crc", "year=2024/month=01/.part-0.pq.crc",
                 "_staging/20240101T000000Z-dead/a.parquet", "_temporary/x.csv", ".hidden/notes.txt"]:
        store.put(f"in/{name}", b"metadata")
    files = list_input_files(store.url("in") + "/", store.options)
    assert [f.relative_path for f in files] == [
        "a.parquet", "year=2024/month=01/part-0.pq", "year=2024/month=01/part-1.parq",
        "year=2024/month=02/part-0.parquet"]
    assert all(f.size == len(parquet_bytes(2)) for f in files)


def test_a_file_that_is_not_parquet_is_refused_by_name(store):
    store.put("in/a.parquet", parquet_bytes(1))
    store.put("in/year=2024/notes.csv", b"id,phone\n")
    with pytest.raises(InputError, match=r"year=2024/notes\.csv: not a Parquet file; cnpii reads only"):
        list_input_files(store.url("in"), store.options)


def test_a_single_non_parquet_file_is_refused(store):
    url = store.put("in/export.csv", b"id\n")
    with pytest.raises(InputError, match="only Parquet"):
        list_input_files(url, store.options)


def test_a_missing_input_is_refused(store):
    with pytest.raises(InputError, match="does not exist"):
        list_input_files(store.url("nothing-here"), store.options)


def test_a_folder_with_only_metadata_is_refused(store):
    store.put("in/_SUCCESS", b"")
    with pytest.raises(InputError, match="no Parquet files"):
        list_input_files(store.url("in"), store.options)


def test_an_empty_local_folder_is_refused(tmp_path):
    (tmp_path / "in").mkdir()
    with pytest.raises(InputError, match="no Parquet files"):
        list_input_files(str(tmp_path / "in"), None)


def test_a_listing_failure_is_a_storage_error_naming_the_path(tmp_path, monkeypatch):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.parquet").write_bytes(parquet_bytes(1))

    def denied(self, path, detail=False, **kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), path)

    monkeypatch.setattr(LocalFileSystem, "ls", denied)
    expected = rf"{re.escape(str(tmp_path))}/in: cannot list the folder \(Permission denied\)"
    with pytest.raises(StorageError, match=expected):
        list_input_files(str(tmp_path / "in"), None)


# --- check ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("output", "input"), [
    ("data", "data"), ("data/", "./data"), ("data/out", "data"), ("data", "data/in/part-0.parquet")])
def test_an_output_overlapping_an_input_is_refused(store, output, input):
    store.put("data/in/part-0.parquet", parquet_bytes(1))
    location = OutputLocation(store.url(output), "run1", store.options)
    with pytest.raises(InputError, match="overlap"):
        location.check([store.url(input)])


def test_a_sibling_with_a_common_name_prefix_does_not_overlap(store):
    store.put("data/part-0.parquet", parquet_bytes(1))
    OutputLocation(store.url("data2"), "run1", store.options).check([store.url("data")])


def test_an_output_reached_through_a_symlink_to_the_input_is_refused(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "data")
    location = OutputLocation(str(tmp_path / "link" / "out"), "run1", None)
    with pytest.raises(InputError, match="overlap"):
        location.check([str(tmp_path / "data")])


def test_a_committed_output_is_refused_in_mode_error_and_accepted_in_mode_overwrite(store):
    committed(store, store.url("out"), "run1", {"a.parquet": 2})
    with pytest.raises(OutputExistsError, match="already holds a committed result; pass mode='overwrite'"):
        OutputLocation(store.url("out"), "run2", store.options, "error").check([store.url("in")])
    OutputLocation(store.url("out"), "run2", store.options, "overwrite").check([store.url("in")])


@pytest.mark.parametrize("mode", ["error", "overwrite"])
def test_a_foreign_folder_is_refused_whatever_the_mode(store, mode):
    store.put("out/report.parquet", parquet_bytes(1))
    with pytest.raises(OutputExistsError, match=r"not a cnpii output \(no _MANIFEST.json\); cnpii never"):
        OutputLocation(store.url("out"), "run1", store.options, mode).check([store.url("in")])


def test_an_output_holding_only_leftover_staging_counts_as_empty(store):
    store.put("out/_staging/20240101T000000Z-dead/a.parquet", parquet_bytes(1))
    OutputLocation(store.url("out"), "run1", store.options, "error").check([store.url("in")])


def test_an_empty_local_output_folder_is_accepted(tmp_path):
    (tmp_path / "out").mkdir()
    OutputLocation(str(tmp_path / "out"), "run1", None, "error").check([str(tmp_path / "in")])


# --- commit, abort, complete ---------------------------------------------------------------------------


def test_a_commit_publishes_files_manifest_and_success(store):
    output = store.url("out")
    location = OutputLocation(output, "run1", store.options, "error")
    location.check([store.url("in")])
    assert location.staged_url("year=2024/b.parquet") == store.url("out/_staging/run1/year=2024/b.parquet")
    stage(location, {"a.parquet": 3, "year=2024/b.parquet": 5}, store, "new")
    staged = location.staged_files()
    assert [(s.relative_path, s.rows) for s in staged] == [("a.parquet", 3), ("year=2024/b.parquet", 5)]

    result = location.commit({"command": "run", "status": "ok", "rows": 8})

    assert is_complete(output, store.options)
    manifest = read_manifest(output, store.options)
    assert manifest["command"] == "run" and manifest["rows"] == 8 and manifest["run_id"] == "run1"
    for entry, expected in zip(manifest["outputs"], staged, strict=True):
        body = store.read(store.url("out", entry["relative_path"]))
        assert entry == {"relative_path": expected.relative_path, "rows": expected.rows, "bytes": len(body),
                         "sha256": hashlib.sha256(body).hexdigest()}
    assert result.manifest_url == store.url("out/_MANIFEST.json")
    marker = json.loads(store.read(result.success_url))
    assert marker == {"run_id": "run1",
                      "manifest_sha256": hashlib.sha256(store.read(result.manifest_url)).hexdigest()}
    assert not store.exists(store.url("out/_staging"))
    assert [f.relative_path for f in list_input_files(output, store.options)] == ["a.parquet",
                                                                                 "year=2024/b.parquet"]


def test_overwrite_replaces_files_and_removes_stale_ones(store):
    output = store.url("out")
    committed(store, output, "run1", {"a.parquet": 2, "stale.parquet": 2, "year=2023/c.parquet": 1})
    committed(store, output, "run2", {"a.parquet": 7, "year=2024/b.parquet": 1}, tag="new")
    manifest = read_manifest(output, store.options)
    assert manifest["run_id"] == "run2"
    assert [f.relative_path for f in list_input_files(output, store.options)] == ["a.parquet",
                                                                                 "year=2024/b.parquet"]
    assert pq.read_table(pa.BufferReader(store.read(store.url("out/a.parquet")))).num_rows == 7
    assert not store.exists(store.url("out/stale.parquet"))
    assert contents_match_manifest(store, output)


def test_abort_removes_only_its_own_staging_and_is_idempotent(store):
    output = store.url("out")
    committed(store, output, "run1", {"a.parquet": 2})
    other = store.put("out/_staging/run9/a.parquet", parquet_bytes(1))
    location = OutputLocation(output, "run2", store.options, "overwrite")
    stage(location, {"a.parquet": 5}, store, "new")
    location.abort()
    location.abort()
    assert not store.exists(store.url("out/_staging/run2"))
    assert store.exists(other)
    assert read_manifest(output, store.options)["run_id"] == "run1"
    assert contents_match_manifest(store, output)


def test_commit_removes_staging_of_older_runs_and_keeps_newer_ones(store):
    older = store.put("out/_staging/20240101T000000Z-aaaaaaaa/a.parquet", parquet_bytes(1))
    newer = store.put("out/_staging/20990101T000000Z-bbbbbbbb/a.parquet", parquet_bytes(1))
    committed(store, store.url("out"), "20250101T000000Z-cccccccc", {"a.parquet": 2})
    assert not store.exists(older)
    assert store.exists(newer)
    assert is_complete(store.url("out"), store.options)


def test_a_second_commit_in_mode_error_is_refused_before_touching_the_output(store):
    output = store.url("out")
    first = OutputLocation(output, "run1", store.options, "error")
    second = OutputLocation(output, "run2", store.options, "error")
    first.check([store.url("in")])
    second.check([store.url("in")])
    stage(first, {"a.parquet": 1}, store, "first")
    stage(second, {"a.parquet": 2}, store, "second")
    first.commit({})
    with pytest.raises(OutputExistsError):
        second.commit({})
    assert read_manifest(output, store.options)["run_id"] == "run1"


def test_nothing_staged_is_not_committed(store):
    with pytest.raises(StorageError, match="nothing staged"):
        OutputLocation(store.url("out"), "run1", store.options).commit({})
    assert not is_complete(store.url("out"), store.options)


@pytest.mark.parametrize(("damage", "reason"), [
    (lambda s: s.put("out/_SUCCESS", b"not json"), "not a cnpii marker"),
    (lambda s: s.put("out/_MANIFEST.json", s.read(s.url("out/_MANIFEST.json")) + b" "), "does not match"),
    (lambda s: s.put("out/a.parquet", parquet_bytes(40)), "resized: a.parquet"),
    (lambda s: s.put("out/extra.parquet", parquet_bytes(1)), "extra or resized: extra.parquet"),
    (lambda s: s.put("out/notes.txt", b"x"), "not a Parquet file"),
])
def test_an_inconsistent_output_is_not_complete(store, damage, reason):
    committed(store, store.url("out"), "run1", {"a.parquet": 2})
    damage(store)
    assert not is_complete(store.url("out"), store.options)
    with pytest.raises(InputError, match=reason):
        read_manifest(store.url("out"), store.options)


def test_a_missing_output_is_not_complete(store):
    assert not is_complete(store.url("out"), store.options)
    with pytest.raises(InputError, match="no _SUCCESS"):
        read_manifest(store.url("out"), store.options)


# --- failures during commit ----------------------------------------------------------------------------


class Crash(Exception):
    """Stands for the process dying: nothing after the failing operation happens."""


def commit_operations(store: Store, monkeypatch, fail_at: int | None) -> list[tuple[str, str]]:
    """Commit run2 over a committed run1, raising Crash when storage operation number `fail_at` starts;
    returns the operations that ran to completion, as (action, url)."""
    output = store.url("out")
    committed(store, output, "run1", {"a.parquet": 2, "stale.parquet": 3})
    location = OutputLocation(output, "run2", store.options, "overwrite")
    location.check([store.url("in")])
    stage(location, {"a.parquet": 7, "year=2024/b.parquet": 1}, store, "new")
    real_io = storage._io
    started: list[tuple[str, str]] = []

    @contextmanager
    def io(action, url):
        started.append((action, url))
        if len(started) == fail_at:
            raise Crash
        with real_io(action, url):
            yield

    with monkeypatch.context() as patch:
        patch.setattr(storage, "_io", io)
        if fail_at is None:
            location.commit({})
        else:
            with pytest.raises(Crash):
                location.commit({})
    return started if fail_at is None else started[:-1]


def test_a_commit_performs_its_steps_in_the_documented_order(store, monkeypatch):
    done = commit_operations(store, monkeypatch, None)
    staged = store.url("out/_staging/run2")
    changes = [(action, url.removeprefix(store.url("out"))) for action, url in done
               if action in ("write", "remove") or action.startswith("move")]
    assert changes == [
        ("write", "/_staging/run2/_MANIFEST.json"),
        ("remove", "/_SUCCESS"),
        ("remove", "/stale.parquet"),
        (f"move into place from {staged}/a.parquet", "/a.parquet"),
        (f"move into place from {staged}/year=2024/b.parquet", "/year=2024/b.parquet"),
        (f"move into place from {staged}/_MANIFEST.json", "/_MANIFEST.json"),
        ("write", "/_SUCCESS"),
        # an object store has no folders: once its files moved away, the run's staging prefix is gone
        *([("remove", "/_staging/run2")] if store.options is None else []),
    ]


def test_a_crash_at_any_step_of_a_commit_is_never_taken_for_a_complete_result(store, monkeypatch):
    """Before the old _SUCCESS is removed the old result stays complete with its old bytes; between that
    and the new _SUCCESS nothing is complete; after it the new result is. A rerun always repairs it."""
    steps = len(commit_operations(store, monkeypatch, None))
    for fail_at in range(1, steps + 1):
        store.root = store.root + f"/crash{fail_at}"  # a fresh output per simulated crash
        done = commit_operations(store, monkeypatch, fail_at)
        success = store.url("out/_SUCCESS")
        old_success_removed = ("remove", success) in done
        new_success_written = ("write", success) in done
        output = store.url("out")
        if new_success_written:
            assert read_manifest(output, store.options)["run_id"] == "run2", fail_at
        elif old_success_removed:
            assert not is_complete(output, store.options), fail_at
        else:
            assert read_manifest(output, store.options)["run_id"] == "run1", fail_at
        if is_complete(output, store.options):
            assert contents_match_manifest(store, output), fail_at
        committed(store, output, "run3", {"c.parquet": 4}, tag="rerun")
        assert read_manifest(output, store.options)["run_id"] == "run3", fail_at
        assert [f.relative_path for f in list_input_files(output, store.options)] == ["c.parquet"]
        store.root = store.root.rsplit("/", 1)[0]


def test_a_full_disk_fails_the_commit_before_the_previous_output_is_touched(tmp_path, monkeypatch):
    store = Store(str(tmp_path), None)
    output = store.url("out")
    committed(store, output, "run1", {"a.parquet": 2})
    location = OutputLocation(output, "run2", None, "overwrite")
    stage(location, {"a.parquet": 9}, store, "new")

    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(LocalFileOpener, "write", full)
    with pytest.raises(StorageError, match=rf"{re.escape(output)}/_staging/run2/_MANIFEST.json: cannot write "
                                           r"\(No space left on device\)"):
        location.commit({})
    monkeypatch.undo()
    assert read_manifest(output, None)["run_id"] == "run1"
    assert contents_match_manifest(store, output)


def test_overwrite_refuses_an_output_holding_files_cnpii_did_not_write(store):
    """`--mode overwrite` never deletes Parquet files in OUTPUT that cnpii did not write."""
    output = store.url("out")
    committed(store, output, "run1", {"a.parquet": 2})
    mine = store.put("out/year=2024/theirs.parquet", parquet_bytes(3))
    location = OutputLocation(output, "run2", store.options, "overwrite")
    with pytest.raises(OutputExistsError, match=r"1 data files no cnpii manifest lists \(year=2024/theirs"):
        location.check([store.url("in")])
    stage(location, {"a.parquet": 5}, store, "new")
    with pytest.raises(OutputExistsError):
        location.commit({})
    assert store.read(mine) == parquet_bytes(3)


def test_a_second_run_is_refused_while_the_first_holds_the_output(store):
    """Two runs into one output: the second is refused with OutputBusyError naming the first, not a
    misleading "corrupt or truncated" error."""
    output = store.url("out")
    first = OutputLocation(output, "run1", store.options, "overwrite")
    first.check([store.url("in")])
    second = OutputLocation(output, "run2", store.options, "overwrite")
    with first.lease():
        assert store.exists(store.url("out/_LEASE.json"))
        second.check([store.url("in")])
        with pytest.raises(OutputBusyError, match="run run1 is writing here"), second.lease():
            pass
    assert not store.exists(store.url("out/_LEASE.json"))
    with second.lease():  # free again once the first run ended
        stage(second, {"a.parquet": 2}, store, "new")
        second.commit({})
    assert read_manifest(output, store.options)["run_id"] == "run2"


def test_an_expired_lease_is_taken_over(store):
    """A run killed outright cannot remove its lease: it expires instead."""
    output = store.url("out")
    store.put("out/_LEASE.json", json.dumps({"run_id": "dead", "expires": 0}).encode())
    location = OutputLocation(output, "run2", store.options, "overwrite")
    location.check([store.url("in")])
    with location.lease():
        stage(location, {"a.parquet": 2}, store, "new")
        location.commit({})
    assert is_complete(output, store.options) and not store.exists(store.url("out/_LEASE.json"))
