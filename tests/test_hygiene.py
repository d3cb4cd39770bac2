"""Hygiene: no planted value and no key ever leaves the pipeline except as the policy says.

Sentinel values (a unique phone, ID and card) are planted in the input; scan, run and verify run through
the API and the CLI at DEBUG with JSON logs, some of them failing on purpose. Every log record, stderr,
stdout, exception, report (JSON and Markdown), manifest and summary is searched for the sentinels in any
written form and for the key; the key is also searched for in reprs and in the pickled Dask task graph.
"""

from __future__ import annotations

import logging
import traceback
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline import api
from pipeline.cli import main as cli
from pipeline.plan import plan_columns
from pipeline.policy import build_actions, parse_policy
from recognizers.resident_id import calc_check_digit

KEY = "hygiene-sentinel-key-" + "9f8e7d6c5b4a3210" * 3
PHONE = "15937264810"
ID = "32050219780615471" + calc_check_digit("32050219780615471")
CARD = "6228480402564890018"  # Agricultural Bank BIN 622848
POLICY = {
    "key": {"env": "CNPII_KEY"},
    "actions": {"CN_PHONE": {"action": "tokenize"}, "CN_RESIDENT_ID": {"action": "tokenize"}},
    "columns": {"card": {"entity": "CN_BANK_CARD", "action": "tokenize", "format": "reversible"}},
}


def _written_forms() -> list[str]:
    """Each sentinel as digits and as people group it."""
    return [
        PHONE,
        f"{PHONE[:3]} {PHONE[3:7]} {PHONE[7:]}",
        f"{PHONE[:3]}-{PHONE[3:7]}-{PHONE[7:]}",
        ID,
        f"{ID[:6]} {ID[6:14]} {ID[14:]}",
        ID[6:14] + ID[14:17],  # birth date and sequence, the part a mask must hide
        CARD,
        " ".join(CARD[i : i + 4] for i in range(0, len(CARD), 4)),
    ]


def _table() -> pa.Table:
    return pa.table(
        {
            "note": [
                f"客户手机{PHONE}，身份证{ID}，卡号{CARD}",
                f"联系 {PHONE[:3]} {PHONE[3:7]} {PHONE[7:]}",
            ],
            "phone_int": pa.array([int(PHONE), None], pa.int64()),
            "id_number": [ID, f"{ID[:6]} {ID[6:14]} {ID[14:]}"],
            "card": [CARD, " ".join(CARD[i : i + 4] for i in range(0, len(CARD), 4))],
        }
    )


@pytest.fixture(autouse=True)
def _environment(monkeypatch):
    monkeypatch.setenv("CNPII_KEY", KEY)
    logger = logging.getLogger("cnpii")  # the CLI reconfigures it; later tests get it back as it was
    monkeypatch.setattr(logger, "handlers", list(logger.handlers))
    monkeypatch.setattr(logger, "propagate", logger.propagate)
    monkeypatch.setattr(logger, "level", logger.level)


def _clean(text: str, where: str) -> None:
    for form in _written_forms():
        assert form not in text, f"a sentinel ({len(form)} chars) appears in {where}"
    assert KEY not in text, f"the key appears in {where}"


def _files(folder: Path) -> str:
    """Every written file as text; Parquet files as their cell values."""
    parts = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        if path.suffix == ".parquet":
            parts.append(str(pq.read_table(path).to_pylist()))
        else:
            parts.append(path.read_text(encoding="utf-8"))
    return "\n".join(parts)


def _exception_text(error: BaseException) -> str:
    return "".join(traceback.format_exception(error)) + repr(error)


def test_no_sentinel_and_no_key_anywhere(tmp_path, monkeypatch, caplog, capsys, task_graphs):
    caplog.set_level(logging.DEBUG)
    graphs = task_graphs
    data = tmp_path / "in"
    data.mkdir()
    pq.write_table(_table(), data / "part-0.parquet")
    (tmp_path / "policy.yaml").write_text(
        "key: {env: CNPII_KEY}\n"
        "actions: {CN_PHONE: {action: tokenize}, CN_RESIDENT_ID: {action: tokenize}}\n"
        "columns: {card: {entity: CN_BANK_CARD, action: tokenize, format: reversible}}\n",
        encoding="utf-8",
    )
    policy_file = str(tmp_path / "policy.yaml")
    written = tmp_path / "written"

    # the API
    api.scan(str(data), policy_file, report=written / "scan.json")
    ran = api.run(str(data), str(tmp_path / "out-api"), policy_file, report=written / "run.json")
    assert ran.status == "ok"
    verified = api.verify(str(tmp_path / "out-api"), policy_file, report=written / "verify.json")
    assert verified.status == "ok"
    texts = [str(ran.to_dict()), str(verified.to_dict())]

    # the CLI, at DEBUG with JSON logs, including failures
    common = ["--log-level", "DEBUG", "--log-format", "json"]
    assert (
        cli([*common, "scan", str(data), "--config", policy_file, "--summary-path", str(written / "s1")]) == 0
    )
    assert (
        cli(
            [
                *common,
                "run",
                str(data),
                str(tmp_path / "out-cli"),
                "--config",
                policy_file,
                "--report",
                str(written / "cli-run.json"),
                "--summary-path",
                str(written / "s2"),
            ]
        )
        == 0
    )
    assert cli([*common, "verify", str(tmp_path / "out-cli"), "--config", policy_file]) == 0
    assert cli([*common, "verify", str(data), "--report", str(written / "leak.json")]) == 1  # raw input

    bad_type = tmp_path / "bad-type"
    bad_type.mkdir()
    pq.write_table(
        _table().append_column("raw", pa.array([PHONE.encode(), ID.encode()])), bad_type / "p.parquet"
    )
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    whole = (data / "part-0.parquet").read_bytes()
    (corrupt / "p.parquet").write_bytes(whole[: len(whole) * 2 // 3])
    for broken in (bad_type, corrupt):
        assert cli(
            [*common, "run", str(broken), str(tmp_path / f"out-{broken.name}"), "--config", policy_file]
        ) in (2, 3)
        with pytest.raises(Exception) as caught:
            api.run(str(broken), str(tmp_path / f"api-{broken.name}"), policy_file)
        texts.append(_exception_text(caught.value))

    captured = capsys.readouterr()
    assert captured.err, "DEBUG logging wrote nothing to stderr"
    records = "\n".join(f"{r.getMessage()} {r.exc_text or ''} {r.args!r}" for r in caplog.records)
    _clean(captured.out, "stdout")
    _clean(captured.err, "stderr")
    _clean(records, "log records")
    _clean("\n".join(texts), "summaries and exceptions")
    for folder in (written, tmp_path / "out-api", tmp_path / "out-cli"):
        _clean(_files(folder), str(folder.name))
    assert (written / "run.md").exists() and (tmp_path / "out-api" / "_MANIFEST.json").exists()

    # the key: never in reprs, nor in any task graph handed to Dask
    policy = parse_policy(POLICY)
    keyring, actions = build_actions(policy)
    plans = plan_columns(pq.read_schema(data / "part-0.parquet"), policy, actions, {"phone_int"})
    _clean(repr(policy) + repr(actions) + repr(plans) + repr(keyring), "reprs")
    assert graphs
    subkey = keyring.subkey("tokenize/hmac/CN_PHONE")
    for graph in graphs:
        assert KEY.encode() not in graph
        assert subkey not in graph
        assert PHONE.encode() not in graph
