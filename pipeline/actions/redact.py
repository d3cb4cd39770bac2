"""redact: remove the entity. A whole value becomes null (or a fixed marker); a span inside free text
becomes a marker naming its type, so the reader sees that something was removed and what kind."""

from __future__ import annotations

from pipeline.actions.base import Action, Params, Target, register


class RedactParams(Params):
    """`marker`: text put in place of the entity; default null for whole values, `<ENTITY>` in text."""

    marker: str | None = None


@register
class Redact(Action):
    """Replace the entity by null (whole value) or a marker."""

    name = "redact"
    Params = RedactParams

    def replace(self, target: Target) -> str | None:
        """Null for a whole value without a marker; otherwise the marker (default `<CN_PHONE>` etc.)."""
        if self.params.marker is not None:
            return self.params.marker
        return None if target.whole_value else f"<{target.entity}>"
