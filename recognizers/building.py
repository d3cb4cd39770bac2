"""Tables a process builds once: word lists, division names, number ranges, large patterns.

`built_once` is `functools.cache` for them, with one difference: while one thread builds a table, another
that asks for it waits for that build instead of building it too. A run's first tasks start on every
thread at once, and each thread built every table itself (about a second of CPU each, under one
interpreter lock), so the first batches of a run waited twice as long.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Hashable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

_BUILDING = threading.RLock()
"""One lock for every table: a table built from others takes their builds inside its own (so the lock is
re-entrant), and a single lock cannot be taken in two orders by two threads."""


def built_once(build: Callable[P, T]) -> Callable[P, T]:
    """`build`, cached by its (positional, hashable) arguments, built by one thread at a time."""
    built: dict[tuple[Hashable, ...], T] = {}

    @functools.wraps(build)
    def table(*args: P.args, **kwargs: P.kwargs) -> T:
        assert not kwargs, "tables are asked for by position"
        try:
            return built[args]
        except KeyError:
            pass
        with _BUILDING:
            if args not in built:
                built[args] = build(*args)
            return built[args]

    table.builds = built.__len__  # type: ignore[attr-defined]  # how many tables were built: a check
    return table
