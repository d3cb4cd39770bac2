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

import numpy as np
import pyarrow as pa

from recognizers import address, bank_card, person_name, phone, resident_id
from recognizers.context import column_supports
from recognizers.layouts import Layout, MaskLayout
from recognizers.patterns import TextFound


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
    finder: Callable[[pa.Array, str | None], TextFound] | None
    """A text entity's finder (names, addresses: no digit layouts): its findings in a batch of values from
    a column (`find(values, column)`). None for numbers, which the engine finds by their layouts."""
    mask_shown: Callable[[pa.Array], np.ndarray] | None
    """A text entity's mask: how many leading characters of each written span it shows (a surname, the
    divisions of an address); the rest is masked."""
    normalize: Callable[[pa.Array], pa.Array] | None
    """A text entity's normalized value of each written span (what a token or a fake is made from)."""

    @property
    def is_text(self) -> bool:
        """Whether the entity is found by its own finder rather than by digit layouts."""
        return self.finder is not None


def _spec(module: ModuleType, token_code: str) -> EntitySpec:
    finder = getattr(module, "find", None)
    return EntitySpec(module.ENTITY, module, getattr(module, "LAYOUTS", ()), module.CONTEXT,
                      module.COLUMN_HINTS, token_code, getattr(module, "MASK_KEEP", None),
                      getattr(module, "mask_layout", None), finder, getattr(module, "mask_shown", None),
                      getattr(module, "normalize", None))


REGISTRY: dict[str, EntitySpec] = {
    spec.name: spec
    for spec in (_spec(resident_id, "ID"), _spec(phone, "PH"), _spec(bank_card, "BC"), _spec(address, "AD"),
                 _spec(person_name, "NM"))
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
