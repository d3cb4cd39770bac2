"""The benchmark runs end to end on a small dataset and reports every step (no timing is asserted)."""

from __future__ import annotations

from benchmarks import run


def test_benchmark_reports_every_step(tmp_path, capsys):
    results = tmp_path / "latest.md"
    status = run.main(["--rows", "4000", "--rows-per-file", "2000", "--presidio-cells", "200", "--scaling",
                       "--memory", "--memory-rows", "8000", "--worker-memory", "512MB", "--release-k", "1",
                       "--risk", "--risk-rows", "6000", "--risk-memory", "512MB",
                       "--data-dir", str(tmp_path / "data"), "--results", str(results)])
    printed = capsys.readouterr().out
    assert status == 0
    assert results.read_text(encoding="utf-8") == printed.rstrip("\n") + "\n"
    rows = [line for line in printed.splitlines() if line.startswith("| ") and "---" not in line][1:]
    steps = [row.split(" | ")[0].lstrip("| ") for row in rows]
    assert steps == [
        "floor: pyarrow read + write",
        "Presidio per cell (200-cell sample, extrapolated)",
        "cnpii scan default.yaml",
        "cnpii run default.yaml",
        "cnpii run analytics_vendor.yaml",
        "cnpii run analytics_vendor-release1.yaml (+ release: k=1, people; ID x birth year x gender)",
        "cnpii run analytics_vendor-release2.yaml (+ release: k=1, rows; birth year x gender x city)",
        "cnpii run default.yaml --scheduler processes",
        "cnpii run default.yaml",
        "cnpii run default.yaml on 2 Dask workers × 512MB",
        "cnpii risk (birth_date,gender,county, people, l) on 2 Dask workers × 512MB",
    ]
    assert all(" — | — |" not in row for row in rows[2:])  # every cnpii step has its ratios
