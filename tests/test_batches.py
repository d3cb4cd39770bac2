"""How a file is cut into batches: by rows, and by bytes where rows are wide (long notes, transcripts)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline import api, partition, transform

DEFAULT = str(Path(__file__).parent.parent / "configs" / "default.yaml")


def _wide(folder: Path) -> Path:
    """A file of 300 notes of about 2 kB, a mobile in each, and a short column beside them."""
    folder.mkdir()
    notes = [f"第{i}次通话记录：" + "客户表示本月工资未到账，承诺下周还款。" * 35 + f"联系电话1380013{i:04d}"
             for i in range(300)]
    pq.write_table(pa.table({"id": list(range(300)), "note": notes}), folder / "part-0.parquet")
    return folder


def test_wide_rows_are_read_in_batches_of_about_batch_bytes(tmp_path, monkeypatch):
    source = _wide(tmp_path / "in")
    monkeypatch.setattr(partition, "BATCH_BYTES", 64 * 1024)
    batches = list(partition.read_batches(str(source / "part-0.parquet"), "part-0.parquet", None, None))
    assert sum(b.num_rows for b in batches) == 300
    assert len(batches) >= 8 and max(b.num_rows for b in batches) <= 40
    narrow = list(partition.read_batches(str(source / "part-0.parquet"), "part-0.parquet", ["id"], None))
    assert len(narrow) == 1  # the bytes of the columns read count, not the file's


def test_a_run_cut_into_small_batches_writes_what_one_batch_writes(tmp_path, monkeypatch):
    source = _wide(tmp_path / "in")
    assert api.run(str(source), str(tmp_path / "whole"), DEFAULT).status == "ok"
    monkeypatch.setattr(partition, "BATCH_BYTES", 64 * 1024)
    summary = api.run(str(source), str(tmp_path / "cut"), DEFAULT)
    assert summary.status == "ok" and summary.entities["CN_PHONE"]["rows"] == 300
    whole, cut = (pq.read_table(tmp_path / name / "part-0.parquet") for name in ("whole", "cut"))
    assert pq.ParquetFile(tmp_path / "cut" / "part-0.parquet").metadata.num_row_groups > 1
    assert cut.equals(whole)
    assert not [note for note in whole.column("note").to_pylist() if "1380013" in note]  # all masked


def test_the_widest_row_group_and_nested_columns_count(tmp_path, monkeypatch):
    """One row group of long notes after a large one of short notes, and a list column asked for by
    name: the batches stay about `BATCH_BYTES` (the footer names a list's leaves `notes.list.element`)."""
    monkeypatch.setattr(partition, "BATCH_BYTES", 64 * 1024)
    path = tmp_path / "part-0.parquet"
    schema = pa.schema([("note", pa.string()), ("notes", pa.list_(pa.string()))])
    with pq.ParquetWriter(path, schema) as writer:
        writer.write_table(pa.table({"note": [f"短{i}" for i in range(5000)], "notes": [[]] * 5000}, schema))
        long = [f"{i}" + "长" * 3000 for i in range(100)]  # distinct: the footer counts them in full
        writer.write_table(pa.table({"note": long, "notes": [[n] for n in long]}, schema))
    for columns in (["note"], ["notes"]):
        batches = list(partition.read_batches(str(path), "part-0.parquet", columns, None))
        assert sum(b.num_rows for b in batches) == 5100
        assert max(b.get_total_buffer_size() for b in batches) <= 2 * 64 * 1024, columns


def _searches_by_column(monkeypatch) -> Counter[str]:
    """How many times the transform asks the engine to search each column, counted from now on."""
    searched: Counter[str] = Counter()
    find = transform.engine.find

    def counted(values, entities=None, column=None, *args):
        searched[column] += 1
        return find(values, entities, column, *args)

    monkeypatch.setattr(transform.engine, "find", counted)
    return searched


def test_a_column_of_few_values_is_searched_once_a_file_in_whatever_order_batches_hold_them(
        tmp_path, monkeypatch):
    """A column's few distinct values come in another order in each batch: the task's memo searches them
    once a pass, and its findings follow each batch's order (the output is what one batch writes)."""
    statuses = ["逾期，联系人王芳13812345678", "已结清", "逾期 客户李强", "正常"]
    source = tmp_path / "in"
    source.mkdir()
    notes = [f"第{i}次通话记录：" + "客户表示本月工资未到账，承诺下周还款。" * 35 for i in range(300)]
    status = [statuses[(7 * i + i // 30) % 4] for i in range(300)]  # batch k starts on status 3k mod 4
    pq.write_table(pa.table({"note": notes, "status": status}), source / "part-0.parquet")
    assert api.run(str(source), str(tmp_path / "whole"), DEFAULT).status == "ok"
    searched = _searches_by_column(monkeypatch)
    monkeypatch.setattr(partition, "BATCH_BYTES", 64 * 1024)
    assert api.run(str(source), str(tmp_path / "cut"), DEFAULT).status == "ok"
    whole, cut = (pq.read_table(tmp_path / name / "part-0.parquet") for name in ("whole", "cut"))
    assert cut.equals(whole)
    assert "王芳" not in "".join(cut.column("status").to_pylist())
    assert 6 * searched["status"] <= searched["note"]  # the statuses once a pass, the notes once a batch


def test_a_column_of_few_values_without_numbers_is_searched_once_a_process(tmp_path, monkeypatch):
    """Statuses in which the engine reads no number are remembered across the tasks of a process: four
    files, one batch each, search them once a pass (transform, verify), not once a file."""
    monkeypatch.setattr(transform, "_SHARED", {})
    statuses = ["逾期 客户李强", "已结清", "正常", "催收中，联系人王芳"]
    source = tmp_path / "in"
    source.mkdir()
    for part in range(4):
        status = [statuses[(part + i) % 4] for i in range(40)]
        pq.write_table(pa.table({"status": status, "n": list(range(40))}), source / f"part-{part}.parquet")
    searched = _searches_by_column(monkeypatch)
    assert api.run(str(source), str(tmp_path / "out"), DEFAULT).status == "ok"
    written = " ".join(pq.read_table(tmp_path / "out").column("status").to_pylist())
    assert "李强" not in written and "王芳" not in written and written.count("李*") == 40
    assert searched["status"] <= 2  # once a plan (the run's, verify's); before, once a file and pass
