"""Which errors may be shown as they are: the CLI and the Airflow operator decide it the same way.

cnpii's own errors name a file, a column, a key path and a reason, never a cell value. Library errors
about data can quote the value that failed (pyarrow: "Could not convert '13812345678'"), so their
messages are withheld; errors about infrastructure — I/O, network, credentials, the cluster — speak of
hosts, paths and settings, and are shown, so an operator at 3 a.m. sees "Unable to locate credentials"
rather than "unexpected NoCredentialsError".
"""

from __future__ import annotations

INFRASTRUCTURE_MODULES = ("botocore", "aiobotocore", "s3fs", "gcsfs", "adlfs", "distributed", "tornado")
"""Libraries whose errors speak of credentials, connections and clusters, never of cell values."""


def speaks_of_infrastructure(error: BaseException) -> bool:
    """Whether `error` cannot quote a cell: an OSError (an unreachable scheduler, a missing file), or an
    error of a storage or Dask library. pyarrow's data errors are ValueErrors and are not among them."""
    module = type(error).__module__ or ""
    return isinstance(error, OSError) or module.split(".")[0] in INFRASTRUCTURE_MODULES
