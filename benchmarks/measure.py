"""Wall time and peak memory of a command, counting every process it starts.

cnpii's local scheduler runs a process pool, and the memory check runs workers of a Dask cluster that
the benchmark itself started, so the peak is the largest sum of RSS over all of the benchmark's
descendant processes, sampled every 0.1 s (the benchmark's own process is not counted).
"""

from __future__ import annotations

import contextlib
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

SAMPLE_SECONDS = 0.1


@dataclass(frozen=True)
class Measured:
    """How a command went: exit code, wall seconds, peak RSS of the process tree, its stdout."""

    returncode: int
    seconds: float
    peak_rss: int
    stdout: str
    stderr: str

    @property
    def last_line(self) -> str:
        """The last stdout line: cnpii's JSON summary, or the helper scripts' JSON result."""
        lines = self.stdout.strip().splitlines()
        return lines[-1] if lines else ""


def descendants_rss() -> int:
    """Bytes of RSS of all processes below this one, summed (processes that vanish meanwhile count 0)."""
    total = 0
    for child in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            total += child.memory_info().rss
    return total


class PeakSampler:
    """Samples `descendants_rss` on a thread until stopped; `peak` is the largest sample."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, descendants_rss())
            self._stop.wait(SAMPLE_SECONDS)

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def run_measured(command: Sequence[str], cwd: Path, env: Mapping[str, str]) -> Measured:
    """Run `command` to completion; its output is captured (logs and progress do not reach the terminal)."""
    with PeakSampler() as sampler:
        started = time.perf_counter()
        done = subprocess.run(list(command), cwd=cwd, env=dict(env), capture_output=True, text=True,
                              check=False)
        seconds = time.perf_counter() - started
    return Measured(done.returncode, seconds, sampler.peak, done.stdout, done.stderr)
