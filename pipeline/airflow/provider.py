"""Provider metadata for Airflow's `apache_airflow_provider` entry point.

Airflow loads this while reading its own configuration, in every process (scheduler, API server, task),
so it imports nothing and builds a plain dict; a failure here would break Airflow itself.
"""

from __future__ import annotations

from typing import Any


def get_provider_info() -> dict[str, Any]:
    """cnpii's provider description (airflow/provider_info.schema.json); `package-name` must equal the
    distribution name, or Airflow refuses the provider."""
    return {
        "package-name": "cnpii",
        "name": "cnpii",
        "description": "De-identify Chinese personal information (resident IDs, phones, bank cards) in "
                       "Parquet exports before they are shared, verified before the output is committed.",
        "operators": [{"integration-name": "cnpii", "python-modules": ["pipeline.airflow.operators"]}],
    }
