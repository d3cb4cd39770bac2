"""What every action shares: the target it replaces, its parameters and how actions are registered.

An action turns one found entity into what the output holds in its place. It sees a `Target`: the entity
type, its normalized value (digits, upper-case `X`; equal entities written differently have the same
value), the subtype the recognizer reported, the span as written, and whether that span is the whole cell.
It returns the replacement text, or None to null the cell (only for whole values). Actions are built once
per run from validated parameters and must be cheap to pickle: a keyed action holds a `Keyring`, which
pickles as its source, never as key material.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, ValidationError

from pipeline.keys import Keyring

DECLARED = "declared"
"""The subtype of a value from a column declared to hold an entity that did not parse as one: actions
must still make it safe (mask it whole, token it, report it as unknown)."""


class ActionConfigError(ValueError):
    """An action's parameters are invalid or its key is missing; the message names the parameter."""


@dataclass(frozen=True, slots=True, repr=False)
class Target:
    """One found entity, as an action sees it."""

    entity: str
    value: str = ""
    subtype: str = ""
    written: str = ""
    whole_value: bool = False

    def __repr__(self) -> str:  # values never reach logs or error messages
        return f"Target({self.entity}, subtype={self.subtype!r}, whole_value={self.whole_value})"


class Params(BaseModel):
    """Parameters of an action; unknown ones are refused so a typo in a policy is caught on load."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def check_entity(self, entity: str) -> None:
        """Refuse an entity these parameters do not fit (ActionConfigError naming both), so that a policy
        is refused when it loads, not in the middle of a run; every entity fits by default."""


class Action(abc.ABC):
    """Base of every action. Subclasses set `name`, `needs_key`, `Params` and implement `replace`."""

    name: ClassVar[str]
    needs_key: ClassVar[bool] = False
    Params: ClassVar[type[Params]] = Params

    def __init__(self, params: Params, keyring: Keyring | None) -> None:
        self.params = params
        self.keyring = keyring

    @abc.abstractmethod
    def replace(self, target: Target) -> str | None:
        """What the output holds instead of `target` (None nulls a whole value)."""

    def replace_many(self, entity: str, written: pa.Array, values: pa.Array) -> pa.Array | None:
        """`replace` in bulk for the spans the engine found (`written` as in the data, ASCII, `values`
        normalized); None when this action has no bulk form and each span goes through `replace`."""
        return None

    @classmethod
    def output_may_hold_entity(cls, params: Mapping[str, Any]) -> bool:
        """Whether what this action writes can itself be detected as the entity (keep, fake values,
        format-preserving tokens that keep a real BIN). Verify allows such findings where the policy
        chose the action, and the report says that it cannot tell them from real values there."""
        return False

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.params!r})"


ACTIONS: dict[str, type[Action]] = {}
"""Every action by its policy name; filled by `register`."""


def register(cls: type[Action]) -> type[Action]:
    """Class decorator: make an action available to policies under its `name`."""
    ACTIONS[cls.name] = cls
    return cls


def action_params(name: str, params: Mapping[str, Any]) -> Params:
    """The validated parameters of action `name`; ActionConfigError names what is wrong."""
    cls = ACTIONS.get(name)
    if cls is None:
        raise ActionConfigError(f"unknown action {name!r}; allowed: {', '.join(sorted(ACTIONS))}")
    try:
        return cls.Params.model_validate(dict(params))
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in item['loc']) or name}: {item['msg']}"
            for item in error.errors(include_url=False, include_input=False)
        )
        raise ActionConfigError(f"{name}: {problems}") from None


def build_action(name: str, params: Mapping[str, Any], keyring: Keyring | None) -> Action:
    """Validate `params` and build the action; ActionConfigError names what is wrong."""
    validated = action_params(name, params)
    cls = ACTIONS[name]
    if cls.needs_key and keyring is None:
        raise ActionConfigError(f"{name} needs a key (set CNPII_KEY, or name one under 'key:' in the policy)")
    return cls(validated, keyring)
