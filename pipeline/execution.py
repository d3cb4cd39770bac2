"""Where tasks run: a local scheduler by default, or an existing dask.distributed cluster.

The local default needs no cluster: a process pool when this process may fork children, threads when it
may not (Airflow runs tasks in daemonic processes, which cannot have children). Progress is a live bar
on a terminal and a log line every few seconds otherwise, so a scheduler's log shows the run moving.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
import time
from collections.abc import Sequence
from typing import Any

import dask
from dask.callbacks import Callback
from dask.delayed import Delayed

log = logging.getLogger("cnpii")

LOG_EVERY_SECONDS = 10.0


def local_scheduler() -> str:
    """`processes` where child processes can start, `threads` inside a daemonic process."""
    return "threads" if multiprocessing.current_process().daemon else "processes"


class _Progress(Callback):
    """Counts finished tasks; draws a bar on a terminal, logs periodically otherwise."""

    def __init__(self, label: str) -> None:
        super().__init__()
        self.label, self.done, self.total, self.last = label, 0, 0, time.monotonic()
        self.bar = None

    def _start_state(self, dsk: Any, state: dict[str, Any]) -> None:
        self.total = len(state["ready"]) + len(state["waiting"]) + len(state["running"])
        if sys.stderr.isatty():
            from rich.progress import Progress

            self.bar = Progress(transient=True)
            self.bar.start()
            self.task = self.bar.add_task(self.label, total=self.total)

    def _posttask(self, key: Any, result: Any, dsk: Any, state: dict[str, Any], worker_id: Any) -> None:
        self.done += 1
        if self.bar is not None:
            self.bar.update(self.task, completed=self.done)
        elif time.monotonic() - self.last >= LOG_EVERY_SECONDS:
            self.last = time.monotonic()
            log.info("%s: %d/%d tasks done", self.label, self.done, self.total)

    def _finish(self, dsk: Any, state: dict[str, Any], errored: bool) -> None:
        if self.bar is not None:
            self.bar.stop()


def compute(tasks: Sequence[Delayed], label: str, scheduler: str | None = None) -> list[Any]:
    """Run `tasks` and return their results in order.

    `scheduler` is None for the local default, or the address of a dask.distributed scheduler
    (`tcp://host:8786`), which is used as it is: cnpii never starts or stops a cluster it was given.
    """
    if not tasks:
        return []
    if scheduler:
        from distributed import Client, progress

        with Client(scheduler, set_as_default=False) as client:
            futures = client.compute(list(tasks))
            if sys.stderr.isatty():
                progress(futures)
            return client.gather(futures)
    chosen = local_scheduler()
    workers = min(len(tasks), os.cpu_count() or 1)
    with _Progress(label):
        return list(dask.compute(*tasks, scheduler=chosen, num_workers=workers))
