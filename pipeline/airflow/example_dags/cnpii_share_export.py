"""Share the day's customers export with a collection agency: scan -> de-identify -> verify -> hand off.

Every day the customers table (Parquet) is de-identified by a policy (the repository's
configs/collection_agency.yaml, say) into a dated share folder, which is committed (`_SUCCESS`) only when
verify passed; verify then re-checks the committed share on its own, and the hand-off task logs where the
share and its manifest are. Every path is a DAG param without a default that assumes a checkout: `input`,
`policy`, `share_root` and `report_root` (local folders or `s3://...` with `storage_conn_id`).

Re-running a day replaces that day's share (`mode="overwrite"`, which only ever replaces a previous cnpii
output), so a retry or a backfill does not fail for good. A local share root is created readable by its
owner only (0700): what is shared is still personal information.

The policy tokenizes ID numbers, so it needs a key: create a Connection `cnpii_key` whose password is at
least 32 random bytes (`python -c 'import secrets; print(secrets.token_urlsafe(48))'`).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from typing import Any

from pipeline.airflow.operators import DeidentifyOperator, ScanOperator, VerifyOperator

try:  # Airflow 3
    from airflow.sdk import DAG, Param, task
except ImportError:  # Airflow 2.10
    from airflow import DAG
    from airflow.decorators import task
    from airflow.models.param import Param

log = logging.getLogger(__name__)

with DAG(
    dag_id="cnpii_share_export",
    description="De-identify the customers export for the collection agency, verify it, hand it off",
    schedule="@daily",
    start_date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    catchup=False,
    default_args={"retries": 2, "retry_delay": dt.timedelta(minutes=5)},
    params={  # empty until set (a scheduled DAG may not have required params): `prepare` says which
        "input": Param("", type="string", description="the export to share (a local folder or fsspec URL)"),
        "policy": Param("", type="string", description="the policy YAML, e.g. collection_agency.yaml"),
        "share_root": Param("", type="string", description="where dated shares are written"),
        "report_root": Param("", type="string", description="a local folder for the reports"),
    },
    tags=["cnpii", "pii"],
) as dag:
    source, policy = "{{ params.input }}", "{{ params.policy }}"
    share = "{{ params.share_root }}/collection_agency/customers/{{ ds }}"
    reports = "{{ params.report_root }}/{{ ds }}"

    @task
    def prepare(params: dict[str, Any] | None = None) -> None:
        """Refuse to start without every path, and make a local share root readable by its owner only
        (object stores keep their own access rules)."""
        params = params or {}
        missing = [name for name in ("input", "policy", "share_root", "report_root") if not params.get(name)]
        if missing:
            raise ValueError(f"set the DAG params {', '.join(missing)} (Trigger DAG w/ config, or edit them)")
        if "://" not in params["share_root"]:
            os.makedirs(params["share_root"], mode=0o700, exist_ok=True)
            os.chmod(params["share_root"], 0o700)

    scan = ScanOperator(task_id="scan", input_path=source, policy=policy, report=reports + "/scan.json")
    deidentify = DeidentifyOperator(task_id="deidentify", input_path=source, output_path=share,
                                    policy=policy, key_conn_id="cnpii_key", mode="overwrite",
                                    report=reports + "/run.json")
    verify = VerifyOperator(task_id="verify", output_path=share, policy=policy,
                            report=reports + "/verify.json")

    @task
    def hand_off(summary: dict[str, Any]) -> str:
        """Tell the receiver where the verified share is: its manifest lists the files and the checks."""
        log.info("share ready for the collection agency: %s (manifest %s, %d rows, run %s)",
                 summary["output"], summary["manifest"], summary["rows"], summary["run_id"])
        return summary["manifest"]

    prepare() >> scan >> deidentify >> verify >> hand_off(deidentify.output)
