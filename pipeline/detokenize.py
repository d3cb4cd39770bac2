"""`cnpii detokenize`: turn reversible tokens back into values, for authorised re-identification.

Reads one token per line on stdin and writes one value per line on stdout, in the same order (an empty
line stays empty, a line that fails stays empty), so the output can be pasted next to the input. The key
comes from an environment variable (default CNPII_KEY) or a file, never from the command line. Because
stdout carries the values, the audit line (how many tokens were re-identified, with which key
fingerprint) and the errors go to stderr; an error names the line number, never the token.

Exit codes: 0 every token turned back; 1 a token failed (malformed, tampered with, or another key);
2 usage or key error.
"""

from __future__ import annotations

import argparse
import sys

from pipeline.actions.tokenize import TokenError, detokenize
from pipeline.keys import DEFAULT_KEY_ENV, KeyMaterialError, Keyring, KeySource


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cnpii detokenize",
        description="Turn reversible tokens (tokenize format: reversible, CNRV_…) back into values. "
        "Input: one token per line on stdin. Output: one value per line on stdout, same order; "
        "a blank or failed line gives a blank line. Audit line and errors on stderr.",
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--key-env", metavar="NAME", default=DEFAULT_KEY_ENV,
                        help="environment variable holding the key (default %(default)s)")
    source.add_argument("--key-file", metavar="PATH", help="file holding the key")
    return parser


def main(argv: list[str]) -> int:
    """Run `cnpii detokenize`; returns the exit code."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exit_:
        return 0 if exit_.code in (0, None) else 2
    source = KeySource(file=args.key_file) if args.key_file else KeySource(env=args.key_env)
    try:
        keyring = Keyring.load(source)
    except KeyMaterialError as error:
        print(f"cnpii detokenize: {error}", file=sys.stderr)
        return 2
    turned, failed = 0, 0
    for number, line in enumerate(sys.stdin, start=1):
        value = ""
        if line.strip():
            try:
                value = detokenize(line, keyring)
                turned += 1
            except TokenError as error:
                failed += 1
                print(f"cnpii detokenize: line {number}: {error}", file=sys.stderr)
        sys.stdout.write(value + "\n")
    print(f"cnpii detokenize: re-identified {turned} tokens with key fingerprint {keyring.fingerprint} "
          f"({source.describe()}); {failed} failed", file=sys.stderr)
    return 1 if failed else 0
