"""The cnpii performance benchmark: `python -m benchmarks.run` (see benchmarks/run.py)."""
