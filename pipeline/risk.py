"""Re-identification risk of a release: equivalence classes over the quasi-identifiers, measured exactly.

A class is the set of records that share their released quasi-identifier values; an outsider who knows
those values of a person (from a roster, another release) can narrow the person down to the class. Its
size counts rows, or the distinct people of a `person` column when one is named (one borrower with five
loans is one person, not five). From the classes:

- `k` is the smallest class (k-anonymity), `l` the fewest distinct sensitive values in a class (distinct
  l-diversity); records with a null quasi-identifier belong to no class and are left out;
- prosecutor risk of a record is 1 / its class size: `max_risk` = 1 / k, `avg_risk` = classes / records;
- `records_at_risk` are the records whose risk exceeds the threshold 1 / target k (5 when none is given);
- `uniques` are the classes of size 1.

Counting is done in parts that are summed: each batch of rows becomes a small table of distinct
(quasi-identifier values, person digest, sensitive value) with their row counts (`class_counts`), parts are
merged by the same group-by (`merge_counts`), so memory grows with the distinct tuples, not with the rows,
and partitions can be counted on any Dask worker. No value of the data is ever put in the figures: the
report gets sizes and counts only, never a class's values.

>>> import pyarrow as pa
>>> counts = class_counts({"city": pa.array(["深圳市", "深圳市", "广州市", None])})
>>> measure(counts, ["city"]).to_dict()["k"]
1
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.keys import Keyring
from recognizers.siphash import KEY_BYTES, siphash24

ROWS = "__rows"
PERSON = "__person"
PEOPLE = "__people"
SENSITIVE = "__sensitive"
DEFAULT_RISK_K = 5
"""Records at risk are counted against 1 / k of the target; without one, against 1/5 (risk 20%)."""
HISTOGRAM_BUCKETS = ((1, 1), (2, 2), (3, 4), (5, 9), (10, 19), (20, 49), (50, 99), (100, None))
"""Class sizes grouped for the histogram: the small classes, where the risk is, stay apart."""
_DIGEST_PURPOSE = "release/person"
_PUBLIC_KEY = b"cnpii person key"
MERGE_EVERY = 8
_UNNAMED = "__unnamed_rows"


def released_text(values: pa.Array) -> pa.Array:
    """Values as the strings classes are keyed on (dates ISO, numbers as digits, nulls kept)."""
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    if pa.types.is_string(values.type):
        return values
    if pa.types.is_null(values.type):
        return pa.nulls(len(values), pa.string())
    return pc.cast(values, pa.string())


def person_digests(values: pa.Array, keyring: Keyring | None = None) -> pa.Array:
    """An 8-byte digest per value (int64) that tells people apart without holding their identifier:
    SipHash-2-4 keyed with the run's subkey for this use when there is a key, under a fixed public key
    otherwise. Values are compared as written without spaces, dashes and case (`1101 0519…x` is
    `11010519…X`); computed once per distinct value; never written anywhere, only counted."""
    folded = pc.utf8_upper(pc.replace_substring_regex(released_text(values), r"[\s\-]+", ""))
    encoded = pc.dictionary_encode(folded)
    key = keyring.subkey(_DIGEST_PURPOSE, KEY_BYTES) if keyring is not None else _PUBLIC_KEY
    digests = pa.array(siphash24(key, encoded.dictionary).view(np.int64))
    return digests.take(encoded.indices)


def class_counts(quasi_identifiers: Mapping[str, pa.Array], person: pa.Array | None = None,
                 sensitive: pa.Array | None = None) -> pa.Table:
    """One batch's part: each distinct (quasi-identifier values, person, sensitive value) with its rows.

    `quasi_identifiers` map a key name to string arrays of equal length; `person` holds digests
    (`person_digests`) and `sensitive` strings, both optional."""
    columns = dict(quasi_identifiers)
    if person is not None:
        columns[PERSON] = person
    if sensitive is not None:
        columns[SENSITIVE] = released_text(sensitive)
    table = pa.table(columns)
    grouped = table.group_by(table.column_names, use_threads=False).aggregate([([], "count_all")])
    return grouped.rename_columns([*table.column_names, ROWS])


def merge_counts(parts: Sequence[pa.Table]) -> pa.Table:
    """Parts of one dataset summed into one table of the same shape (each tuple once)."""
    return parts[0] if len(parts) == 1 else _summed(pa.concat_tables(parts))


def _summed(table: pa.Table) -> pa.Table:
    keys = [name for name in table.column_names if name != ROWS]
    summed = table.group_by(keys, use_threads=False).aggregate([(ROWS, "sum")])
    return summed.rename_columns([*keys, ROWS])


def add_part(parts: list[pa.Table], part: pa.Table) -> list[pa.Table]:
    """`parts` with `part` added, merged into one every `MERGE_EVERY` parts so that a long file's parts
    stay near its distinct tuples. Parts with person digests are only gathered: they hold about a row
    per person whatever is merged, and `count_people` sorts them out in one pass."""
    parts = [*parts, part]
    if PERSON in part.column_names or len(parts) < MERGE_EVERY:
        return parts
    return [merge_counts(parts)]


def _in_a_class(counts: pa.Table, keys: Sequence[str], nulls_are_values: bool) -> pa.Table:
    """The tuples that belong to a class. Measuring a dataset as it is, a tuple with any null
    quasi-identifier belongs to none (`cnpii risk`); a release the run enforces is judged with a null as
    a value of its own, so that a row missing one attribute is still protected by the others, and only
    suppressed rows (every quasi-identifier null) belong to no class."""
    present = [pc.is_valid(counts.column(key)) for key in keys]
    combine = pc.or_ if nulls_are_values else pc.and_
    mask = present[0]
    for more in present[1:]:
        mask = combine(mask, more)
    return counts.filter(mask)


def count_people(parts: Sequence[pa.Table]) -> pa.Table:
    """The parts of a dataset's counts as one table. With person digests: replaced by a `PEOPLE` count
    when every person falls in one row (one tuple of quasi-identifier and sensitive values, as in a
    customers table), so that a class's people are the sum over its rows at every node of the lattice
    and the table shrinks to the distinct tuples; otherwise (a borrower with loans in two classes) the
    digests stay and people are counted distinct, exactly. A row without a person value is a person of
    its own."""
    if PERSON not in parts[0].column_names:
        return merge_counts(parts)
    counts = pa.concat_tables(parts) if len(parts) > 1 else parts[0]
    if not _one_row_per_person(counts):
        counts = _once_per_tuple(counts)
        if not _one_row_per_person(counts):
            return counts
    people = pc.if_else(pc.is_null(counts.column(PERSON)), counts.column(ROWS), 1)
    keys = [name for name in counts.column_names if name not in (PERSON, ROWS)]
    table = counts.drop_columns([PERSON]).append_column(PEOPLE, people)
    grouped = table.group_by(keys, use_threads=False).aggregate([(ROWS, "sum"), (PEOPLE, "sum")])
    return grouped.rename_columns([*keys, ROWS, PEOPLE])


def _once_per_tuple(counts: pa.Table) -> pa.Table:
    """`counts` with the rows of people seen more than once (the same person and tuple in two files)
    summed; the others, nearly all of them, are left as they are rather than grouped again."""
    seen = pc.value_counts(counts.column(PERSON))
    repeated = seen.field("values").filter(pc.greater(seen.field("counts"), 1))
    again = pc.fill_null(pc.is_in(counts.column(PERSON), value_set=repeated), False)
    return pa.concat_tables([counts.filter(pc.invert(again)), _summed(counts.filter(again))])


def _one_row_per_person(counts: pa.Table) -> bool:
    person = counts.column(PERSON)
    return pc.count_distinct(person, mode="only_valid").as_py() == len(person) - person.null_count


def classes_at(counts: pa.Table, keys: Sequence[str], nulls_are_values: bool = False) -> pa.Table:
    """The classes over `keys`: their key values, `rows`, `size` (people or rows) and `l` (distinct
    sensitive values; absent without a sensitive column). See `_in_a_class` for nulls."""
    valid = _in_a_class(counts, keys, nulls_are_values)
    aggregates: list[tuple[str, str]] = [(ROWS, "sum")]
    if PEOPLE in counts.column_names:
        aggregates.append((PEOPLE, "sum"))
    elif PERSON in counts.column_names:  # a row without a person value is a person of its own
        unnamed = pc.if_else(pc.is_null(valid.column(PERSON)), valid.column(ROWS), 0)
        valid = valid.append_column(_UNNAMED, unnamed)
        aggregates += [(PERSON, "count_distinct"), (_UNNAMED, "sum")]
    if SENSITIVE in counts.column_names:
        aggregates.append((SENSITIVE, "count_distinct"))
    grouped = valid.group_by(list(keys), use_threads=False).aggregate(aggregates)
    rows = grouped.column(f"{ROWS}_sum")
    if PEOPLE in counts.column_names:
        size = grouped.column(f"{PEOPLE}_sum")
    elif PERSON in counts.column_names:
        size = pc.add(grouped.column(f"{PERSON}_count_distinct"), grouped.column(f"{_UNNAMED}_sum"))
    else:
        size = rows
    columns = {**{k: grouped.column(k) for k in keys}, "rows": rows, "size": size}
    if SENSITIVE in counts.column_names:
        columns["l"] = grouped.column(f"{SENSITIVE}_count_distinct")
    return pa.table(columns)


def too_small(classes: pa.Table, k: int, l: int | None = None) -> pa.Array:
    """Which classes miss the target: fewer than `k` members, or fewer than `l` sensitive values."""
    small = pc.less(classes.column("size"), k)
    if l is not None and "l" in classes.column_names:
        small = pc.or_(small, pc.less(classes.column("l"), l))
    return small


@dataclass
class RiskFigures:
    """What a compliance officer signs off: sizes and rates, never a value of the data."""

    counted: str
    k: int | None
    l: int | None
    classes: int
    uniques: int
    records: int
    records_at_risk: int
    risk_threshold: float
    max_risk: float
    avg_risk: float
    rows: int
    rows_left_out: int
    histogram: list[dict[str, Any]] = field(default_factory=list)
    uniques_per_quasi_identifier: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return asdict(self)


def _histogram(sizes: np.ndarray) -> list[dict[str, Any]]:
    buckets = []
    for low, high in HISTOGRAM_BUCKETS:
        inside = (sizes >= low) & (sizes <= (high if high is not None else np.inf))
        label = f"{low}+" if high is None else (str(low) if low == high else f"{low}-{high}")
        buckets.append({"class_size": label, "classes": int(inside.sum()),
                        "records": int(sizes[inside].sum())})
    return buckets


def measure(counts: pa.Table, keys: Sequence[str], *, names: Sequence[str] | None = None,
            target_k: int | None = None, nulls_are_values: bool = False) -> RiskFigures:
    """The figures of the classes over `keys` in `counts` (a `class_counts`/`merge_counts` table).

    `names` are the columns the keys stand for (in reports; default the keys); `target_k` sets the
    records-at-risk threshold; `nulls_are_values` as in `classes_at`."""
    names = list(names or keys)
    classes = classes_at(counts, keys, nulls_are_values)
    sizes = classes.column("size").to_numpy() if classes.num_rows else np.array([], np.int64)
    people = PERSON in counts.column_names or PEOPLE in counts.column_names
    threshold_k = target_k or DEFAULT_RISK_K
    rows = int(pc.sum(counts.column(ROWS)).as_py() or 0)
    in_classes = int(pc.sum(classes.column("rows")).as_py() or 0)
    records = int(sizes.sum())
    l_values = classes.column("l").to_numpy() if "l" in classes.column_names and classes.num_rows else None
    return RiskFigures(
        counted="people" if people else "rows",
        k=int(sizes.min()) if len(sizes) else None,
        l=int(l_values.min()) if l_values is not None else None,
        classes=len(sizes),
        uniques=int((sizes == 1).sum()),
        records=records,
        records_at_risk=int(sizes[sizes < threshold_k].sum()),
        risk_threshold=round(1 / threshold_k, 6),
        max_risk=round(1 / int(sizes.min()), 6) if len(sizes) else 0.0,
        avg_risk=round(len(sizes) / records, 6) if records else 0.0,
        rows=rows,
        rows_left_out=rows - in_classes,
        histogram=_histogram(sizes),
        uniques_per_quasi_identifier={
            name: _uniques_on(counts, key, nulls_are_values) for name, key in zip(names, keys, strict=True)
        },
    )


def _uniques_on(counts: pa.Table, key: str, nulls_are_values: bool) -> int:
    """Records unique on one quasi-identifier alone (classes of size 1 over that column)."""
    sizes = classes_at(counts, [key], nulls_are_values).column("size")
    return int(pc.sum(pc.equal(sizes, 1)).as_py() or 0) if len(sizes) else 0


def among(keys: Sequence[pa.Array], classes: pa.Table) -> pa.Array:
    """Whether each row's tuple of `keys` is one of the rows of `classes` (same number of columns, in
    order), a null matching a null: an exact join, with no separator that a value could contain."""
    def columns(arrays: Sequence[pa.Array]) -> dict[str, pa.Array]:
        found = {}
        for i, array in enumerate(arrays):
            found[f"v{i}"] = pc.fill_null(array, "")
            found[f"n{i}"] = pc.is_null(array)
        return found

    on = [name for i in range(len(keys)) for name in (f"v{i}", f"n{i}")]
    rows = pa.table({**columns(keys), "__row": pa.array(np.arange(len(keys[0]), dtype=np.int64))})
    wanted = pa.table(columns([c.combine_chunks() for c in classes.columns]))
    matched = rows.join(wanted, keys=on, join_type="left semi").column("__row").to_numpy()
    hit = np.zeros(len(keys[0]), dtype=bool)
    hit[matched] = True
    return pa.array(hit)
