"""The cnpii benchmark: one command, one Markdown table, rerunnable by anyone.

    pip install -e '.[bench]'
    python -m benchmarks.run                   # 1,000,000 rows
    python -m benchmarks.run --rows 20000 --notes-rows 20000   # smoke run, about a minute
    python -m benchmarks.run --notes-rows 0    # without the loan-notes rows
    python -m benchmarks.run --scaling         # also 4x the rows (customers and notes): is the time about 4x?
    python -m benchmarks.run --memory          # also 8,000,000 rows on 2 Dask workers limited to 2 GB each
    python -m benchmarks.run --risk            # also `cnpii risk` on 10,000,000 rows, 2 workers x 512 MB

On one generated dataset (the sample-data customers table, see benchmarks/dataset.py) it measures the
floor (pyarrow reading and writing the files, no processing), `cnpii scan` and `cnpii run` with the
default policy, `cnpii run` with a tokenize/generalize policy, the same policy with a `release:` block
(re-identification risk measured and k enforced in the run), the per-cell Presidio baseline on a sample,
extrapolated, and for comparison `cnpii run` on a local process pool. A second, PII-dense dataset of
loan-collection notes (free text with 0-4 numbers a row, contact lists as JSON; `--notes-rows`) gets its
own floor and `cnpii run` with the default policy, compared with that floor. Every step runs as its own
process; the time is wall time and the memory the peak RSS summed over the step's process tree. The
targets are checked and printed here, never in the tests: the machine the tests run on is shared. The
table also goes to benchmarks/results/latest.md (or `--results PATH`); tests/test_benchmark.py runs it
small, so it keeps working.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import json
import os
import platform
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil
import yaml

from benchmarks.dataset import (
    CUSTOMERS_KIND,
    NOTES_KIND,
    DatasetInfo,
    customers_dataset,
    describe,
    loan_notes_dataset,
    loan_notes_figures,
    quasi_identifier_dataset,
)
from benchmarks.measure import Measured, run_measured

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results" / "latest.md"
DEFAULT_POLICY = REPO / "configs" / "default.yaml"
TOKENIZE_POLICY = REPO / "configs" / "analytics_vendor.yaml"
PACKAGES = ("cnpii", "pyarrow", "dask", "distributed", "presidio-analyzer", "presidio-anonymizer")
MIB = 2**20

# The targets.
DEFAULT_RUN_X_FLOOR = 2.5
NOTES_RUN_X_FLOOR = 3.0  # the PII-dense notes: every row's text goes through the recognizers
NOTES_RUN_GOAL_X_FLOOR = 2.0
TOKENIZE_RUN_X_FLOOR = 4.0
X_FASTER_THAN_PRESIDIO = 100.0
SCALING_FACTOR = 4
SCALING_TOLERANCE = 1.1  # "about 4x": at most 10 % worse than linear
RELEASE_OVERHEAD = 1.2  # measuring and enforcing the release adds at most 20 %
RELEASES = {
    "people; ID x birth year x gender": {"person": "id_number",
                                          "quasi_identifiers": ["id_number", "birth_date", "gender"]},
    "rows; birth year x gender x city": {"quasi_identifiers": ["birth_date", "gender", "city"]},
}
"""The release blocks added to the tokenize policy, each with `k_anonymity: --release-k` and
`max_suppressed: 0.02`: one counting people with the ID among the quasi-identifiers (its validation is
repeated in the measuring pass), one counting rows over columns that need no recognizer."""
RISK_QUASI_IDENTIFIERS = "birth_date,gender,county"


@dataclass
class Step:
    """One row of the table. `seconds` is None when the step did not finish."""

    name: str
    rows: int
    seconds: float | None
    peak_rss: int
    target: str = ""
    met: str = ""
    kind: str = CUSTOMERS_KIND  # the dataset's: ratios compare steps on the same dataset only

    @property
    def rows_per_second(self) -> float | None:
        return self.rows / self.seconds if self.seconds else None


class Bench:
    """Runs the steps against one environment and keeps the rows of the table."""

    def __init__(self, data_dir: Path, rows_per_file: int, seed: int) -> None:
        self.data_dir, self.rows_per_file, self.seed = data_dir, rows_per_file, seed
        self.env = dict(os.environ)
        # A throw-away key for the tokenize policy when the caller has none; it is never printed.
        self.env.setdefault("CNPII_KEY", secrets.token_urlsafe(48))
        self.steps: list[Step] = []
        self.failures: list[str] = []

    def dataset(self, rows: int) -> DatasetInfo:
        """The customers dataset of `rows` rows, generated unless cached."""
        print(f"… dataset of {rows:,} rows", file=sys.stderr, flush=True)
        return describe(customers_dataset(self.data_dir, rows, self.rows_per_file, self.seed))

    def notes_dataset(self, rows: int) -> DatasetInfo:
        """The loan-notes dataset of `rows` rows, generated unless cached."""
        print(f"… loan-notes dataset of {rows:,} rows", file=sys.stderr, flush=True)
        return describe(loan_notes_dataset(self.data_dir, rows, self.rows_per_file, self.seed), NOTES_KIND)

    def _python(self, name: str, rows: int, arguments: Sequence[str], ok_codes: Sequence[int] = (0,),
                kind: str = CUSTOMERS_KIND) -> Measured | None:
        """Run `python -m ARGUMENTS` and record the step; None (and a failure) if it exited otherwise."""
        print(f"… {name} ({rows:,} rows)", file=sys.stderr, flush=True)
        measured = run_measured([sys.executable, "-m", *arguments], REPO, self.env)
        if measured.returncode not in ok_codes:
            tail = "\n".join(measured.stderr.strip().splitlines()[-5:])
            self.failures.append(f"{name}: exit {measured.returncode}\n{tail}")
            failed = f"no (exit {measured.returncode})"
            self.steps.append(Step(name, rows, None, measured.peak_rss, met=failed, kind=kind))
            return None
        self.steps.append(Step(name, rows, measured.seconds, measured.peak_rss, kind=kind))
        return measured

    def floor(self, data: DatasetInfo, label: str = "") -> Step | None:
        """pyarrow reading and writing `data` (benchmarks/floor.py): what every other step is compared to."""
        out = self._scratch()
        measured = self._python(f"floor: pyarrow read + write{label}", data.rows,
                                ["benchmarks.floor", str(data.path), str(out)], kind=data.kind)
        shutil.rmtree(out, ignore_errors=True)
        return self.steps[-1] if measured else None

    def cnpii(self, command: str, policy: Path, data: DatasetInfo, scheduler: str | None = None,
              label: str = "") -> Step | None:
        """`cnpii scan INPUT` or `cnpii run INPUT OUTPUT` with a policy; status `leak` is noted, not fatal."""
        arguments = ["pipeline.cli", command, str(data.path)]
        out = self._scratch()
        if command == "run":
            arguments.append(str(out))
        arguments += ["--config", str(policy)]
        if scheduler:
            arguments += ["--scheduler", scheduler]
        name = f"cnpii {command} {policy.name}{label}"
        measured = self._python(name, data.rows, arguments, ok_codes=(0, 1), kind=data.kind)
        shutil.rmtree(out, ignore_errors=True)
        if measured is None:
            return None
        step = self.steps[-1]
        if measured.returncode == 1:  # exit 1 with a summary is a leak; without one, Python failed
            try:
                status = json.loads(measured.last_line)["status"]
            except (json.JSONDecodeError, KeyError, TypeError):
                status = "no summary"
            step.met = f"no ({status})"
            if status != "leak":
                step.seconds = None
            self.failures.append(f"{name}: exit 1, {status}\n" + "\n".join(measured.stderr.splitlines()[-5:]))
        return step

    def presidio(self, data: DatasetInfo, cells: int) -> Step | None:
        """Presidio on a sample of cells, its seconds extrapolated to all string cells of the dataset."""
        measured = self._python(f"Presidio per cell ({cells:,}-cell sample, extrapolated)", data.rows,
                                ["benchmarks.presidio_baseline", str(data.path), "--cells", str(cells),
                                 "--seed", str(self.seed)])
        if measured is None:
            return None
        result = json.loads(measured.last_line)
        step = self.steps[-1]
        step.seconds = result["seconds"] / result["cells"] * data.string_cells
        return step

    def release_policy(self, policy: Path, release: dict, k: int, number: int) -> Path:
        """`policy` with a `release:` block for `k`, written beside the datasets."""
        document = yaml.safe_load(policy.read_text(encoding="utf-8"))
        path = self.data_dir / f"{policy.stem}-release{number}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        block = {**release, "k_anonymity": k, "max_suppressed": 0.02}
        text = yaml.safe_dump({**document, "release": block}, allow_unicode=True)
        path.write_text(text, encoding="utf-8")
        return path

    def _scratch(self) -> Path:
        out = self.data_dir / "_output"
        shutil.rmtree(out, ignore_errors=True)
        return out


def check_ratio(step: Step | None, floor: Step | None, presidio: Step | None, max_x_floor: float) -> None:
    """Fill in a run's target and whether it met it: within `max_x_floor` and >= 100x Presidio."""
    if step is None:
        return
    step.target = f"≤ {max_x_floor:g}x floor, ≥ {X_FASTER_THAN_PRESIDIO:g}x Presidio"
    if step.met or floor is None or presidio is None or step.seconds is None:
        return
    ok = x_floor(step, floor) <= max_x_floor and x_faster(step, presidio) >= X_FASTER_THAN_PRESIDIO
    step.met = "yes" if ok else "no"


def check_x_floor(step: Step | None, floor: Step | None, max_x_floor: float, goal_x_floor: float) -> None:
    """Fill in a run's target and whether it met it: within `max_x_floor` of its floor (the goal is
    `goal_x_floor`). For datasets without a Presidio figure."""
    if step is None:
        return
    step.target = f"≤ {max_x_floor:g}x floor (goal {goal_x_floor:g}x)"
    if step.met or floor is None or step.seconds is None:
        return
    step.met = "yes" if x_floor(step, floor) <= max_x_floor else "no"


def check_scaling(bigger: Step | None, base: Step | None) -> None:
    """Fill in the scaling run's target: `SCALING_FACTOR` times the rows in at most `SCALING_FACTOR` x
    `SCALING_TOLERANCE` times the seconds of `base`."""
    if bigger is None:
        return
    base_rows = bigger.rows // SCALING_FACTOR
    bigger.target = f"≤ {SCALING_FACTOR * SCALING_TOLERANCE:g}x the seconds of {base_rows:,} rows"
    if base is not None and bigger.seconds and base.seconds:
        ratio = bigger.seconds / base.seconds
        bigger.met = bigger.met or ("yes" if ratio <= SCALING_FACTOR * SCALING_TOLERANCE else "no")
        bigger.met += f" ({ratio:.2f}x)"


def x_floor(step: Step, floor: Step) -> float:
    """How many times slower than the floor, compared by throughput (so row counts may differ)."""
    return floor.rows_per_second / step.rows_per_second


def x_faster(step: Step, presidio: Step) -> float:
    return step.rows_per_second / presidio.rows_per_second


def _number(value: float | None, fmt: str) -> str:
    return "—" if value is None else format(value, fmt)


def table(steps: Sequence[Step], floors: Sequence[Step | None], presidio: Step | None) -> str:
    """The Markdown table of all steps; a step's x floor is against the floor of its own dataset, and x
    Presidio only on the dataset Presidio was measured on."""
    by_kind = {floor.kind: floor for floor in floors if floor is not None}

    def ratio(step: Step, base: Step | None, of: Callable[[Step, Step], float]) -> str:
        if (base is None or step.seconds is None or step is base or base.seconds is None
                or base.kind != step.kind):
            return "—"
        return f"{of(step, base):.1f}"

    lines = ["| step | rows | seconds | rows/s | x floor | x faster than Presidio | peak RSS (MiB) | target "
             "| met? |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |"]
    for s in steps:
        cells = [s.name, f"{s.rows:,}", _number(s.seconds, ".1f"), _number(s.rows_per_second, ",.0f"),
                 ratio(s, by_kind.get(s.kind), x_floor), ratio(s, presidio, x_faster),
                 f"{s.peak_rss / MIB:,.0f}", s.target, s.met]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def machine() -> list[str]:
    """Header lines: when, on what, with which versions."""
    versions = []
    for name in PACKAGES:
        try:
            versions.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{name} (not installed)")
    described = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=REPO, capture_output=True,
                               text=True, check=False)
    commit = described.stdout.strip() or "unknown"
    return [
        f"- date: {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}; cnpii commit {commit}",
        f"- machine: {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.1f} GiB RAM, "
        f"{platform.system()} {platform.machine()}",
        f"- Python {platform.python_version()}; " + ", ".join(versions),
    ]


def dataset_line(data: DatasetInfo) -> str:
    return (f"- dataset: sample-data `customers` table (12 columns: resident ID, mobile, bank card, name, "
            f"address, free-text remark, dates, score), {data.rows:,} rows in {data.files} Parquet files, "
            f"{data.bytes_on_disk / MIB:,.0f} MiB on disk, {data.bytes_uncompressed / MIB:,.0f} MiB "
            f"uncompressed, about {data.bytes_in_memory / MIB:,.0f} MiB as Arrow in memory, "
            f"{data.string_cells:,} non-null string cells")


def notes_dataset_line(data: DatasetInfo) -> str:
    """The report line on the notes dataset: its size and how many numbers it holds."""
    figures = loan_notes_figures(data.path)
    personal, contacts = figures["personal_numbers_in_notes"], figures["phones_in_contacts"]
    return (f"- notes dataset: loan-collection notes (benchmarks/dataset.py; note_id, loan_ref, note, "
            f"contacts as JSON text, created_at), {data.rows:,} rows in {data.files} Parquet files, "
            f"{data.bytes_on_disk / MIB:,.0f} MiB on disk, {data.bytes_uncompressed / MIB:,.0f} MiB "
            f"uncompressed, about {data.bytes_in_memory / MIB:,.0f} MiB as Arrow in memory; the notes hold "
            f"{personal:,} resident IDs, phones and bank cards ({personal / data.rows:.2f} a row, 0-4 each) "
            f"and {figures['reference_numbers_in_notes']:,} order and serial numbers, the contact lists "
            f"{contacts:,} phones ({contacts / data.rows:.2f} a row); loan_ref is a unique 18-20 digit "
            f"reference, not personal data")


def notes_steps(bench: Bench, rows: int, scaling: bool) -> tuple[Step | None, list[str]]:
    """The notes rows: their floor, `cnpii run` with the default policy, and 4x the rows if `scaling`;
    returns the notes' floor (None if it failed) and the report's line on the dataset."""
    data = bench.notes_dataset(rows)
    floor = bench.floor(data, label=f" ({NOTES_KIND})")
    run_notes = bench.cnpii("run", DEFAULT_POLICY, data, label=f" ({NOTES_KIND})")
    check_x_floor(run_notes, floor, NOTES_RUN_X_FLOOR, NOTES_RUN_GOAL_X_FLOOR)
    if scaling:
        bigger = bench.notes_dataset(rows * SCALING_FACTOR)
        check_scaling(bench.cnpii("run", DEFAULT_POLICY, bigger, label=f" ({NOTES_KIND})"), run_notes)
    return floor, [notes_dataset_line(data)]


def memory_check(bench: Bench, rows: int, worker_memory: str) -> list[str]:
    """`cnpii run` on a dataset larger than its workers' memory, on a Dask cluster started here."""
    from distributed import LocalCluster

    data = bench.dataset(rows)
    with LocalCluster(n_workers=2, threads_per_worker=1, memory_limit=worker_memory, processes=True,
                      dashboard_address=None) as cluster:
        step = bench.cnpii("run", DEFAULT_POLICY, data, scheduler=cluster.scheduler_address,
                           label=f" on 2 Dask workers × {worker_memory}")
    if step is not None:
        step.target = f"completes with 2 workers × {worker_memory}"
        step.met = step.met or "yes"
    return [dataset_line(data).replace("- dataset:", "- memory check dataset:"),
            "- memory check peak RSS: the cnpii client plus the Dask cluster's nannies and workers"]


def check_release(step: Step | None, without: Step | None) -> None:
    """Fill in the release run's target: at most `RELEASE_OVERHEAD` times the same run without it."""
    if step is None:
        return
    step.target = f"≤ {RELEASE_OVERHEAD:g}x the run without release:"
    if step.met or without is None or step.seconds is None or without.seconds is None:
        return
    ratio = step.seconds / without.seconds
    step.met = f"{'yes' if ratio <= RELEASE_OVERHEAD else 'no'} ({ratio:.2f}x)"


def risk_check(bench: Bench, rows: int, worker_memory: str) -> list[str]:
    """`cnpii risk` on `rows` rows of quasi-identifiers, on a Dask cluster started here."""
    from distributed import LocalCluster

    print(f"… quasi-identifier dataset of {rows:,} rows", file=sys.stderr, flush=True)
    folder = quasi_identifier_dataset(bench.data_dir, rows, bench.rows_per_file, bench.seed)
    with LocalCluster(n_workers=2, threads_per_worker=1, memory_limit=worker_memory, processes=True,
                      dashboard_address=None) as cluster:
        name = f"cnpii risk ({RISK_QUASI_IDENTIFIERS}, people, l) on 2 Dask workers × {worker_memory}"
        measured = bench._python(name, rows, [
            "pipeline.cli", "risk", str(folder), "--quasi-identifiers", RISK_QUASI_IDENTIFIERS, "--person",
            "borrower", "--sensitive", "status", "--scheduler", cluster.scheduler_address])
    step = bench.steps[-1]
    step.target = f"completes with 2 workers × {worker_memory}"
    if measured is not None:
        figures = json.loads(measured.last_line)
        step.met = f"yes ({figures['classes']:,} classes, k = {figures['k']})"
    return [f"- risk dataset: {rows:,} rows of borrower, birth date, gender, county code and loan status "
            f"(benchmarks/dataset.py), {len(list(folder.glob('*.parquet')))} Parquet files"]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the dataset (default 1,000,000)")
    parser.add_argument("--rows-per-file", type=int, default=125_000,
                        help="rows per Parquet file, the unit a cnpii task works on (default 125,000)")
    parser.add_argument("--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "cnpii-bench",
                        help="where generated datasets are cached between runs (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--presidio-cells", type=int, default=20_000,
                        help="cells in the Presidio sample (default 20,000)")
    parser.add_argument("--tokenize-policy", type=Path, default=TOKENIZE_POLICY,
                        help="the tokenize/generalize policy (default configs/analytics_vendor.yaml)")
    parser.add_argument("--notes-rows", type=int, default=1_000_000,
                        help="rows of the loan-notes dataset (default 1,000,000; 0 leaves its rows out)")
    parser.add_argument("--scaling", action="store_true",
                        help=f"also run {SCALING_FACTOR}x the rows, of both datasets")
    parser.add_argument("--memory", action="store_true",
                        help="also run --memory-rows on a 2-worker Dask cluster with --worker-memory each")
    parser.add_argument("--memory-rows", type=int, default=8_000_000)
    parser.add_argument("--worker-memory", default="2GB")
    parser.add_argument("--release-k", type=int, default=5,
                        help="k of the release step's target (default 5; smoke runs on a few rows need less)")
    parser.add_argument("--risk", action="store_true",
                        help="also run `cnpii risk` on --risk-rows, 2 Dask workers with --risk-memory each")
    parser.add_argument("--risk-rows", type=int, default=10_000_000)
    parser.add_argument("--risk-memory", default="512MB")
    parser.add_argument("--results", type=Path, default=RESULTS,
                        help="where the table is written as well (default benchmarks/results/latest.md)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark, print the table, write it to benchmarks/results/latest.md; 1 if a step failed."""
    args = parse_args(argv)
    bench = Bench(args.data_dir, args.rows_per_file, args.seed)
    data = bench.dataset(args.rows)
    floor = bench.floor(data)
    presidio = bench.presidio(data, args.presidio_cells)
    bench.cnpii("scan", DEFAULT_POLICY, data)
    run_default = bench.cnpii("run", DEFAULT_POLICY, data)
    check_ratio(run_default, floor, presidio, DEFAULT_RUN_X_FLOOR)
    run_tokenize = bench.cnpii("run", args.tokenize_policy, data)
    check_ratio(run_tokenize, floor, presidio, TOKENIZE_RUN_X_FLOOR)
    for number, (label, release) in enumerate(RELEASES.items(), start=1):
        policy = bench.release_policy(args.tokenize_policy, release, args.release_k, number)
        released = bench.cnpii("run", policy, data, label=f" (+ release: k={args.release_k}, {label})")
        check_release(released, run_tokenize)
    bench.cnpii("run", DEFAULT_POLICY, data, scheduler="processes", label=" --scheduler processes")
    notes = [dataset_line(data)]
    if args.scaling:
        bigger = bench.dataset(args.rows * SCALING_FACTOR)
        check_scaling(bench.cnpii("run", DEFAULT_POLICY, bigger), run_default)
    floors = [floor]
    if args.notes_rows > 0:
        notes_floor, lines = notes_steps(bench, args.notes_rows, args.scaling)
        floors.append(notes_floor)
        notes += lines
    if args.memory:
        notes += memory_check(bench, args.memory_rows, args.worker_memory)
    if args.risk:
        notes += risk_check(bench, args.risk_rows, args.risk_memory)
    notes += [
        "- floor: pyarrow `read_table` + `write_table` (zstd) file by file in one process (its own threads)",
        "- cnpii: `python -m pipeline.cli scan|run INPUT [OUTPUT] --config POLICY`, the default local "
        "scheduler (a thread pool, one thread per core) unless the step names another; tokenize/generalize "
        f"policy: {args.tokenize_policy.name}",
        "- Presidio: BatchAnalyzerEngine.analyze_iterator + AnonymizerEngine (replace) per cell with cnpii's "
        f"recognizers on {args.presidio_cells:,} cells sampled from all string columns, seconds extrapolated "
        "to all non-null string cells (start-up not counted)",
        "- seconds: wall time of the whole command; peak RSS: sum over its process tree, sampled every 0.1 s",
        "- targets are the issue's, set for 1,000,000 rows; x floor and x Presidio compare rows/s; a "
        f"{NOTES_KIND} step is compared with the {NOTES_KIND} floor, and with Presidio not at all (its "
        "sample is of the customers table)",
    ]
    report = "\n".join(["# cnpii benchmark", "", *machine(), *notes, "",
                        table(bench.steps, floors, presidio), ""])
    print(report)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(report, encoding="utf-8")
    for failure in bench.failures:
        print(f"FAILED {failure}", file=sys.stderr)
    return 1 if bench.failures else 0


if __name__ == "__main__":
    sys.exit(main())
