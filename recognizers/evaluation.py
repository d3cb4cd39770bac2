"""`cnpii eval`: precision, recall and F1 per entity type of `detect` on labeled corpora.

A corpus is JSON Lines (`{"id", "text", "entities": [{"type", "start", "end", "core_start", "core_end"}]}`,
the format of tests/corpora/*.jsonl) or a JSON list in the format of
tricky_cases.json (entities without `core_*`: a phone's core is its span without the country prefix).

Match rule (that of the shared evaluation set, tests/corpora/shared_dev.jsonl): a prediction matches a gold
entity of the same type when the digits it covers include every digit of the gold core and no digit outside
the gold span; separators, brackets and `+` do not count either way (the check character `X` counts as a
digit). Each gold entity and each prediction matches at most once. A prediction that matches nothing but
overlaps an `IGNORE` span counts neither way. Labels of other types (`CN_USCC`, `QQ`… in
tricky_cases.json, whose `CN_NAME` is read as `CN_PERSON_NAME`) are not scored: they are not gold for any
core type, so a core prediction on them is a false positive (a bank card reported on a credit code, or a
phone on a QQ number, is a type error, not a debatable label).

Names and addresses (`CN_PERSON_NAME`, `CN_ADDRESS`) have no digits to count: a prediction matches when
it overlaps the gold span by at least 80% of the gold's characters and 80% of its own (so `张伟` for
`张伟东` is a miss, and an address missing its room number still counts). They are scored only on
corpora that label them at least once, since the corpora of numbers leave names in their text unlabeled.

>>> report = evaluate([Record("1", "手机+86 13800138000", (Gold("CN_PHONE", 2, 17, 6, 17),))])
>>> report.scores["CN_PHONE"].recall, report.scores["CN_PHONE"].precision
(1.0, 1.0)
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

from recognizers.context import DEFAULT_THRESHOLD
from recognizers.detector import ENTITIES, detect_many
from recognizers.registry import REGISTRY

IGNORE = "IGNORE"
TEXT_ENTITIES = frozenset(name for name, spec in REGISTRY.items() if spec.is_text)
"""Names and addresses: scored by the characters they cover, and only on corpora that label them."""
ALIASES = {"CN_NAME": "CN_PERSON_NAME"}
"""Other corpora's names for the registered types (tricky_cases.json calls names `CN_NAME`)."""
COVERAGE = 0.8
"""A text entity's prediction matches a gold span of its type when their overlap is at least this share
of the gold span's characters and of the prediction's own."""
_COUNTRY_PREFIX = re.compile(r"\(?[+＋]?(?:0086|86)\)?[ -]?")


@dataclass(frozen=True, slots=True)
class Gold:
    """A labeled span; `core_start`/`core_end` is the part a detector must cover."""

    type: str
    start: int
    end: int
    core_start: int
    core_end: int


@dataclass(frozen=True, slots=True)
class Record:
    """One labeled text."""

    id: str
    text: str
    entities: tuple[Gold, ...]


@dataclass(frozen=True, slots=True)
class Miss:
    """A false negative (gold not matched) or false positive (prediction not matched)."""

    kind: str
    record_id: str
    type: str
    start: int
    end: int


@dataclass(slots=True)
class TypeScore:
    """Counts for one entity type: matched predictions of all predictions, matched gold of all gold."""

    type: str
    predictions: int = 0
    correct_predictions: int = 0
    gold: int = 0
    found_gold: int = 0

    @property
    def precision(self) -> float:
        return self.correct_predictions / self.predictions if self.predictions else 1.0

    @property
    def recall(self) -> float:
        return self.found_gold / self.gold if self.gold else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def to_dict(self) -> dict[str, float | int]:
        return {
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "support": self.gold,
            "predictions": self.predictions,
        }


@dataclass(slots=True)
class Report:
    """Scores per entity type and every miss, in corpus order."""

    scores: dict[str, TypeScore]
    misses: list[Miss] = field(default_factory=list)

    def failures(self, min_precision: float, min_recall: float) -> list[str]:
        """Types below a floor, as readable sentences (counts only, never text)."""
        return [
            f"{s.type}: precision {s.precision:.4f} < {min_precision} or recall {s.recall:.4f} < {min_recall}"
            for s in self.scores.values()
            if s.precision < min_precision or s.recall < min_recall
        ]


class CorpusError(ValueError):
    """A corpus that cannot be read: the message names the file, line and reason, never the text."""


def _significant(text: str, start: int, end: int) -> frozenset[int]:
    """Positions of digits (ASCII or full-width) and check characters in text[start:end]."""
    return frozenset(i for i in range(start, end) if text[i].isdecimal() or text[i] in "Xx")


def _matches(text: str, gold: Gold, start: int, end: int, coverage: float) -> bool:
    if gold.type in TEXT_ENTITIES:
        shared = min(end, gold.core_end) - max(start, gold.core_start)
        least = coverage * max(gold.core_end - gold.core_start, end - start)
        return shared > 0 and shared >= least
    covered = _significant(text, start, end)
    return (
        _significant(text, gold.core_start, gold.core_end)
        <= covered
        <= _significant(text, gold.start, gold.end)
    )


class Span(Protocol):
    """A prediction: what `score` needs of a finding (`recognizers.findings.Finding` is one)."""

    entity: str
    start: int
    end: int


def evaluate(
    records: Iterable[Record], entities: Sequence[str] = ENTITIES, threshold: float = DEFAULT_THRESHOLD
) -> Report:
    """Run `detect` on every record (one engine call for all) and `score` its findings."""
    records = list(records)
    entities = _scored(records, entities)
    return score(records, detect_many([record.text for record in records], entities, threshold=threshold),
                 entities)


def _scored(records: Sequence[Record], entities: Sequence[str]) -> list[str]:
    """`entities` less the text entities that no record labels."""
    labelled = {g.type for record in records for g in record.entities}
    return [e for e in entities if e not in TEXT_ENTITIES or e in labelled]


def score(records: Sequence[Record], found: Iterable[Iterable[Span]], entities: Sequence[str] = ENTITIES,
          coverage: float = COVERAGE) -> Report:
    """Score predictions (one list per record, from cnpii or any other tool) against the gold entities of
    `entities`; names and addresses match by `coverage` (0: any shared character)."""
    report = Report({e: TypeScore(e) for e in _scored(records, entities)})
    for record, findings in zip(records, found, strict=True):
        gold = [g for g in record.entities if g.type in report.scores]
        ignored = [g for g in record.entities if g.type == IGNORE]
        unmatched = list(gold)
        for finding in findings:
            if finding.entity not in report.scores:
                continue
            type_score = report.scores[finding.entity]
            hit = next(
                (
                    g
                    for g in unmatched
                    if g.type == finding.entity
                    and _matches(record.text, g, finding.start, finding.end, coverage)
                ),
                None,
            )
            if hit is not None:
                unmatched.remove(hit)
                type_score.predictions += 1
                type_score.correct_predictions += 1
            elif not any(finding.start < g.end and g.start < finding.end for g in ignored):
                type_score.predictions += 1
                report.misses.append(
                    Miss("false_positive", record.id, finding.entity, finding.start, finding.end)
                )
        for g in gold:
            report.scores[g.type].gold += 1
            if g in unmatched:
                report.misses.append(Miss("false_negative", record.id, g.type, g.start, g.end))
            else:
                report.scores[g.type].found_gold += 1
    return report


def _gold(entity: object, text: str) -> Gold:
    if not isinstance(entity, dict):
        raise ValueError("an entity is not a JSON object")
    kind, start, end = entity.get("type"), entity.get("start"), entity.get("end")
    kind = ALIASES.get(kind, kind) if isinstance(kind, str) else kind
    if not isinstance(kind, str) or not isinstance(start, int) or not isinstance(end, int):
        raise ValueError('an entity lacks a string "type" or integer "start"/"end"')
    core_start, core_end = entity.get("core_start", start), entity.get("core_end", end)
    if "core_start" not in entity and kind == "CN_PHONE":
        prefix = _COUNTRY_PREFIX.match(text, start, end)
        core_start = prefix.end() if prefix and prefix.end() < end else start
    if not (
        isinstance(core_start, int)
        and isinstance(core_end, int)
        and 0 <= start <= core_start < core_end <= end <= len(text)
    ):
        raise ValueError("an entity span is outside the text or its core is outside the span")
    return Gold(kind, start, end, core_start, core_end)


def _record(obj: object, fallback_id: int) -> Record:
    if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
        raise ValueError('expected a JSON object with a string "text"')
    entities = obj.get("entities", [])
    if not isinstance(entities, list):
        raise ValueError('"entities" is not a list')
    text = obj["text"]
    return Record(str(obj.get("id", fallback_id)), text, tuple(_gold(e, text) for e in entities))


def load(path: str | Path) -> list[Record]:
    """Read a JSON Lines corpus or a JSON list of records; raise `CorpusError` naming file and line."""
    path = Path(path)
    try:
        content = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not UTF-8"
        raise CorpusError(f"{path}: cannot read: {reason}") from None
    if content.lstrip().startswith("["):
        try:
            items = json.loads(content)
        except json.JSONDecodeError as error:
            raise CorpusError(f"{path}: line {error.lineno}: {error.msg}") from None
        records = []
        for index, obj in enumerate(items):
            try:
                records.append(_record(obj, index))
            except ValueError as error:
                raise CorpusError(f"{path}: item {index}: {error}") from None
        return records
    records = []
    for number, line in enumerate(content.splitlines(), start=1):
        if line.strip():
            try:
                records.append(_record(json.loads(line), number))
            except ValueError as error:
                # A JSONDecodeError's `msg` names the problem without quoting the input.
                reason = error.msg if isinstance(error, json.JSONDecodeError) else str(error)
                raise CorpusError(f"{path}: line {number}: {reason}") from None
    return records


def _table(name: str, report: Report) -> str:
    rows = [
        f"{name}",
        f"  {'type':<16}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>9}{'predicted':>11}",
    ]
    for s in report.scores.values():
        rows.append(
            f"  {s.type:<16}{s.precision:>10.4f}{s.recall:>10.4f}{s.f1:>10.4f}{s.gold:>9}{s.predictions:>11}"
        )
    return "\n".join(rows)


def _miss_line(miss: Miss, text: str) -> str:
    return f"    {miss.kind:<15} id={miss.record_id} {miss.type} [{miss.start}:{miss.end}] {text!r}"


def main(argv: list[str]) -> int:
    """`cnpii eval CORPUS [CORPUS ...]`: a table per corpus; exit 1 when a floor is missed, 2 on bad input."""
    parser = argparse.ArgumentParser(
        prog="cnpii eval",
        description="Score the recognizers on labeled corpora (JSON Lines with core spans, or a JSON list "
        "as in tricky_cases.json): precision, recall, F1 and support per type, one table per corpus. "
        "Exit codes: 0 ok, 1 a --min floor missed, 2 bad arguments or an unreadable corpus.",
    )
    parser.add_argument("corpora", nargs="+", metavar="CORPUS", help="labeled corpus file(s)")
    parser.add_argument(
        "--entities",
        nargs="+",
        choices=ENTITIES,
        default=list(ENTITIES),
        metavar="TYPE",
        help=f"types to score (default: all of {', '.join(ENTITIES)})",
    )
    parser.add_argument(
        "--threshold",
        type=float,
        default=DEFAULT_THRESHOLD,
        help=f"minimum finding score (default {DEFAULT_THRESHOLD})",
    )
    parser.add_argument(
        "--misses",
        type=int,
        default=0,
        metavar="N",
        help="list up to N misses per corpus WITH THEIR TEXT (default 0). Only for synthetic "
        "corpora: the text printed is the labeled data itself",
    )
    parser.add_argument("--min-precision", type=float, default=0.0, metavar="P", help="floor per type")
    parser.add_argument("--min-recall", type=float, default=0.0, metavar="R", help="floor per type")
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object per corpus instead of tables"
    )
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return 0 if exit_.code == 0 else 2
    try:
        corpora = {name: load(name) for name in args.corpora}
    except CorpusError as error:
        print(f"cnpii eval: {error}", file=sys.stderr)
        return 2
    failed = False
    for name, records in corpora.items():
        report = evaluate(records, args.entities, args.threshold)
        failures = report.failures(args.min_precision, args.min_recall)
        failed = failed or bool(failures)
        texts = {r.id: r.text for r in records}
        shown = report.misses[: max(args.misses, 0)]
        if args.json:
            summary = {
                "corpus": name,
                "records": len(records),
                "passed": not failures,
                "types": {t: s.to_dict() for t, s in report.scores.items()},
            }
            if shown:
                summary["misses"] = [
                    {**asdict(m), "text": texts[m.record_id][m.start : m.end]} for m in shown
                ]
            print(json.dumps(summary, ensure_ascii=False))
            continue
        print(_table(f"{name} ({len(records)} records)", report))
        if shown:
            print(f"  misses ({len(shown)} of {len(report.misses)}):")
            print("\n".join(_miss_line(m, texts[m.record_id][m.start : m.end]) for m in shown))
        for sentence in failures:
            print(f"  below floor: {sentence}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
