"""cnpii pipeline: policy, discovery, actions, Parquet I/O with an atomic commit, verification, reports."""
