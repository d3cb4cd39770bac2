"""Known values across a run: a number the run reports anywhere is reported wherever else it appears.

The engine settles each value alone (`recognizers.known`); a run matches across files in three steps:

1. Each file's transform task notes the keyed digests of what it reported and of the candidates it left
   below the threshold, writes both sorted into the run's scratch folder (`storage.OutputLocation`:
   never published, removed at commit or abort) and returns only where each digest bucket starts.
2. When some file left candidates, match tasks take the buckets in ranges small enough for one worker:
   each reads its range of every file's digests and returns, per file, the left candidates that some
   file reported. No task and not this process ever holds every digest.
3. The files with matches are transformed again with those digests promoted, and verify checks them
   with the same digests: a promoted number left in clear is a leak.

Digests are keyed with the command's random session secret (`execution.session_secret`): a local
process pool receives it when it starts, a cluster's workers straight from this process, never through
the scheduler and never inside a task; it dies with the command, so digests left by a crash stay
meaningless.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import fsspec
import numpy as np
from dask import delayed

from pipeline import execution
from recognizers.arrays import in_sorted
from recognizers.known import EMPTY, KnownValues

BUCKET_BITS = 8
"""Digests are bucketed by their leading bits: a match task takes a range of buckets."""
BUCKETS = 1 << BUCKET_BITS
MATCH_TASK_DIGESTS = 1 << 25
"""The most digests one match task reads (256 MiB), unless one bucket alone holds more (beyond some
8 billion digests in a run)."""


@dataclass(frozen=True)
class SessionKey:
    """Stands for the command's session secret in a task (`execution.session_secret`): the secret itself
    never enters a task."""

    session: str

    @classmethod
    def current(cls) -> SessionKey:
        """The session this command runs in (every command of `pipeline.api` runs in one)."""
        session = execution.current_session()
        if session is None:
            raise RuntimeError("known values need a session: run through pipeline.api")
        return cls(session)

    def secret(self) -> bytes:
        """The secret the digest keys derive from, where the task runs."""
        return execution.session_secret(self.session)


@dataclass(frozen=True)
class KnownTask:
    """What one file's task does with known values: where it writes what it gathered (the transform
    pass), and which digests it promotes (a second transform, verify). Holds no key material."""

    key: SessionKey
    gathered_url: str | None = None
    promote: np.ndarray = field(default_factory=lambda: EMPTY)

    def values(self) -> KnownValues:
        """The engine's view, keyed where the task runs."""
        return KnownValues(self.key.secret(), self.promote, gather=self.gathered_url is not None)


@dataclass(frozen=True)
class Gathered:
    """Where a file's digests were written, and where each bucket of them starts: `reported` then
    `pending`, each sorted, as little-endian uint64."""

    url: str
    reported: np.ndarray
    """BUCKETS + 1 offsets into the reported digests."""
    pending: np.ndarray
    """BUCKETS + 1 offsets into the pending digests (which follow the reported ones in the file)."""


def _bucket_starts(digests: np.ndarray) -> np.ndarray:
    return np.searchsorted(digests >> np.uint64(64 - BUCKET_BITS), np.arange(BUCKETS + 1, dtype=np.uint64))


def write_gathered(values: KnownValues, url: str, storage_options: Mapping[str, Any] | None) -> Gathered:
    """Write what a task gathered to `url` (step 1)."""
    reported, pending = values.gathered()
    with fsspec.open(url, "wb", **dict(storage_options or {})) as sink:
        sink.write(np.concatenate([reported, pending]).astype("<u8").tobytes())
    return Gathered(url, _bucket_starts(reported), _bucket_starts(pending))


@dataclass(frozen=True)
class _Slice:
    """One file's digests in one match task's bucket range: element offsets into its digest file."""

    relative_path: str
    url: str
    reported: tuple[int, int]
    pending: tuple[int, int]


def _read(source: Any, span: tuple[int, int]) -> np.ndarray:
    start, end = span
    if end <= start:
        return EMPTY
    source.seek(8 * start)
    return np.frombuffer(source.read(8 * (end - start)), "<u8").astype(np.uint64)


def _match_range(slices: Sequence[_Slice], storage_options: Mapping[str, Any] | None
                 ) -> dict[str, np.ndarray]:
    """Step 2 for one bucket range: per file, its pending digests that some file reported."""
    reported, pending = [], []
    for piece in slices:
        with fsspec.open(piece.url, "rb", **dict(storage_options or {})) as source:
            reported.append(_read(source, piece.reported))
            pending.append((piece.relative_path, _read(source, piece.pending)))
    known = np.sort(np.concatenate(reported)) if reported else EMPTY
    matched = {}
    for relative_path, digests in pending:
        hits = digests[in_sorted(digests, known)]
        if len(hits):
            matched[relative_path] = hits
    return matched


def _ranges(sizes: np.ndarray) -> list[tuple[int, int]]:
    """Consecutive bucket ranges holding at most `MATCH_TASK_DIGESTS` digests (or one bucket)."""
    ranges, start, held = [], 0, 0
    for bucket, size in enumerate(sizes.tolist()):
        if held and held + size > MATCH_TASK_DIGESTS:
            ranges.append((start, bucket))
            start, held = bucket, 0
        held += size
    ranges.append((start, len(sizes)))
    return ranges


def match(gathered: Mapping[str, Gathered], storage_options: Mapping[str, Any] | None,
          scheduler: str | None) -> dict[str, np.ndarray]:
    """Step 2: per input file (relative path), the digests of the candidates it left below the
    threshold that some file of the run reported. Nothing runs when no file left a candidate."""
    if not gathered or not any(g.pending[-1] for g in gathered.values()):
        return {}
    sizes = sum(np.diff(g.reported) + np.diff(g.pending) for g in gathered.values())
    tasks = []
    for start, end in _ranges(np.asarray(sizes)):
        slices = [
            _Slice(path, g.url, (int(g.reported[start]), int(g.reported[end])),
                   (int(g.reported[-1] + g.pending[start]), int(g.reported[-1] + g.pending[end])))
            for path, g in gathered.items()
            if g.reported[end] > g.reported[start] or g.pending[end] > g.pending[start]
        ]
        if any(s.pending[1] > s.pending[0] for s in slices):
            tasks.append(delayed(_match_range)(slices, storage_options))
    matched: dict[str, list[np.ndarray]] = {}
    for found in execution.compute(tasks, "matching known values", scheduler):
        for path, hits in found.items():
            matched.setdefault(path, []).append(hits)
    return {path: np.concatenate(parts) for path, parts in matched.items()}
