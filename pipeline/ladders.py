"""Generalization ladders: for each quasi-identifier, the values it can be released at, finest first.

Rung 0 is the column as the policy releases it (masked, tokenized, generalized or unchanged). Each higher
rung is coarser and is computed from the original value, so a tokenized ID can still be released as its
city or province when the target needs it:

    dates and timestamps     as released -> month -> year -> 5-year band
    resident ID              as released -> county (with its city) -> city -> province
    phone                    as released -> city -> province
    bank card                as released -> bank and card type -> card type
    division codes (GB/T 2260, county level)   as released -> city -> province
    city or province names   as released -> province
    amounts with edges       as released -> every other edge -> ... -> one edge

A policy that already generalizes a column starts its ladder where the policy left it (`to: year` climbs
to 5-year bands only). A column with no coarser form (gender) has one rung; what a ladder cannot reach,
suppression does (`pipeline.release`).

`auto_quasi_identifiers` names what an outsider is likely to know: every column the policy generalizes,
plus columns released unchanged that look like dates, gender, regions (city or province names, division
codes), or postcodes.
"""

from __future__ import annotations

import abc
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from pipeline.actions import Action, build_action
from pipeline.actions.generalize import UNKNOWN, generalize_amounts, generalize_dates
from pipeline.plan import ColumnPlan, Mode, PlanError
from pipeline.risk import released_text
from pipeline.transform import ColumnStats, transform_column
from recognizers import bank_card, phone, resident_id
from recognizers.context import column_supports
from recognizers.divisions import division, region_provinces

ENTITY_RUNGS: dict[str, tuple[str, ...]] = {
    resident_id.ENTITY: ("county", "city", "province"),
    phone.ENTITY: ("city", "province"),
    bank_card.ENTITY: ("bank_and_type", "card_type"),
}
"""The generalize choices of each entity that form a ladder, finest first."""
YEAR_BAND = 5
CONTENT_SHARE = 0.9
"""Share of a sample's non-null values that must fit a kind (dates, gender, regions, postcodes)."""
GENDER_WORDS = frozenset({"男", "女", "男性", "女性", "m", "f", "male", "female", "未知"})
_DIVISION = re.compile(r"[1-9][0-9]{5}")
POSTCODE_HINTS: dict[str, tuple[str, ...]] = {
    "token": ("zip", "yb", "youbian", "postal"),
    "contains": ("postcode", "postalcode", "zipcode", "邮编", "邮政编码"),
}
"""Column names that announce postcodes (`recognizers.context.column_supports`)."""


class Rung(abc.ABC):
    """One level of a ladder: how values are released at it."""

    name: str

    @abc.abstractmethod
    def values(self, original: pa.Array, released: pa.Array) -> pa.Array:
        """The strings released at this rung, from the input column and the policy's output column."""


@dataclass(frozen=True)
class AsReleased(Rung):
    """The column as the policy releases it."""

    name: str = "as released"

    def values(self, original: pa.Array, released: pa.Array) -> pa.Array:
        return released_text(released)


@dataclass(frozen=True)
class DatePart(Rung):
    """A date's month (`2024-03`) or year (`2024`)."""

    to: str

    @property
    def name(self) -> str:  # type: ignore[override]
        return self.to

    def values(self, original: pa.Array, released: pa.Array) -> pa.Array:
        return generalize_dates(original, self.to)  # type: ignore[arg-type]


@dataclass(frozen=True)
class YearBand(Rung):
    """A date's band of `YEAR_BAND` years (`1980-1984`)."""

    name: str = f"{YEAR_BAND}-year band"

    def values(self, original: pa.Array, released: pa.Array) -> pa.Array:
        years = generalize_dates(original, "year")
        known = pc.fill_null(pc.match_substring_regex(years, r"^[0-9]{4}$"), False)
        number = pc.cast(pc.if_else(known, years, pa.scalar("0")), pa.int64())
        low = pc.multiply(pc.divide(number, YEAR_BAND), YEAR_BAND)
        band = pc.binary_join_element_wise(
            pc.cast(low, pa.string()), pc.cast(pc.add(low, YEAR_BAND - 1), pa.string()), "-"
        )
        return pc.if_else(known, band, years)


@dataclass(frozen=True)
class EntityAttribute(Rung):
    """What the `generalize` action tells of an entity (`city`, `province`, `card_type`…)."""

    entity: str
    choice: str

    @property
    def name(self) -> str:  # type: ignore[override]
        return self.choice

    def values(self, original: pa.Array, released: pa.Array) -> pa.Array:
        plan = _generalize_plan(self.entity, self.choice)
        return released_text(transform_column(released_text(original), plan)[0])


@functools.cache
def _generalize_plan(entity: str, choice: str) -> ColumnPlan:
    """A declared column of `entity` generalized to `choice` (values that do not parse become 未知)."""
    action = build_action("generalize", {"to": choice}, None)
    return ColumnPlan("", Mode.DECLARED, pa.string(), (entity,), 0.0, {entity: action})


@dataclass(frozen=True)
class RegionProvince(Rung):
    """A city or province name to its province (`深圳市` -> `广东省`); a name the table lacks is 未知."""

    name: str = "province"

    def values(self, original: pa.Array, released: pa.Array) -> pa.Array:
        text = pc.utf8_trim_whitespace(released_text(original))
        table = region_provinces()
        keys = pa.array(list(table), pa.string())
        found = pc.index_in(text, value_set=keys)
        provinces = pa.array(list(table.values()), pa.string()).take(found)
        return pc.if_else(pc.is_null(text), text, pc.fill_null(provinces, UNKNOWN))


@dataclass(frozen=True)
class DivisionOf(Rung):
    """A 6-digit division code to the name of its city or province (`440305` -> `深圳市`)."""

    level: str

    @property
    def name(self) -> str:  # type: ignore[override]
        return self.level

    def values(self, original: pa.Array, released: pa.Array) -> pa.Array:
        encoded = pc.dictionary_encode(pc.utf8_trim_whitespace(released_text(original)))
        names = [getattr(division(code), self.level) or UNKNOWN if _DIVISION.fullmatch(code) else UNKNOWN
                 for code in encoded.dictionary.to_pylist()]
        return pa.array(names, pa.string()).take(encoded.indices)


@dataclass(frozen=True)
class AmountRange(Rung):
    """Amounts in ranges between fewer edges (`<1000`, `>=1000`)."""

    edges: tuple[float, ...]

    @property
    def name(self) -> str:  # type: ignore[override]
        return "ranges at " + ", ".join(f"{e:g}" for e in self.edges)

    def values(self, original: pa.Array, released: pa.Array) -> pa.Array:
        return generalize_amounts(original, list(self.edges))


@dataclass(frozen=True)
class Ladder:
    """A quasi-identifier column, the plan that releases it, and its rungs (rung 0: as released)."""

    column: str
    plan: ColumnPlan
    rungs: tuple[Rung, ...]
    hierarchical: bool = True
    """Whether each rung is a function of the one below. The rungs above 0 are (they are computed from the
    original value); rung 0 is when the policy releases the value itself, a token of it, or a rung of the
    same ladder, not when it masks it (`138****5678` does not tell the city)."""

    @property
    def names(self) -> list[str]:
        """The rungs' names, finest first (for reports)."""
        return [rung.name for rung in self.rungs]

    def values(self, rung: int, original: pa.Array, released: pa.Array) -> pa.Array:
        """The column released at `rung`: the policy's output at 0, strings above."""
        return released if rung == 0 else self.rungs[rung].values(original, released)


def _date_rungs(start: int = 0) -> tuple[Rung, ...]:
    """The date rungs above `start` (0: a full date, 1: month, 2: year)."""
    return (DatePart("month"), DatePart("year"), YearBand())[start:]


INJECTIVE_ACTIONS = frozenset({"keep", "tokenize"})
"""Actions whose output tells values apart as the originals do: a rung above them is a function of them."""


def _entity_rungs(entity: str, action: Action | None) -> tuple[Rung, ...]:
    """The entity's rungs above what `action` releases (all of them for a column kept as it is)."""
    choices = ENTITY_RUNGS.get(entity, ())
    if action is not None and action.name == "generalize":
        chosen = action.choice_for(entity)  # type: ignore[attr-defined]
        choices = choices[choices.index(chosen) + 1 :] if chosen in choices else ()
    return tuple(EntityAttribute(entity, choice) for choice in choices)


def whole_value_entity(stats: ColumnStats) -> str | None:
    """The entity that fills most values of a scanned column (at least half its non-null values)."""
    if not stats.non_null or not stats.whole_value:
        return None
    entity, rows = stats.whole_value.most_common(1)[0]
    return entity if rows * 2 >= stats.non_null else None


def _plain(values: pa.Array) -> pa.Array:
    """Dictionary-encoded and large text as plain strings, so that every check sees text the same way."""
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    return values.cast(pa.string()) if pa.types.is_large_string(values.type) else values


def _share(matches: pa.Array, values: pa.Array) -> float:
    non_null = len(values) - values.null_count
    return (pc.sum(pc.fill_null(matches, False)).as_py() or 0) / non_null if non_null else 0.0


def looks_like_dates(values: pa.Array) -> bool:
    """A date or timestamp column, or text of which nearly every value is a date."""
    values = _plain(values)
    if pa.types.is_date(values.type) or pa.types.is_timestamp(values.type):
        return True
    if not pa.types.is_string(values.type):
        return False
    return _share(pc.not_equal(generalize_dates(values, "year"), UNKNOWN), values) >= CONTENT_SHARE


def looks_like_regions(values: pa.Array) -> bool:
    """Text of which nearly every value is a province or prefecture-level city name."""
    values = _plain(values)
    if not pa.types.is_string(values.type):
        return False
    names = pa.array(list(region_provinces()), pa.string())
    return _share(pc.is_in(pc.utf8_trim_whitespace(values), value_set=names), values) >= CONTENT_SHARE


def looks_like_division_codes(values: pa.Array) -> bool:
    """Text or integers of which nearly every value is a county-level division code with a known city."""
    values = _plain(values)
    if not (pa.types.is_string(values.type) or pa.types.is_integer(values.type)):
        return False
    encoded = pc.dictionary_encode(released_text(values))
    known = [bool(code and _DIVISION.fullmatch(code) and code[4:] != "00" and division(code).city)
             for code in encoded.dictionary.to_pylist()]
    return _share(pa.array(known, pa.bool_()).take(encoded.indices), values) >= CONTENT_SHARE


def looks_like_gender(values: pa.Array) -> bool:
    """Text of which nearly every value is a gender word (男, 女, M, F, male, female)."""
    values = _plain(values)
    if not pa.types.is_string(values.type):
        return False
    words = pa.array(sorted(GENDER_WORDS), pa.string())
    folded = pc.utf8_lower(pc.utf8_trim_whitespace(values))
    return _share(pc.is_in(folded, value_set=words), values) >= CONTENT_SHARE


def looks_like_postcodes(name: str, values: pa.Array) -> bool:
    """A column named for postcodes whose values are nearly all six digits."""
    if not column_supports(name, POSTCODE_HINTS):
        return False
    text = released_text(values)
    return _share(pc.match_substring_regex(text, r"^\s*[0-9]{6}\s*$"), text) >= CONTENT_SHARE


def build_ladder(plan: ColumnPlan, sample: pa.Array, stats: ColumnStats | None, source: str) -> Ladder:
    """The ladder of one quasi-identifier column, from its plan and a sample of its input values
    (`stats`: what scanning the sample found, for scanned columns)."""
    where = f"{source}: release.quasi_identifiers: column {plan.name!r}"
    rungs: tuple[Rung, ...] = ()
    hierarchical = True
    if plan.mode is Mode.WHOLE:
        whole = plan.whole
        assert whole is not None
        if whole.action == "redact":
            raise PlanError(f"{where} is redacted: nothing of it is released, so it is no quasi-identifier")
        if whole.to is not None:
            rungs = _date_rungs(2 if whole.to == "year" else 1)
        else:
            edges = list(whole.edges or ())
            while len(edges) > 1:
                edges = edges[::2]
                rungs += (AmountRange(tuple(edges)),)
    else:
        entity = plan.entity if plan.mode is Mode.DECLARED else (stats and whole_value_entity(stats))
        if entity:
            action = plan.actions.get(entity)  # none in a kept column
            if action is not None and action.name == "redact":
                raise PlanError(f"{where} is redacted ({entity}): nothing of it is released, so it is no "
                                "quasi-identifier")
            rungs = _entity_rungs(entity, action)
            hierarchical = action is None or action.name in INJECTIVE_ACTIONS or action.name == "generalize"
        elif looks_like_dates(sample):
            rungs = _date_rungs()
        elif looks_like_regions(sample):
            rungs = (RegionProvince(),)
        elif not looks_like_postcodes(plan.name, sample) and looks_like_division_codes(sample):
            rungs = (DivisionOf("city"), DivisionOf("province"))
    return Ladder(plan.name, plan, (AsReleased(), *rungs), hierarchical or not rungs)


def auto_quasi_identifiers(plans: Sequence[ColumnPlan], sample: pa.Table,
                           stats: dict[str, ColumnStats], skip: Sequence[str]) -> list[str]:
    """The columns `quasi_identifiers: auto` stands for: every column the policy generalizes (a whole
    column, a declared entity, or the entity filling a scanned column), and every column released
    unchanged whose values look like dates, gender, city or province names, division codes or postcodes.
    `skip` (the sensitive column) is never one."""
    chosen = []
    for plan in plans:
        if plan.name in skip:
            continue
        values = sample.column(plan.name).combine_chunks()
        if plan.mode is Mode.WHOLE:
            generalized = plan.whole is not None and plan.whole.action == "generalize"
        elif plan.mode is Mode.DECLARED:
            generalized = plan.actions[plan.entity].name == "generalize"
        else:
            entity = whole_value_entity(stats[plan.name]) if plan.name in stats else None
            if entity is not None:  # a kept phone column is a choice of the policy, not a quasi-identifier
                generalized = plan.mode is Mode.SCAN and plan.actions[entity].name == "generalize"
            else:
                generalized = (looks_like_dates(values) or looks_like_gender(values)
                               or looks_like_regions(values) or looks_like_postcodes(plan.name, values)
                               or looks_like_division_codes(values))
        if generalized:
            chosen.append(plan.name)
    return chosen
