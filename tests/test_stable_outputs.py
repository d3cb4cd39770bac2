"""Outputs for unchanged inputs stay the same: from run to run byte for byte, and from release to release
cell for cell, tokens included (a vendor joins this month's tokens with last month's).

The pinned digests are of the outputs of the release before the entity engine (commit e64433d) on the
committed sample data with the key below; the engine rewrite reproduced them exactly. A change that moves
one of them changes what users receive for the same input: it must be deliberate and said so in the
release notes, and the digest updated in the same commit.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipeline import api

REPO = Path(__file__).resolve().parent.parent
KEY = "golden-test-key-" + "0" * 32

PINNED = {
    ("customers", "analytics_vendor"): "9df8618d0c4e0db6",
    ("customers", "collection_agency"): "6d39d3de4d0a07f9",
    ("customers", "default"): "20980261b37e13b0",
    ("call_notes", "default"): "b892756a2eef7f3f",
    ("contacts", "default"): "149111db5c3479e5",
    ("transactions", "default"): "4cd9ab9def44e36f",
    ("loans", "default"): "ee04424aff83c0ec",
}


def _cells(output: Path) -> list[dict]:
    rows = []
    for path in sorted(output.rglob("*.parquet")):
        rows += pq.read_table(path).to_pylist()
    return rows


def _run(table: str, policy: str, output: Path) -> Path:
    policy_file = REPO / "configs" / f"{policy}.yaml"
    summary = api.run(str(REPO / "sample_data" / table), str(output), str(policy_file))
    assert summary.status == "ok"
    return output


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CNPII_KEY", KEY)


@pytest.mark.parametrize(("table", "policy"), list(PINNED), ids=lambda v: v)
def test_outputs_match_the_previous_release_cell_for_cell(table: str, policy: str, tmp_path: Path) -> None:
    cells = json.dumps(_cells(_run(table, policy, tmp_path / "out")), default=str, ensure_ascii=False)
    assert hashlib.sha256(cells.encode()).hexdigest()[:16] == PINNED[table, policy]


def test_two_runs_write_the_same_bytes(tmp_path: Path) -> None:
    first = _run("customers", "analytics_vendor", tmp_path / "first")
    second = _run("customers", "analytics_vendor", tmp_path / "second")
    files = sorted(p.relative_to(first) for p in first.rglob("*.parquet"))
    assert files == sorted(p.relative_to(second) for p in second.rglob("*.parquet")) and files
    for name in files:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
