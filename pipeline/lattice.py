"""Choose how far to climb each quasi-identifier's ladder: the least information lost that meets the target.

A node of the lattice gives a rung per quasi-identifier. The class counts of the finest release hold every
rung's value (`q{i}r{j}` columns, see `pipeline.release`), so a node's classes are one group-by of that
table: no data is read again. A node is feasible when the rows of its classes that miss the target
(fewer than k members, fewer than l sensitive values) are at most `max_suppressed` of all rows; those
rows then have their quasi-identifiers nulled (suppressed).

Information loss of a node is the mean over quasi-identifiers of how much of the column's distinctions
the rung gives up: 1 - (d_r - 1) / (d_0 - 1), with d_r the distinct values at rung r (0 at rung 0, 1 when
everything is one value). Nodes are tried in order of loss, then of total height; the first feasible one
is chosen. Along a hierarchical ladder generalizing never splits a class, so a node below (finer than,
in every column) an infeasible node is infeasible too and is skipped, and if the coarsest node is
infeasible, nothing is; a ladder whose first rung is a masked value is not hierarchical (see
`choose_node`).

>>> import pyarrow as pa
>>> from pipeline.risk import class_counts
>>> counts = class_counts({"q0r0": pa.array(["1981", "1982", "1983", "1984"]),
...                        "q0r1": pa.array(["1980-1984"] * 4)})
>>> choose_node(counts, (2,), k=2, l=None, max_suppressed=0.0).node
(1,)
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from pipeline.risk import ROWS, classes_at, too_small

MAX_NODES = 10_000
"""Lattices larger than this are refused when the policy is planned: name fewer quasi-identifiers."""


def rung_key(qi: int, rung: int) -> str:
    """The column of the class counts that holds quasi-identifier `qi` at `rung`."""
    return f"q{qi}r{rung}"


def node_keys(node: Sequence[int]) -> list[str]:
    """The class-count columns of a node."""
    return [rung_key(qi, rung) for qi, rung in enumerate(node)]


@dataclass(frozen=True)
class Decision:
    """The chosen node, or the coarsest one when none is feasible, with what reaching it costs."""

    node: tuple[int, ...]
    feasible: bool
    loss: float
    suppressed: pa.Table
    """The key values (columns `q{i}`) of the classes whose quasi-identifiers are nulled."""
    suppressed_rows: int
    rows: int
    nodes_evaluated: int
    k_before_suppression: int | None

    @property
    def suppressed_share(self) -> float:
        """Share of all rows suppressed at the node."""
        return self.suppressed_rows / self.rows if self.rows else 0.0


def _losses(counts: pa.Table, heights: Sequence[int]) -> list[list[float]]:
    """Per quasi-identifier and rung, the share of the column's distinctions given up."""
    losses = []
    for qi, height in enumerate(heights):
        distinct = [pc.count_distinct(counts.column(rung_key(qi, rung))).as_py() for rung in range(height)]
        finest = distinct[0]
        losses.append([0.0 if finest <= 1 else min(1.0, max(0.0, 1 - (d - 1) / (finest - 1)))
                       for d in distinct])
    return losses


def _evaluate(counts: pa.Table, node: Sequence[int], k: int, l: int | None, budget: int
              ) -> tuple[bool, pa.Table, int, int | None]:
    """Whether `node` is feasible, the classes to suppress there, their rows, and k before suppression."""
    keys = node_keys(node)
    classes = classes_at(counts, keys, nulls_are_values=True)
    small = too_small(classes, k, l)
    suppressed = classes.filter(small)
    rows = int(pc.sum(suppressed.column("rows")).as_py() or 0)
    k_before = pc.min(classes.column("size")).as_py() if classes.num_rows else None
    names = [f"q{qi}" for qi in range(len(keys))]
    return rows <= budget, suppressed.select(keys).rename_columns(names), rows, k_before


def choose_node(counts: pa.Table, heights: Sequence[int], *, k: int, l: int | None,
                max_suppressed: float, hierarchical: bool = True) -> Decision:
    """The least-loss feasible node of the lattice whose quasi-identifier `i` has `heights[i]` rungs.

    With `hierarchical` ladders (each rung a function of the one below) a node finer than an infeasible
    one is infeasible too and is not evaluated, and an infeasible coarsest node ends the search at once.
    Otherwise (a masked value is not finer than its city: two numbers with one mask can lie in two
    cities) every node is evaluated in loss order. When none is feasible, the decision is the node that
    needs the least suppression, with what it would take."""
    size = math.prod(heights)
    if size > MAX_NODES:
        raise ValueError(f"the generalization lattice has {size:,} nodes (at most {MAX_NODES:,})")
    rows = int(pc.sum(counts.column(ROWS)).as_py() or 0)
    budget = math.floor(max_suppressed * rows + 1e-9)
    losses = _losses(counts, heights)

    def loss(node: tuple[int, ...]) -> float:
        return sum(losses[qi][rung] for qi, rung in enumerate(node)) / len(node)

    def decision(node: tuple[int, ...], feasible: bool, found: tuple[bool, pa.Table, int, int | None],
                 evaluated: int) -> Decision:
        return Decision(node, feasible, loss(node), found[1], found[2], rows, evaluated, found[3])

    order = sorted(itertools.product(*(range(h) for h in heights)), key=lambda n: (loss(n), sum(n), n))
    top = tuple(h - 1 for h in heights)
    evaluated = 0
    if hierarchical:  # the coarsest node first: if even it fails, nothing can pass
        at_top = _evaluate(counts, top, k, l, budget)
        evaluated += 1
        if not at_top[0]:
            return decision(top, False, at_top, evaluated)
    ruled_out: set[tuple[int, ...]] = set()
    best: tuple[tuple[int, ...], tuple[bool, pa.Table, int, int | None]] | None = None
    for node in order:
        if node in ruled_out:
            continue
        if hierarchical and node == top:  # every finer node failed; the top passed
            return decision(top, True, at_top, evaluated)
        found = _evaluate(counts, node, k, l, budget)
        evaluated += 1
        if found[0]:
            return decision(node, True, found, evaluated)
        if best is None or found[2] < best[1][2]:
            best = (node, found)
        if hierarchical:
            _rule_out_below(node, ruled_out)
    assert best is not None
    return decision(best[0], False, best[1], evaluated)


def _rule_out_below(node: tuple[int, ...], ruled_out: set[tuple[int, ...]]) -> None:
    """Add `node` and every node finer than it to `ruled_out` (each node is visited once overall)."""
    stack = [node]
    while stack:
        current = stack.pop()
        if current in ruled_out:
            continue
        ruled_out.add(current)
        stack += [(*current[:i], rung - 1, *current[i + 1 :]) for i, rung in enumerate(current) if rung > 0]
