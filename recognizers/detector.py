"""`detect`: find every resident ID, phone and bank card in one string.

One pass per entity over a folded shadow of the text, context scoring, then overlap resolution across
entities: an 18-digit number can be both a Gansu (62…) ID and a UnionPay (62…) card; the higher score
wins, and on a tie the more specific check (ID checksum + date, then phone segment) wins. Presidio
recognizers and the Parquet pipeline both call this function, so both report the same spans.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from recognizers import bank_card, phone, resident_id
from recognizers.context import DEFAULT_THRESHOLD, Context, column_supports, context_before, score
from recognizers.findings import Finding
from recognizers.text import fold

FORMATS = (resident_id, phone, bank_card)
"""The entity modules, most specific check first (the tie-break order)."""

ENTITIES: tuple[str, ...] = tuple(module.ENTITY for module in FORMATS)


@functools.lru_cache(maxsize=4096)
def column_context(column: str | None) -> frozenset[str]:
    """Entities a column name is evidence for (cached: a column's values all share its name)."""
    return frozenset(m.ENTITY for m in FORMATS if column_supports(column, m.COLUMN_HINTS))


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
    wanted = set(ENTITIES if entities is None else entities)
    folded = fold(text)
    scored = []
    supported = column_context(column)
    for rank, module in enumerate(FORMATS):
        named = module.ENTITY in supported
        for candidate in module.find(folded):
            context = (
                Context.FOR
                if named
                else context_before(folded.text, candidate.start, module.CONTEXT)
            )
            scored.append((score(candidate.strength, context), -rank, candidate, context))
    kept: list[Finding] = []
    taken: list[tuple[int, int]] = []
    # Highest score first; on a tie the longer span (a card is not a phone inside it), then the rank.
    for value, _, candidate, context in sorted(
        scored, key=lambda s: (s[0], s[2].end - s[2].start, s[1]), reverse=True
    ):
        if value < threshold or any(candidate.start < end and start < candidate.end for start, end in taken):
            continue
        taken.append((candidate.start, candidate.end))
        if candidate.entity in wanted:
            start, end = folded.span(candidate.start, candidate.end)
            evidence = (candidate.strength.name.lower(),) + (
                () if context is Context.NONE else (f"context_{context.name.lower()}",)
            )
            kept.append(
                Finding(candidate.entity, start, end, value, candidate.value, candidate.subtype, evidence)
            )
    return sorted(kept, key=lambda f: f.start)
