"""Where tasks run: a local pool by default, or an existing dask.distributed cluster.

The local default is a thread pool with one thread per core: the work of a task runs in Arrow and numpy
kernels that release the GIL, and threads start at once, share the recognizers' tables and need no
`__main__` guard. `processes` runs a spawned process pool instead, whose workers share no interpreter
lock but each start and import cnpii first; inside a daemonic process (Celery, some Airflow executors),
which cannot have children, it falls back to threads. Progress is a live bar on a terminal and a log line
every few seconds otherwise, so a scheduler's log shows the run moving.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import multiprocessing
import os
import secrets
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any, TypeVar

import cloudpickle
import dask
import dask.multiprocessing
import dask.threaded
from dask.callbacks import Callback
from dask.delayed import Delayed

log = logging.getLogger("cnpii")

LOG_EVERY_SECONDS = 10.0
FOLD_GROUP_PER_WORKER = 4
"""Tasks whose results are folded run this many per local worker at a time (bounds their results)."""
T = TypeVar("T")


LOCAL_SCHEDULERS = ("threads", "processes")
"""What `scheduler` may name besides the address of a dask.distributed scheduler."""


def local_scheduler(scheduler: str | None) -> str | None:
    """The local pool `scheduler` asks for (`threads` when None), or None for a cluster address.
    `processes` becomes `threads` inside a daemonic process; a name that is neither a local pool nor an
    address (`thread`) is refused rather than dialled."""
    if scheduler is None or scheduler == "threads":
        return "threads"
    if scheduler == "processes":
        return "threads" if multiprocessing.current_process().daemon else "processes"
    if ":" not in scheduler:
        raise ValueError(f"scheduler {scheduler!r}: expected {' or '.join(LOCAL_SCHEDULERS)}, or the address "
                         "of a dask.distributed scheduler such as tcp://10.0.0.5:8786")
    return None


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


def _run_pickled(task: bytes, secret: tuple[str, bytes] | None = None) -> Any:
    """Run one task on a worker. The driver sends each task pickled because a scheduler unpickles every
    graph it receives, and unpickling a Keyring reads the key: only workers have it, the scheduler only
    passes the bytes on. `secret`: the command's session and its secret, which the driver sent straight
    to the workers (`_on_cluster`)."""
    if secret is not None:
        _install_secret(*secret)
    return cloudpickle.loads(task).compute(scheduler="sync")


def compute(tasks: Sequence[Delayed], label: str, scheduler: str | None = None) -> list[Any]:
    """Run `tasks` and return their results in order.

    `scheduler` is None or `threads` for the local thread pool, `processes` for a local process pool, or
    the address of a dask.distributed scheduler (`tcp://host:8786`), which is used as it is: cnpii never
    starts or stops a cluster it was given. Whether it returns or raises, no task is still running
    afterwards: a task that went on after another one failed would write into a staging area the caller
    is already removing.
    """
    if not tasks:
        return []
    started = time.monotonic()
    results = _compute(tasks, label, scheduler)
    log.info("%s: %d tasks done in %.1f s", label, len(tasks), time.monotonic() - started)
    return results


def _compute(tasks: Sequence[Delayed], label: str, scheduler: str | None) -> list[Any]:
    """`compute` on a cluster or a local pool. A local pool is handed one task at a time (`chunksize=1`):
    dask's process pool otherwise hands out six at once, so the two files of a small dataset ran one after
    the other in one worker."""
    chosen = local_scheduler(scheduler)
    if chosen is None:
        results: dict[Any, Any] = {}
        _on_cluster(tasks, scheduler, lambda key, result: results.__setitem__(key, result))
        return [results[t.key] for t in tasks]
    # The scheduler's own function, not its name: a name makes dask import distributed to look for a client.
    get = dask.threaded.get if chosen == "threads" else dask.multiprocessing.get
    pool = _session_pool.get()
    with _Progress(label):
        if pool is not None:
            try:
                return list(dask.compute(*tasks, scheduler=get, pool=pool, chunksize=1))
            except BaseException:
                pool.shutdown(wait=True, cancel_futures=True)  # nothing may run on after a failure
                raise
        with _new_pool(chosen) as pool:  # joined on exit, unlike dask's shared pools
            return list(dask.compute(*tasks, scheduler=get, pool=pool, chunksize=1))


def _on_cluster(tasks: Sequence[Delayed], address: str, take: Callable[[Any, Any], None]) -> None:
    """Run `tasks` on the cluster at `address`, handing each result to `take(key, result)` as it arrives
    and releasing it on the cluster, so workers do not hold every result until the last one is done. The
    session's secret goes from here straight to every worker (scattered directly under a random key,
    not through the scheduler, and replicated, so a worker lost mid-run does not lose it); the tasks
    name it, they do not hold it."""
    from distributed import Client, as_completed, wait

    session = _session_id.get()
    with Client(address, set_as_default=False) as client, client.as_current():  # for wait
        secret = {}
        if session in _sharing:
            [secret["secret"]] = client.scatter([(session, _session_secrets[session])], direct=True,
                                                broadcast=True, hash=False)
        futures = client.map(_run_pickled, [cloudpickle.dumps(t) for t in tasks], key=[t.key for t in tasks],
                             **secret)
        try:
            for future in as_completed(futures):
                take(future.key, future.result())
                future.release()
        except BaseException:
            wait(futures)  # every task has ended, failed or not, before this raises
            raise


def fold(tasks: Sequence[Delayed], label: str, scheduler: str | None, add: Callable[[T, Any], T],
         initial: T) -> T:
    """Run `tasks` and fold their results into `initial` with `add` as they arrive, in no set order: for
    results that are summed (class counts), so that neither the workers nor this process hold them all
    at once. Locally the tasks run in groups of a few per worker thread or process."""
    if local_scheduler(scheduler) is None:
        folded = [initial]
        _on_cluster(tasks, scheduler, lambda _, result: folded.__setitem__(0, add(folded[0], result)))
        return folded[0]
    group = FOLD_GROUP_PER_WORKER * (os.cpu_count() or 1)
    for start in range(0, len(tasks), group):
        for result in compute(tasks[start : start + group], label, scheduler):
            initial = add(initial, result)
    return initial


_session_pool: contextvars.ContextVar[Executor | None] = contextvars.ContextVar("cnpii_pool", default=None)
_session_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("cnpii_session", default=None)
_session_secrets: dict[str, bytes] = {}
SESSION_SECRET_BYTES = 16


_sharing: set[str] = set()
"""Sessions whose secret goes to a cluster's workers with every task list (`share_secret`)."""


def _install_secret(session: str, secret: bytes) -> None:
    _session_secrets[session] = secret


def _forget_secret(session: str) -> None:
    _session_secrets.pop(session, None)


def _forget_on_workers(session: str, address: str) -> None:
    """Remove the session's secret from a cluster's workers when the command ends (only its id goes
    out). A worker that cannot be reached keeps it until it restarts: logged, not raised, since the
    command's result is already decided."""
    from distributed import Client

    try:
        with Client(address, set_as_default=False) as client:
            client.run(_forget_secret, session)
    except (OSError, TimeoutError) as error:
        log.warning("could not remove the session secret from the cluster's workers (%s)",
                    type(error).__name__)


def share_secret(scheduler: str | None) -> bool:
    """Whether the workers of this command's session can hold its secret: always in a local pool; on a
    cluster only when this process reaches the workers directly (tried with a scatter of nothing),
    since the secret never goes through the scheduler. From then on every task list sends it."""
    session = _session_id.get()
    if session is None:
        return False
    if local_scheduler(scheduler) is None:
        from distributed import Client

        try:
            with Client(scheduler, set_as_default=False) as client:
                client.scatter([b""], direct=True, broadcast=True, hash=False)
        except (OSError, TimeoutError) as error:
            log.warning("the cluster's workers cannot be reached directly from here (%s): known values "
                        "are not matched across files", type(error).__name__)
            return False
        _sharing.add(session)
    return True


def current_session() -> str | None:
    """The id of the session this command runs in (`session`), None outside one."""
    return _session_id.get()


def session_secret(session: str) -> bytes:
    """The random secret of session `session`: known to this process and the workers of the command
    only (a local process pool receives it when it starts, a cluster's workers straight from this
    process), never part of a task, and gone here with the session. What a run keys digests with."""
    try:
        return _session_secrets[session]
    except KeyError:
        raise RuntimeError(f"session {session} is not known to this process") from None


def _new_pool(chosen: str, session: str | None = None) -> Executor:
    workers = os.cpu_count() or 1
    if chosen == "processes":
        setup = {} if session is None else {"initializer": _install_secret,
                                            "initargs": (session, _session_secrets[session])}
        return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), **setup)
    return ThreadPoolExecutor(workers)


@contextlib.contextmanager
def session(scheduler: str | None) -> Iterator[None]:
    """A command's session: a random secret (`session_secret`) and, for a local scheduler, one worker
    pool for every `compute` inside (a command's phases: probe, transform, verify), so worker start-up
    and the recognizers' tables are paid once per command, not once per phase. A session inside another
    is the outer one; nothing is started when `scheduler` names a cluster."""
    chosen = local_scheduler(scheduler)
    if _session_id.get() is not None:
        yield
        return
    session = uuid.uuid4().hex
    _install_secret(session, secrets.token_bytes(SESSION_SECRET_BYTES))
    named = _session_id.set(session)
    try:
        if chosen is None:
            yield
            return
        with _new_pool(chosen, session) as pool:
            pooled = _session_pool.set(pool)
            try:
                yield
            finally:
                _session_pool.reset(pooled)
    finally:
        _session_id.reset(named)
        del _session_secrets[session]
        if session in _sharing and scheduler is not None:
            _sharing.discard(session)
            _forget_on_workers(session, scheduler)
