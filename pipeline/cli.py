"""The `cnpii` command line.

Exit codes: 0 ok; 1 the data failed a check (status `leak`, `incomplete` or `risk`, a quality floor
missed); 2 usage or policy error; 3 runtime error (`pipeline.errors.describe` maps every error to one).
Logs go to stderr. `scan`, `run` and `verify` print a
one-line JSON summary as the last stdout line (and to `--summary-path`, e.g. Airflow's
/airflow/xcom/return.json); `detect` writes JSON Lines.

The pipeline modules are imported inside the handlers: they bring in Dask (over a second of start-up),
which `cnpii detect` and `--help` should not pay.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import logging
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from pipeline.errors import EXIT_DATA_CHECK, EXIT_OK, EXIT_RUNTIME, EXIT_USAGE, describe, failed_check
from recognizers import DEFAULT_THRESHOLD, ENTITIES, detect

__all__ = ["EXIT_DATA_CHECK", "EXIT_OK", "EXIT_RUNTIME", "EXIT_USAGE", "build_parser", "main", "run_detect"]

# Sub-commands that parse their own arguments: the rest of the command line is handed over as it is.
DELEGATED = {
    "eval": ("recognizers.evaluation", "precision / recall / F1 per type on labeled corpora"),
    "sample-data": ("pipeline.sample_data", "write synthetic Chinese financial Parquet tables"),
    "detokenize": (
        "pipeline.detokenize",
        "turn reversible tokens back into values (authorised re-identification)",
    ),
}

log = logging.getLogger("cnpii")


def _entity_list(value: str) -> list[str]:
    names = [v.strip() for v in value.split(",") if v.strip()]
    unknown = sorted(set(names) - set(ENTITIES))
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown entities {unknown}; choose from {list(ENTITIES)}")
    return names


def _storage_options(value: str) -> dict[str, Any]:
    try:
        options = json.loads(value)
    except json.JSONDecodeError:
        raise argparse.ArgumentTypeError("--storage-options takes a JSON object") from None
    if not isinstance(options, dict):
        raise argparse.ArgumentTypeError("--storage-options takes a JSON object")
    return options


def _column_list(value: str) -> list[str]:
    names = [v.strip() for v in value.split(",") if v.strip()]
    if not names:
        raise argparse.ArgumentTypeError("name at least one column")
    return names


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, not {value!r}")
    return number


def _scheduler(value: str) -> str:
    from pipeline.execution import local_scheduler

    try:
        local_scheduler(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return value


def run_detect(args: argparse.Namespace) -> int:
    """JSON Lines in, the same objects out with an `entities` list added (spans index `text`)."""
    for number, line in enumerate(sys.stdin, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            text = record["text"] if isinstance(record, dict) else None
        except (json.JSONDecodeError, KeyError):
            text = None
        if not isinstance(text, str):
            print(
                f'cnpii detect: stdin line {number}: expected a JSON object with a string "text" field',
                file=sys.stderr,
            )
            return EXIT_USAGE
        found = detect(text, args.entities, column=args.column, threshold=args.threshold)
        record["entities"] = [
            {"type": f.entity, "start": f.start, "end": f.end, "score": round(f.score, 4)} for f in found
        ]
        sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
        sys.stdout.flush()
    return EXIT_OK


def _pipeline_command(function: Callable[..., Any]) -> Callable[[argparse.Namespace], int]:
    """Run a pipeline API call and turn its outcome into a summary line and an exit code."""

    def handler(args: argparse.Namespace) -> int:
        from pipeline import api

        summary = function(api, args)
        line = json.dumps(summary.to_dict(), ensure_ascii=False)
        if args.summary_path:
            Path(args.summary_path).write_text(line + "\n", encoding="utf-8")
        print(line)
        failed = failed_check(args.command, summary)
        return EXIT_OK if failed is None else describe(failed).exit_code

    return handler


def _common(parser: argparse.ArgumentParser, policy: bool = True) -> None:
    if policy:
        parser.add_argument(
            "--config", metavar="POLICY", help="policy YAML (default: the fail-closed default policy)"
        )
    parser.add_argument(
        "--storage-options",
        type=_storage_options,
        default=None,
        metavar="JSON",
        help="fsspec storage options, e.g. '{\"anon\": false}' (credentials: use the environment)",
    )
    parser.add_argument(
        "--scheduler",
        type=_scheduler,
        metavar="WHERE",
        help="threads (default: a local thread pool, one thread per core), processes (a local process "
        "pool: its workers share no interpreter lock, but each starts and imports cnpii first), or the "
        "address of a dask.distributed scheduler, e.g. tcp://10.0.0.5:8786",
    )
    parser.add_argument(
        "--report", metavar="PATH", help="write the JSON report here and a Markdown rendering beside it; a "
        "PATH ending in .html gets a self-contained HTML page for the compliance file, the JSON beside it"
    )
    parser.add_argument(
        "--summary-path", metavar="PATH", help="also write the JSON summary line to this file"
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every sub-command."""
    parser = argparse.ArgumentParser(
        prog="cnpii",
        allow_abbrev=False,  # `risk --l` is its own option, not an abbreviation of --log-level
        description="Find Chinese personal information (resident IDs, phones, bank cards, names, "
        "addresses) in Parquet exports and de-identify it before sharing. Exit codes: 0 ok, 1 data failed "
        "a check (status leak, incomplete or risk), 2 usage or policy error, 3 runtime error (a later try "
        "may succeed).",
    )
    parser.add_argument("--log-format", choices=("text", "json"), default="text", help="stderr log format")
    parser.add_argument("--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    det = commands.add_parser(
        "detect",
        help="detect entities in JSON Lines text from stdin",
        description='Read JSON Lines with a "text" field on stdin; write each object back with an added '
        '"entities" list of {type, start, end, score} (Python string indices into text).',
    )
    det.add_argument(
        "--entities", type=_entity_list, default=None, help="comma-separated types (default: all)"
    )
    det.add_argument(
        "--threshold", type=float, default=DEFAULT_THRESHOLD, help="minimum score (default %(default)s)"
    )
    det.add_argument(
        "--column", default=None, help="treat the text as values of this column (its name is context)"
    )
    det.set_defaults(handler=run_detect)

    scan = commands.add_parser(
        "scan",
        help="discover which columns hold which entities (writes nothing but the report)",
        description="Per column: entities found, rows and share of non-null rows, whole-value or free text, "
        "confidence with its evidence, display-masked examples. Never raw values.",
    )
    scan.add_argument(
        "input", metavar="INPUT", help="Parquet file, folder or hive dataset (path or fsspec URL)"
    )
    _common(scan)
    scan.set_defaults(
        handler=_pipeline_command(
            lambda api, a: api.scan(
                a.input, a.config, storage_options=a.storage_options, scheduler=a.scheduler, report=a.report
            )
        )
    )

    run = commands.add_parser(
        "run",
        help="de-identify INPUT into OUTPUT by a policy, verify, then commit",
        description="Transform into a staging area inside OUTPUT, report a number the run found anywhere "
        "wherever else it left it (known values: the files holding one are transformed again), re-scan "
        "the staged files, and commit (manifest, then _SUCCESS last) only if no personal data remains "
        "where the policy forbids it and every input row and file was written. Exit 1 when a check fails, "
        "with status leak (personal data left), incomplete (the output's rows or files do not match the "
        "input's) or risk (the release target was not met): nothing is committed and a previous output is "
        "left as it was.",
    )
    run.add_argument("input", metavar="INPUT")
    run.add_argument("output", metavar="OUTPUT")
    _common(run)
    run.add_argument(
        "--mode",
        choices=("error", "overwrite"),
        default="error",
        help="when OUTPUT already holds a committed result (default: error)",
    )
    run.add_argument(
        "--accept-cnpii-output",
        action="store_true",
        help="de-identify INPUT even if it is a cnpii output (a manifest, or tokens in its values); by "
        "default it is refused, since its tokens would be tokenized again",
    )
    run.set_defaults(
        handler=_pipeline_command(
            lambda api, a: api.run(
                a.input,
                a.output,
                a.config,
                storage_options=a.storage_options,
                scheduler=a.scheduler,
                mode=a.mode,
                report=a.report,
                accept_cnpii_output=a.accept_cnpii_output,
            )
        )
    )

    ver = commands.add_parser(
        "verify",
        help="re-scan a de-identified dataset; exit 1 if personal data remains",
        description="Values already masked (138****5678) are not leaks; entities the policy keeps "
        "are allowed (counted as allowed_residuals). The re-scan runs at the fail-closed defaults whatever "
        "the policy sets for detection. Without --config, a cnpii output is verified by the policy its "
        "run recorded in _MANIFEST.json.",
    )
    ver.add_argument("output", metavar="OUTPUT")
    _common(ver)
    ver.set_defaults(
        handler=_pipeline_command(
            lambda api, a: api.verify(
                a.output, a.config, storage_options=a.storage_options, scheduler=a.scheduler, report=a.report
            )
        )
    )

    risk = commands.add_parser(
        "risk",
        help="measure the re-identification risk of any dataset (k-anonymity, l-diversity)",
        description="Classes of records sharing their quasi-identifier values; rows with a null "
        "quasi-identifier are left out. The last stdout line is JSON with k (smallest class), l (with "
        "--sensitive), classes, uniques, records_at_risk (risk above 1/k, k=5 without --k), max_risk and "
        "avg_risk (prosecutor risk). Exit 1 when --k or --l is given and not met.",
    )
    risk.add_argument("dataset", metavar="DATASET", help="Parquet file, folder or hive dataset (path or URL)")
    risk.add_argument("--quasi-identifiers", required=True, type=_column_list, metavar="A,B,C",
                      help="comma-separated columns an outsider may know")
    risk.add_argument("--person", metavar="COL", help="count distinct people of this column, not rows")
    risk.add_argument("--sensitive", metavar="COL", help="measure l-diversity of this column")
    risk.add_argument("--k", type=_positive, metavar="K", help="exit 1 when the smallest class is below K")
    risk.add_argument("--l", type=_positive, metavar="L", help="exit 1 when a class has fewer than L "
                      "distinct sensitive values (needs --sensitive)")
    _common(risk, policy=False)
    risk.set_defaults(
        handler=_pipeline_command(
            lambda api, a: api.risk(
                a.dataset, a.quasi_identifiers, person=a.person, sensitive=a.sensitive, k=a.k, l=a.l,
                storage_options=a.storage_options, scheduler=a.scheduler, report=a.report,
            )
        )
    )

    for name, (_, text) in DELEGATED.items():
        commands.add_parser(name, help=f"{text} (see `cnpii {name} --help`)", add_help=False)
    return parser


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(
            {
                "time": self.formatTime(record),
                "level": record.levelname,
                "logger": record.name,
                "message": record.getMessage(),
            },
            ensure_ascii=False,
        )


def _configure_logging(fmt: str, level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        _JsonFormatter() if fmt == "json" else logging.Formatter("%(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger("cnpii")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


def _report_error(error: Exception) -> int:
    """Log an error in one message and return its exit code, both as `errors.describe` maps them: cnpii's
    own errors and infrastructure errors are shown as they are; anything else may quote data (pyarrow
    does), so only its type is logged, and its stack frames at DEBUG."""
    failure = describe(error, where_to_look="--log-level DEBUG shows where")
    log.error("%s", failure.message)  # a key error names where the key was looked for (on a worker too)
    if not failure.shown:
        log.debug("%s", "".join(traceback.format_tb(error.__traceback__)))
    return failure.exit_code


EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143  # 128 + SIGINT, 128 + SIGTERM, as shells report them
_UNWOUND = ("the run's staged files were removed; an output is committed only if its _SUCCESS was written "
            "before")


class Terminated(BaseException):
    """SIGTERM arrived (a scheduler stopping the task): unwinds like Ctrl-C, so staging is removed."""


def _terminate(signum: int, frame: Any) -> None:
    raise Terminated


@contextlib.contextmanager
def _sigterm_unwinds() -> Iterator[None]:
    """SIGTERM raises `Terminated` while a command runs (in the main thread only, where Python can)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _quiet_closed_pipe() -> int:
    """`cnpii detect | head -1`: the reader is gone, so the rest of the output is dropped without a word
    (stdout is pointed at /dev/null so that Python's own flush at exit does not complain either)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `cnpii` console script; returns the exit code. Ctrl-C exits 130 and SIGTERM
    143 with one line on stderr, after the command removed what it had staged."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        with _sigterm_unwinds():
            return _dispatch(argv)
    except KeyboardInterrupt:
        print(f"cnpii: interrupted; {_UNWOUND}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Terminated:
        print(f"cnpii: terminated; {_UNWOUND}", file=sys.stderr)
        return EXIT_TERMINATED
    except BrokenPipeError:
        return _quiet_closed_pipe()


def _dispatch(argv: list[str]) -> int:
    if argv and argv[0] in DELEGATED:
        return importlib.import_module(DELEGATED[argv[0]][0]).main(argv[1:])
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return EXIT_OK if exit_.code == 0 else EXIT_USAGE
    _configure_logging(args.log_format, args.log_level)
    try:
        return args.handler(args)
    except BrokenPipeError:
        raise
    except Exception as error:
        return _report_error(error)


if __name__ == "__main__":
    sys.exit(main())
