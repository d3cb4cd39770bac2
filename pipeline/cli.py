"""The `cnpii` command line.

Exit codes: 0 ok; 1 the data failed a check (residual PII, verify failed, a quality floor missed);
2 usage or policy error; 3 runtime error. Logs go to stderr; stdout carries the command's output.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from recognizers import DEFAULT_THRESHOLD, ENTITIES, detect

EXIT_OK, EXIT_DATA_CHECK, EXIT_USAGE, EXIT_RUNTIME = 0, 1, 2, 3


def _entity_list(value: str) -> list[str]:
    names = [v.strip() for v in value.split(",") if v.strip()]
    unknown = sorted(set(names) - set(ENTITIES))
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown entities {unknown}; choose from {list(ENTITIES)}")
    return names


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


def _delegate(module: str):
    """Sub-commands with their own argparse: hand them the rest of the command line."""

    def run(args: argparse.Namespace) -> int:
        import importlib

        return importlib.import_module(module).main(args.rest)

    return run


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every sub-command."""
    parser = argparse.ArgumentParser(
        prog="cnpii",
        description="Find Chinese personal information (resident IDs, phones, bank cards) in Parquet "
        "exports and de-identify it before sharing.",
    )
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

    for name, module, text in (
        (
            "eval",
            "recognizers.evaluation",
            "precision/recall/F1 per type on labeled corpora (see `cnpii eval -h`)",
        ),
        ("sample-data", "pipeline.sample_data", "write synthetic Chinese financial Parquet tables"),
    ):
        sub = commands.add_parser(name, help=text, add_help=False)
        sub.add_argument("rest", nargs=argparse.REMAINDER)
        sub.set_defaults(handler=_delegate(module))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `cnpii` console script; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return EXIT_OK if exit_.code == 0 else EXIT_USAGE
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
