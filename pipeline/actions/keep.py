"""keep: the entity stays as written (for a receiver entitled to it; verify then allows it)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pipeline.actions.base import Action, Target, register


@register
class Keep(Action):
    """Leave the entity exactly as written."""

    name = "keep"

    def replace(self, target: Target) -> str:
        """The span as written."""
        return target.written

    @classmethod
    def output_may_hold_entity(cls, params: Mapping[str, Any]) -> bool:
        """Kept entities are in the output by design."""
        return True
