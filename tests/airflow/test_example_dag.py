"""The example DAG end to end under a real Airflow: SQLite metadata database in a fresh AIRFLOW_HOME,
`airflow db migrate`, then `dag.test()` on the repository's sample data. Both run in subprocesses so
that Airflow reads AIRFLOW_HOME before its first import."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq

from pipeline.keys import Keyring, KeySource

REPOSITORY = Path(__file__).parents[2]
KEY = "example-dag-test-key-" + "0123456789abcdef" * 3
DAY = "2026-03-14"

RUN_DAG = """
import datetime as dt, inspect, json, sys
from airflow.utils.session import create_session
from pipeline.airflow.example_dags.cnpii_share_export import dag

for task in dag.tasks:  # a failing task fails the test now, not after the DAG's retry delays
    task.retries = 0
day, source, policy, share_root, report_root = sys.argv[1:]
# Airflow 3 names the date logical_date, Airflow 2 execution_date
date = "logical_date" if "logical_date" in inspect.signature(dag.test).parameters else "execution_date"
run = dag.test(**{date: dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC)},
               run_conf={"input": source, "policy": policy, "share_root": share_root,
                         "report_root": report_root})
with create_session() as session:
    tis = run.get_task_instances(session=session)
    states = {ti.task_id: ti.state for ti in tis}
    xcom = {ti.task_id: ti.xcom_pull(task_ids=ti.task_id, session=session) for ti in tis}
print(json.dumps({"state": run.state, "tasks": states, "xcom": xcom}))
"""


def _airflow(args: list[str], home: Path) -> subprocess.CompletedProcess[str]:
    """Run Python with Airflow configured by environment: its home, the example DAG's folder as the DAG
    bundle (dag.test() reads the DAG from there into the database), the key Connection; and this
    checkout first on the path. The DAG's paths come from its params."""
    env = {**os.environ, "AIRFLOW_HOME": str(home), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
           "PYTHONPATH": os.pathsep.join([str(REPOSITORY), os.environ.get("PYTHONPATH", "")]),
           "AIRFLOW__CORE__DAGS_FOLDER": str(REPOSITORY / "pipeline" / "airflow" / "example_dags"),
           "AIRFLOW_CONN_CNPII_KEY": json.dumps({"conn_type": "generic", "password": KEY})}
    env.pop("CNPII_KEY", None)  # the key must come from the Connection
    done = subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True, cwd=home)
    assert done.returncode == 0, done.stderr[-3000:] + done.stdout[-3000:]
    return done


def test_example_dag_shares_verified_output(tmp_path: Path) -> None:
    home, share_root, report_root = tmp_path / "airflow", tmp_path / "share", tmp_path / "reports"
    home.mkdir()
    _airflow(["-m", "airflow", "db", "migrate"], home)
    arguments = [str(REPOSITORY / "sample_data" / "customers"),
                 str(REPOSITORY / "configs" / "collection_agency.yaml")]
    done = _airflow(["-c", RUN_DAG, DAY, *arguments, str(share_root), str(report_root)], home)
    result = json.loads(done.stdout.strip().splitlines()[-1])

    assert result["state"] == "success"
    tasks = ("prepare", "scan", "deidentify", "verify", "hand_off")
    assert result["tasks"] == dict.fromkeys(tasks, "success")
    assert share_root.stat().st_mode & 0o777 == 0o700  # the share root is not world-readable
    share = share_root / "collection_agency" / "customers" / DAY
    assert (share / "_SUCCESS").exists()

    run = result["xcom"]["deidentify"]
    rows = sum(pq.ParquetFile(part).metadata.num_rows for part in share.glob("*.parquet"))
    assert run["status"] == "ok" and run["leaks"] == 0 and run["rows"] == rows > 0
    assert run["output"] == str(share)
    manifest = json.loads(Path(run["manifest"]).read_text())
    assert manifest["verify"]["status"] == "passed"
    assert manifest["key_fingerprint"] == Keyring(KEY.encode(), KeySource()).fingerprint  # the Connection's
    assert set(run["entities"]) == {"CN_RESIDENT_ID", "CN_PHONE", "CN_BANK_CARD", "CN_PERSON_NAME"}
    assert Path(run["report"]) == report_root / DAY / "run.json"
    assert result["xcom"]["scan"]["rows"] == run["rows"]
    assert result["xcom"]["verify"]["status"] == "ok" and result["xcom"]["verify"]["rows"] == run["rows"]
    assert result["xcom"]["hand_off"] == run["manifest"]
    assert "cnpii run on the local threads scheduler" in done.stdout
    assert KEY not in done.stdout + done.stderr  # dag.test() logs every task there
    # the same day again (a retry, a backfill) replaces that day's share instead of failing for good
    again = _airflow(["-c", RUN_DAG, DAY, *arguments, str(share_root), str(report_root)], home)
    rerun = json.loads(again.stdout.strip().splitlines()[-1])
    assert rerun["state"] == "success" and rerun["xcom"]["deidentify"]["run_id"] != run["run_id"]
    committed = json.loads((share / "_MANIFEST.json").read_text())["run_id"]
    assert committed == rerun["xcom"]["deidentify"]["run_id"]
