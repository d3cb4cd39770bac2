"""The de-identification policy: which entities to look for and what to do with each, per column.

A policy is YAML, validated on load. Errors name the file, the key path and the allowed values, never a
data value. The shape:

    version: 1
    entities: [CN_RESIDENT_ID, CN_PHONE, CN_BANK_CARD]  # searched for in scanned columns
    threshold: 0.5                                       # minimum detection score
    key: {env: CNPII_KEY}                # or {file: /run/secrets/cnpii}; tokenize and fake need one
    actions:                             # default action per entity, in every scanned column
      CN_PHONE: {action: mask}
    columns:                             # per-column rules; every other string-like column is scanned
      customer_id: keep                  # passes unchanged, not scanned
      id_number: {entity: CN_RESIDENT_ID, action: tokenize}  # declared: whole values, no detection
      memo: {actions: {CN_PHONE: {action: redact}}}          # scanned, its own action for an entity
      birth_date: {action: generalize, to: month}  # a date column generalized (`edges:` for amounts)
      address: {action: redact}          # the whole column replaced (null, or `marker:`)
    integer_columns: scan                # scan int columns for phones and IDs (default) or keep
    metadata: drop                       # Parquet key-value metadata: drop (default) or keep (then scanned)
    release:                             # optional: the re-identification target of the release
      person: id_number                  # classes count distinct people, not rows
      quasi_identifiers: [id_number, birth_date, gender, city]   # or: auto
      k_anonymity: 5
      l_diversity: {sensitive: status, l: 2}
      max_suppressed: 0.02               # share of rows whose quasi-identifiers may be nulled

Fail closed: a string-like column that no rule names is scanned, and every entity found is acted on.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    ValidationError,
    field_validator,
    model_validator,
)

from pipeline.actions import ACTIONS, Action, ActionConfigError, action_params, build_action
from pipeline.errors import UsageError
from pipeline.keys import Keyring, KeySource
from recognizers import DEFAULT_THRESHOLD, ENTITIES


def _known_entities(names: Any) -> Any:
    """Refuse entity names cnpii has no recognizer for (in a list, or as the keys of a mapping)."""
    unknown = sorted(set(names) - set(ENTITIES)) if isinstance(names, list | tuple | dict) else []
    if unknown:
        raise ValueError(f"unknown entities {unknown}; allowed: {', '.join(ENTITIES)}")
    return names


class PolicyError(UsageError, ValueError):
    """The policy file is missing, unreadable or invalid; the message names the file and the key."""


class ActionRule(BaseModel):
    """An action name and its parameters, as written in YAML: `{action: mask, keep_last: 4}`."""

    model_config = ConfigDict(extra="allow", frozen=True)
    action: str

    @field_validator("action")
    @classmethod
    def _known_action(cls, name: str) -> str:
        if name not in ACTIONS:
            raise ValueError(f"unknown action {name!r}; allowed: {', '.join(sorted(ACTIONS))}")
        return name

    @property
    def params(self) -> dict[str, Any]:
        """The parameters besides `action` (validated by the action's own model when built)."""
        return dict(self.model_extra or {})


class ColumnRule(BaseModel):
    """What to do with one column: keep it, declare its entity, act on the whole column, or override
    the action for an entity found in it."""

    model_config = ConfigDict(extra="allow", frozen=True)
    keep: bool = False
    entity: str | None = None
    action: str | None = None
    actions: dict[str, ActionRule] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if value == "keep":
            return {"keep": True}
        if isinstance(value, str):
            raise ValueError("a column rule is 'keep' or a mapping such as {entity: CN_PHONE, action: mask}")
        return value

    @field_validator("entity")
    @classmethod
    def _known_entity(cls, name: str | None) -> str | None:
        if name is not None and name not in ENTITIES:
            raise ValueError(f"unknown entity {name!r}; allowed: {', '.join(ENTITIES)}")
        return name

    _known_entities = field_validator("actions")(lambda cls, names: _known_entities(names))

    @model_validator(mode="after")
    def _consistent(self) -> ColumnRule:
        if self.keep and (self.entity or self.action or self.actions or self.model_extra):
            raise ValueError("'keep' takes no other keys")
        if self.model_extra and not self.action:  # parameters belong to an action; anything else is a typo
            raise ValueError(f"unknown keys {sorted(self.model_extra)}; a column rule takes keep, entity, "
                             "action (with its parameters) or actions")
        if self.entity and not self.action:
            raise ValueError("a declared entity needs an action, e.g. {entity: CN_PHONE, action: mask}")
        if self.action and self.actions:
            raise ValueError(
                "give either 'action' (whole column or declared entity) or 'actions' (per entity)"
            )
        if self.action is not None and self.action not in ACTIONS:
            raise ValueError(f"unknown action {self.action!r}; allowed: {', '.join(sorted(ACTIONS))}")
        if self.action and not self.entity:
            self.whole_column  # noqa: B018 - validates the whole-column parameters now, not mid-run
        return self

    @property
    def rule(self) -> ActionRule | None:
        """The action rule for the declared entity, if the column declares one."""
        return ActionRule(action=self.action, **(self.model_extra or {})) if self.entity else None

    @property
    def whole_column(self) -> WholeColumnRule | None:
        """The rule that replaces or generalizes the whole column, if the column has one."""
        if self.entity or not self.action:
            return None
        return WholeColumnRule.model_validate({"action": self.action, **(self.model_extra or {})})


class WholeColumnRule(BaseModel):
    """An action on a whole column without an entity: redact it, or generalize dates or amounts."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    action: Literal["redact", "generalize"]
    marker: str | None = None
    to: Literal["month", "year"] | None = None
    edges: tuple[float, ...] | None = None

    @model_validator(mode="after")
    def _params_fit(self) -> WholeColumnRule:
        if self.action == "redact" and (self.to or self.edges):
            raise ValueError("redact takes only 'marker'")
        if self.action == "generalize" and (
            self.marker is not None or (self.to is None) == (self.edges is None)
        ):
            raise ValueError(
                "generalize a whole column with 'to: month|year' (dates) or 'edges: [...]' (amounts)"
            )
        if self.edges is not None and list(self.edges) != sorted(set(self.edges)):
            raise ValueError("edges must be strictly increasing")
        return self


class LDiversity(BaseModel):
    """Every class of the release must hold at least `l` distinct values of the `sensitive` column."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    sensitive: str
    l: StrictInt = Field(ge=1)


class Release(BaseModel):
    """The re-identification target of the release (`pipeline.release` measures and enforces it).

    `quasi_identifiers` are the columns an outsider may already know (a roster, another release), or
    `auto`; a class is the set of records sharing their released values, and its size counts the distinct
    people of the `person` column when one is named, rows otherwise. `max_suppressed` is the share of
    rows whose quasi-identifier cells may be nulled to reach the target."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    person: str | None = None
    quasi_identifiers: tuple[str, ...] | Literal["auto"]
    k_anonymity: StrictInt = Field(ge=1)  # strict: YAML's `true` or "5" is a typo, not a target
    l_diversity: LDiversity | None = None
    max_suppressed: StrictFloat | StrictInt = Field(0.0, ge=0.0, le=1.0)  # `yes` would be 1.0: everything

    @field_validator("quasi_identifiers")
    @classmethod
    def _distinct_columns(cls, names: tuple[str, ...] | str) -> tuple[str, ...] | str:
        if isinstance(names, tuple) and not names:
            raise ValueError("name at least one column, or 'auto'")
        if isinstance(names, tuple) and len(set(names)) != len(names):
            raise ValueError("a column is named twice")
        return names

    @model_validator(mode="after")
    def _sensitive_apart(self) -> Release:
        if (self.l_diversity is not None and isinstance(self.quasi_identifiers, tuple)
                and self.l_diversity.sensitive in self.quasi_identifiers):
            raise ValueError("l_diversity.sensitive cannot also be one of the quasi_identifiers")
        return self


class Policy(BaseModel):
    """A validated policy (see the module docstring for the YAML shape)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    version: Literal[1] = 1
    entities: tuple[str, ...] = ENTITIES
    threshold: float = Field(DEFAULT_THRESHOLD, gt=0.0, le=1.0)
    key: KeySource | None = None
    actions: dict[str, ActionRule] = Field(default_factory=dict)
    columns: dict[str, ColumnRule] = Field(default_factory=dict)
    integer_columns: Literal["scan", "keep"] = "scan"
    metadata: Literal["drop", "keep"] = "drop"
    release: Release | None = None

    _known_entities = field_validator("entities", "actions", mode="before")(
        lambda cls, names: _known_entities(names)
    )

    @model_validator(mode="after")
    def _every_entity_acted_on(self) -> Policy:
        """An entity searched for without a default action is masked (fail closed); filling it in here
        makes the digest of a policy that spells the default out equal to one that does not."""
        for entity in self.entities:
            self.actions.setdefault(entity, ActionRule(action="mask"))
        return self

    def rules(self) -> list[tuple[str, str, ActionRule]]:
        """Every action rule with its path in the policy and the entity it acts on, for building and
        checking them all up front.

        Each entity searched for has a default (`actions.CN_PHONE`), so nothing found passes unacted.
        """
        found = [(f"actions.{e}", e, self.actions[e]) for e in self.entities]
        for name, column in self.columns.items():
            found += [(f"columns.{name}.actions.{e}", e, r) for e, r in column.actions.items()]
            if column.rule is not None and column.entity is not None:
                found.append((f"columns.{name}", column.entity, column.rule))
        return found

    def for_verify(self) -> Policy:
        """The policy verify scans output with: the fail-closed defaults (every entity, the default
        threshold, integer columns probed), whatever this policy set for detection, so that a policy
        that weakens detection cannot weaken the check of its own output; only columns kept as they are
        stay unscanned. Declared and whole-column rules described the input; in the output they are text."""
        kept = {name: rule for name, rule in self.columns.items() if rule.keep}
        return Policy(columns=kept, key=self.key)

    def allowed_entities(self, column: str) -> set[str]:
        """Entities verify lets stay in `column` of the output: everything in a kept column, and entities
        whose chosen action writes values that are themselves detectable (keep, fake, a format-preserving
        card token that keeps its BIN). Verify cannot tell those from real values, and the report says so."""
        rule = self.columns.get(column)
        if rule is not None and rule.keep:
            return set(ENTITIES)
        chosen = {e: self.actions[e] for e in self.entities}
        if rule is not None:
            chosen.update(rule.actions)
            if rule.entity:
                chosen[rule.entity] = rule.rule  # type: ignore[assignment]
        return {e for e, r in chosen.items() if ACTIONS[r.action].output_may_hold_entity(r.params)}

    @property
    def digest(self) -> str:
        """sha256 of the validated policy in canonical JSON: the manifest records which policy ran."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()


MAX_POLICY_BYTES = 1 << 20
"""A policy is a page of YAML; a larger file is refused before it is parsed."""
MAX_POLICY_DEPTH = 16
"""Policies nest a few levels (columns.memo.actions.CN_PHONE.to); deeper documents are refused as parsed."""
MAX_ERRORS_SHOWN = 20
_MAX_ERROR_LINE = 300


class _PolicyLoader(yaml.SafeLoader):
    """SafeLoader without aliases (a YAML bomb is a tree of aliases; no policy needs one) and with a
    nesting limit (the composer recurses per level: 100,000 brackets would exhaust the stack)."""

    depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            raise yaml.YAMLError("aliases (*name) are not allowed in a policy")
        self.depth += 1
        if self.depth > MAX_POLICY_DEPTH:
            raise yaml.YAMLError(f"nested deeper than {MAX_POLICY_DEPTH} levels")
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _format_error(source: str, error: ValidationError) -> str:
    """The errors, one line each, at most `MAX_ERRORS_SHOWN` of them, each cut to a readable length."""
    lines = [f"{source}: invalid policy"]
    errors = error.errors(include_url=False, include_input=False)
    for item in errors[:MAX_ERRORS_SHOWN]:
        where = ".".join(str(p) for p in item["loc"]) or "(top level)"
        line = f"  {where}: {item['msg']}"
        lines.append(line if len(line) <= _MAX_ERROR_LINE else line[: _MAX_ERROR_LINE - 1] + "…")
    if len(errors) > MAX_ERRORS_SHOWN:
        lines.append(f"  … and {len(errors) - MAX_ERRORS_SHOWN} more")
    return "\n".join(lines)


def parse_policy(document: Mapping[str, Any] | None, source: str = "<policy>") -> Policy:
    """Validate a policy given as a mapping (the parsed YAML); `source` names it in errors. Every action's
    parameters are checked against the entity it acts on here (`to: bank` on a phone, a mask showing
    more than a phone's 3 + 4), so that no such policy reaches the data."""
    try:
        policy = Policy.model_validate(document or {})
    except ValidationError as error:
        raise PolicyError(_format_error(source, error)) from None
    for where, entity, rule in policy.rules():
        try:
            action_params(rule.action, rule.params).check_entity(entity)
        except ActionConfigError as error:
            raise PolicyError(f"{source}: {where}: {error}") from None
    return policy


def load_policy(path: str | Path | None = None) -> Policy:
    """Read and validate a policy file; without one, the fail-closed default (configs/default.yaml)."""
    if path is None:
        return Policy()
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_POLICY_BYTES:
            raise PolicyError(f"{path}: the policy is {size:,} bytes; at most {MAX_POLICY_BYTES:,} are read")
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=_PolicyLoader)  # a SafeLoader
    except OSError as error:
        raise PolicyError(f"{path}: cannot read policy ({error.strerror})") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        reason = "" if mark else f" ({error})"
        raise PolicyError(f"{path}: not valid YAML{where}{reason}") from None
    if document is not None and not isinstance(document, dict):
        raise PolicyError(f"{path}: a policy is a mapping of keys such as 'actions' and 'columns'")
    return parse_policy(document, str(path))


def needs_key(policy: Policy) -> bool:
    """Whether any action in the policy needs key material (tokenize, fake)."""
    return any(ACTIONS[rule.action].needs_key for _, _, rule in policy.rules())


def build_actions(policy: Policy, source: str = "<policy>") -> tuple[Keyring | None, dict[str, Action]]:
    """Load the key (if any action needs one) and build every action, before any data is read.

    Returns the keyring and the built actions keyed by their policy key path. A missing or weak key and
    bad action parameters are PolicyErrors: the run is refused before any work starts.
    """
    keyring = None
    if needs_key(policy):
        try:
            keyring = Keyring.load(policy.key or KeySource())
        except ValueError as error:
            raise PolicyError(f"{source}: key: {error}") from None
    built = {}
    for where, _, rule in policy.rules():
        try:
            built[where] = build_action(rule.action, rule.params, keyring)
        except ActionConfigError as error:
            raise PolicyError(f"{source}: {where}: {error}") from None
    return keyring, built
