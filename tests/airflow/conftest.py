"""Airflow tests run with a throwaway AIRFLOW_HOME: Airflow reads (and writes) its configuration there on
first import, so it is set before any test module imports airflow."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

pytest.importorskip("airflow", reason="Airflow is not installed (pip install '.[airflow]')")

AIRFLOW_HOME = tempfile.mkdtemp(prefix="cnpii-airflow-home-")
os.environ["AIRFLOW_HOME"] = AIRFLOW_HOME
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"


def pytest_unconfigure() -> None:
    shutil.rmtree(AIRFLOW_HOME, ignore_errors=True)
