"""`detect`: find every registered entity in one string — the engine on one value.

Presidio recognizers, `cnpii detect` and the Parquet pipeline all go through `recognizers.engine`, so
they report the same spans; this function turns the engine's byte offsets into string indices.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pyarrow as pa

from recognizers import engine
from recognizers.context import DEFAULT_THRESHOLD, Context
from recognizers.findings import Finding
from recognizers.registry import ENTITIES, column_context

__all__ = ["ENTITIES", "column_context", "detect", "detect_many"]


def detect(
    text: str,
    entities: Iterable[str] | None = None,
    *,
    column: str | None = None,
    threshold: float = DEFAULT_THRESHOLD,
) -> list[Finding]:
    """Findings in `text` scoring at least `threshold`, in order of position.

    `column` is the name of the column the text came from: a name such as `sjhm` or `联系电话` counts as
    context for every value in it. `entities` limits what is returned; all entities are still resolved
    against each other, so asking for cards alone never reports an ID as a card.
    """
    return detect_many([text], entities, column=column, threshold=threshold)[0]


def detect_many(
    texts: Sequence[str],
    entities: Iterable[str] | None = None,
    *,
    column: str | None = None,
    threshold: float = DEFAULT_THRESHOLD,
) -> list[list[Finding]]:
    """`detect` for many texts in one engine call (a call has a fixed cost of a few milliseconds)."""
    found = engine.find(pa.array(texts, pa.string()), entities, column, threshold)
    findings: list[list[Finding]] = [[] for _ in texts]
    values = found.value.to_pylist()
    encoded: dict[int, bytes] = {}
    for i, row in enumerate(found.row.tolist()):
        data = encoded.setdefault(row, texts[row].encode())
        start = len(data[: found.start[i]].decode())
        end = start + len(data[found.start[i] : found.end[i]].decode())
        context = Context(int(found.context[i]))
        evidence = ("validated" if found.validated[i] else "plausible",) + (
            () if context is Context.NONE else (f"context_{context.name.lower()}",)
        )
        findings[row].append(Finding(str(found.entity[i]), start, end, float(found.score[i]), values[i],
                                     str(found.subtype[i]), evidence))
    return findings
