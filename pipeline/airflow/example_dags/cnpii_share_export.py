"""Share the day's customers export with a collection agency: scan -> de-identify -> verify -> hand off.

Every day the customers table (Parquet) is de-identified by configs/collection_agency.yaml into a dated
share folder, which is committed (`_SUCCESS`) only when verify passed; verify then re-checks the
committed share on its own, and the hand-off task logs where the share and its manifest are. Paths come
from DAG params that default to the repository's sample_data/ and configs/ and a folder under the temp
directory, so the DAG runs as it is from a checkout; point them at `s3://...` in production and add
`storage_conn_id`.

The policy tokenizes ID numbers, so it needs a key: create a Connection `cnpii_key` whose password is at
least 32 random bytes (`python -c 'import secrets; print(secrets.token_urlsafe(48))'`).
"""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
from pathlib import Path
from typing import Any

from pipeline.airflow.operators import DeidentifyOperator, ScanOperator, VerifyOperator

try:  # Airflow 3
    from airflow.sdk import DAG, Param, task
except ImportError:  # Airflow 2.10
    from airflow import DAG
    from airflow.decorators import task
    from airflow.models.param import Param

REPOSITORY = Path(__file__).resolve().parents[3]

log = logging.getLogger(__name__)

with DAG(
    dag_id="cnpii_share_export",
    description="De-identify the customers export for the collection agency, verify it, hand it off",
    schedule="@daily",
    start_date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    catchup=False,
    default_args={"retries": 2, "retry_delay": dt.timedelta(minutes=5)},
    params={
        "input": Param(str(REPOSITORY / "sample_data" / "customers"), type="string",
                       description="the export to share (a local folder or an fsspec URL)"),
        "policy": Param(str(REPOSITORY / "configs" / "collection_agency.yaml"), type="string"),
        "share_root": Param(str(Path(tempfile.gettempdir()) / "cnpii-share"), type="string",
                            description="where dated shares are written"),
        "report_root": Param(str(Path(tempfile.gettempdir()) / "cnpii-reports"), type="string",
                             description="a local folder for the JSON and Markdown reports"),
    },
    tags=["cnpii", "pii"],
) as dag:
    source, policy = "{{ params.input }}", "{{ params.policy }}"
    share = "{{ params.share_root }}/collection_agency/customers/{{ ds }}"
    reports = "{{ params.report_root }}/{{ ds }}"

    scan = ScanOperator(task_id="scan", input_path=source, policy=policy, report=reports + "/scan.json")
    deidentify = DeidentifyOperator(task_id="deidentify", input_path=source, output_path=share,
                                    policy=policy, key_conn_id="cnpii_key", report=reports + "/run.json")
    verify = VerifyOperator(task_id="verify", output_path=share, policy=policy,
                            report=reports + "/verify.json")

    @task
    def hand_off(summary: dict[str, Any]) -> str:
        """Tell the receiver where the verified share is: its manifest lists the files and the checks."""
        log.info("share ready for the collection agency: %s (manifest %s, %d rows, run %s)",
                 summary["output"], summary["manifest"], summary["rows"], summary["run_id"])
        return summary["manifest"]

    scan >> deidentify >> verify >> hand_off(deidentify.output)
