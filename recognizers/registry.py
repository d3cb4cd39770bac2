"""The entity registry: every entity cnpii knows, declared once.

An `EntitySpec` gathers what the engine, the pipeline, the actions, the report and the Presidio adapter
need to know about an entity; each fact lives in the entity's own format module and is only referred to
here. Adding an entity is one module and one entry in `REGISTRY`. The order of `REGISTRY` is the
tie-break order of the engine: the most specific check first.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import ModuleType

from recognizers import bank_card, phone, resident_id
from recognizers.context import column_supports
from recognizers.layouts import Layout, MaskLayout


@dataclass(frozen=True)
class EntitySpec:
    """One entity: its name, how it is found, and what the actions need to handle it."""

    name: str
    module: ModuleType
    """The format module: scalar checks in python-stdnum's vocabulary (`compact`, `validate`, …)."""
    layouts: tuple[Layout, ...]
    context: tuple[str, ...]
    """Words that, right before a number, support it (`手机`, `卡号`)."""
    column_hints: Mapping[str, tuple[str, ...]]
    """Column-name words that support every value in the column (see `context.column_supports`)."""
    token_code: str
    """Two letters in token prefixes (`CNPH_`): a token tells its entity, never its column."""
    mask_keep: tuple[int, int] | None
    """The most of each end `mask` may show (`keep_first`, `keep_last`); None: a mask hides the whole span."""
    mask_layout: Callable[[str], MaskLayout | None] | None
    """What a mask shows of a normalized number by default; None: the whole span is masked."""


def _spec(module: ModuleType, token_code: str) -> EntitySpec:
    return EntitySpec(module.ENTITY, module, module.LAYOUTS, module.CONTEXT, module.COLUMN_HINTS, token_code,
                      getattr(module, "MASK_KEEP", None), getattr(module, "mask_layout", None))


REGISTRY: dict[str, EntitySpec] = {
    spec.name: spec
    for spec in (_spec(resident_id, "ID"), _spec(phone, "PH"), _spec(bank_card, "BC"))
}
ENTITIES: tuple[str, ...] = tuple(REGISTRY)


def spec(entity: str) -> EntitySpec:
    """The spec of a registered entity; KeyError names the unknown one."""
    try:
        return REGISTRY[entity]
    except KeyError:
        raise KeyError(f"unknown entity {entity!r}; known: {', '.join(ENTITIES)}") from None


@functools.lru_cache(maxsize=4096)
def column_context(column: str | None) -> frozenset[str]:
    """Entities a column name is evidence for (cached: a column's values all share its name)."""
    return frozenset(s.name for s in REGISTRY.values() if column_supports(column, s.column_hints))
