"""Plan: policy x schema = one decision for every column, before any row is transformed.

Nothing unplanned passes through. A string-like column the policy does not name is scanned; integer
columns are scanned when they hold phones or IDs (a cheap pre-pass decides, so a column of amounts keeps
its type); binary and nested columns cannot be scanned here and are refused unless the policy says
`keep`. A column the policy names but the data lacks is an error: a typo must not leave a column
unprotected.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

import pyarrow as pa

from pipeline.actions import Action
from pipeline.policy import Policy, PolicyError, WholeColumnRule


class Mode(enum.Enum):
    """What happens to a column."""

    KEEP = "keep"  # unchanged, not scanned
    SCAN = "scan"  # entities detected per value and span
    DECLARED = "declared"  # every value is one entity, as a whole
    WHOLE = "whole"  # the whole column redacted or generalized


class PlanError(PolicyError):
    """The policy and the data's schema do not fit (unknown column, a column that cannot be scanned)."""


@dataclass(frozen=True)
class ColumnPlan:
    """The decision for one column, with everything a worker needs to carry it out."""

    name: str
    mode: Mode
    output_type: pa.DataType
    entities: tuple[str, ...] = ()
    threshold: float = 0.5
    actions: Mapping[str, Action] = field(default_factory=dict, repr=False)
    whole: WholeColumnRule | None = None
    input_type: pa.DataType | None = None
    """The column's type in the dataset; a file whose column is all null and typed null (what pyarrow
    infers for an empty frame) is read as this type."""

    @property
    def entity(self) -> str:
        """The declared entity of a DECLARED column."""
        return self.entities[0]


def is_string_like(dtype: pa.DataType) -> bool:
    """Types whose values are text: scanned by default (fail closed)."""
    if pa.types.is_dictionary(dtype):
        return is_string_like(dtype.value_type)
    return pa.types.is_string(dtype) or pa.types.is_large_string(dtype)


def is_integer_like(dtype: pa.DataType) -> bool:
    """Types that can hold a phone or ID number as digits (Excel and ETL tools store them so)."""
    return pa.types.is_integer(dtype) or (pa.types.is_decimal(dtype) and dtype.scale == 0)


def is_fractional(dtype: pa.DataType) -> bool:
    """Floats and decimals with a scale: a spreadsheet stores a phone as 13800138000.0. The pre-pass
    refuses such a column when its integral values hold phones or IDs (cnpii does not rewrite numbers)."""
    return pa.types.is_floating(dtype) or (pa.types.is_decimal(dtype) and dtype.scale > 0)


def _unscannable(dtype: pa.DataType) -> bool:
    return pa.types.is_binary(dtype) or pa.types.is_large_binary(dtype) or pa.types.is_nested(dtype)


def _scanned_output_type(dtype: pa.DataType) -> pa.DataType:
    if pa.types.is_dictionary(dtype):
        return pa.dictionary(dtype.index_type, pa.string())
    return pa.string()


def plan_columns(
    schema: pa.Schema,
    policy: Policy,
    actions: Mapping[str, Action],
    integer_pii: Collection[str] = (),
    source: str = "<policy>",
) -> list[ColumnPlan]:
    """A plan for every column of `schema`.

    `actions` are the policy's built actions keyed by key path (see `policy.build_actions`);
    `integer_pii` names the integer columns the pre-pass found phones or IDs in.
    """
    missing = sorted(set(policy.columns) - set(schema.names))
    if missing:
        raise PlanError(f"{source}: columns {missing} are named in the policy but not in the data")
    plans = []
    for column in schema:
        name, dtype = column.name, column.type
        rule = policy.columns.get(name)
        if rule is not None and rule.keep:
            plans.append(ColumnPlan(name, Mode.KEEP, dtype))
        elif rule is not None and rule.entity:
            plans.append(
                ColumnPlan(
                    name,
                    Mode.DECLARED,
                    pa.string(),
                    (rule.entity,),
                    policy.threshold,
                    {rule.entity: actions[f"columns.{name}"]},
                )
            )
        elif rule is not None and rule.whole_column is not None:
            whole = rule.whole_column
            # a redacted binary or nested column leaves as string nulls, so verify can re-scan it
            keeps_type = whole.action == "redact" and whole.marker is None and not _unscannable(dtype)
            output = dtype if keeps_type else pa.string()
            plans.append(ColumnPlan(name, Mode.WHOLE, output, whole=whole))
        elif _unscannable(dtype):
            raise PlanError(
                f"{source}: column {name!r} has type {dtype}, which cnpii cannot scan; declare it "
                "(columns: {name: keep}) if it holds no personal data, or redact it ({action: redact})"
            )
        elif is_string_like(dtype) or (
            is_integer_like(dtype) and policy.integer_columns == "scan" and name in integer_pii
        ):
            entity_actions = {
                entity: actions.get(f"columns.{name}.actions.{entity}") or actions[f"actions.{entity}"]
                for entity in policy.entities
            }
            plans.append(
                ColumnPlan(
                    name,
                    Mode.SCAN,
                    _scanned_output_type(dtype),
                    policy.entities,
                    policy.threshold,
                    entity_actions,
                )
            )
        else:
            plans.append(ColumnPlan(name, Mode.KEEP, dtype))
    return [dataclasses.replace(plan, input_type=schema.field(plan.name).type) for plan in plans]


def output_schema(schema: pa.Schema, plans: list[ColumnPlan], keep_metadata: bool = False) -> pa.Schema:
    """The schema every output file gets: each column's name and planned type, without the input's
    key-value metadata (schema and field level), which is free text nobody scans (an export query, a
    pandas index with values), unless the policy keeps it (`metadata: keep`: the run scans it first)."""
    def field(plan: ColumnPlan) -> pa.Field:
        source = schema.field(plan.name)
        metadata = source.metadata if keep_metadata else None
        return pa.field(plan.name, plan.output_type, source.nullable, metadata)

    return pa.schema([field(p) for p in plans], metadata=schema.metadata if keep_metadata else None)
