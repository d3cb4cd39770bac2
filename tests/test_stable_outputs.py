"""Outputs for unchanged inputs stay the same: from run to run byte for byte, and from release to release
cell for cell, tokens included (a vendor joins this month's tokens with last month's).

`PINNED` holds digests of the outputs of the release before the entity engine (commit e64433d) on the
committed sample data with the key below; the engine rewrite reproduced them exactly, and so do the
shipped policies today when they keep names and addresses as they are (`NUMBERS_ONLY`): adding entities
changed no number's mask or token. `PINNED_WITH_NAMES` holds the digests of the shipped policies as they
are, names and addresses de-identified. A change that moves a digest changes what users receive for the
same input: it must be deliberate and said so in the release notes, and the digest updated in the same
commit.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from pipeline import api
from pipeline.policy import parse_policy

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
PINNED_WITH_NAMES = {
    ("customers", "analytics_vendor"): "6d933b811e5ad2cf",
    ("customers", "collection_agency"): "6359f7d5b15f8a3c",
    ("customers", "default"): "e9ffbe6cb1b4e3fd",
    ("call_notes", "default"): "addcc9e039e0db6e",
    ("contacts", "default"): "e1b6fa995dd2552e",
    ("transactions", "default"): "43e82049bc7093cb",
    ("loans", "default"): "a0f0d0cb95404a6c",
}


def _cells(output: Path) -> list[dict]:
    rows = []
    for path in sorted(output.rglob("*.parquet")):
        rows += pq.read_table(path).to_pylist()
    return rows


NUMBERS_ONLY = {"CN_PERSON_NAME": {"action": "keep"}, "CN_ADDRESS": {"action": "keep"}}
"""Names and addresses left as they are: what the shipped policies did before they were entities."""


def _run(table: str, policy: str, output: Path, numbers_only: bool = False) -> Path:
    document = yaml.safe_load((REPO / "configs" / f"{policy}.yaml").read_text(encoding="utf-8"))
    if numbers_only:
        document["actions"] = {**document["actions"], **NUMBERS_ONLY}
    summary = api.run(str(REPO / "sample_data" / table), str(output), parse_policy(document))
    assert summary.status == "ok"
    return output


def _digest(output: Path) -> str:
    cells = json.dumps(_cells(output), default=str, ensure_ascii=False)
    return hashlib.sha256(cells.encode()).hexdigest()[:16]


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CNPII_KEY", KEY)


@pytest.mark.parametrize(("table", "policy"), list(PINNED), ids=lambda v: v)
def test_numbers_come_out_as_the_previous_release_did(table: str, policy: str, tmp_path: Path) -> None:
    assert _digest(_run(table, policy, tmp_path / "out", numbers_only=True)) == PINNED[table, policy]


@pytest.mark.parametrize(("table", "policy"), list(PINNED_WITH_NAMES), ids=lambda v: v)
def test_outputs_match_the_pinned_release_cell_for_cell(table: str, policy: str, tmp_path: Path) -> None:
    assert _digest(_run(table, policy, tmp_path / "out")) == PINNED_WITH_NAMES[table, policy]


def test_two_runs_write_the_same_bytes(tmp_path: Path) -> None:
    first = _run("customers", "analytics_vendor", tmp_path / "first")
    second = _run("customers", "analytics_vendor", tmp_path / "second")
    files = sorted(p.relative_to(first) for p in first.rglob("*.parquet"))
    assert files == sorted(p.relative_to(second) for p in second.rglob("*.parquet")) and files
    for name in files:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
