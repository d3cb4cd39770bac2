"""cnpii as an Airflow task: `DeidentifyOperator` (plus `ScanOperator`, `VerifyOperator`) in
`pipeline.airflow.operators`, provider metadata in `pipeline.airflow.provider`, an example DAG in
`pipeline.airflow.example_dags`.

Deliberately empty: the scheduler imports provider packages while parsing DAGs, so nothing here may pull
in Airflow, Dask, pyarrow or Presidio.
"""
