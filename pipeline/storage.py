"""Dataset I/O: list the Parquet files of an input, stage outputs, and commit them so readers can trust them.

Inputs and outputs are local paths or any fsspec URL (`s3://bucket/prefix`, ...). A dataset is a folder of
Parquet files, possibly hive-partitioned (`year=2024/month=01/part-0.parquet`). Names starting with `_` or
`.` are metadata (`_SUCCESS`, `_MANIFEST.json`, `.part-0.crc`, the `_staging/` folder) and are skipped,
whole folders included; any other non-Parquet file is refused, so no file is ever silently left behind.

Commit protocol. Object stores have no atomic rename, so "complete" is defined by content, not by a move:

    output/_MANIFEST.json   the run's document plus "run_id" and "outputs": [{relative_path, rows, bytes,
                            sha256}]
    output/_SUCCESS         {"run_id": ..., "manifest_sha256": ...}, written LAST

A reader trusts a dataset only if `_SUCCESS` exists, names the run id of `_MANIFEST.json` and that file's
sha256, every listed output exists with its size, and no other data file is present (`is_complete`,
`read_manifest`). A run writes into `output/_staging/<run_id>/` (a previous result is not touched before
commit, i.e. before verify passed); `commit` then:

    1. writes the new manifest into staging (a full disk fails here, before the old output is touched)
    2. removes the old `_SUCCESS`           -- from here the old result is no longer complete
    3. removes old data files that are not part of the new output
    4. moves the staged files into place   (local: rename; object stores: copy then delete)
    5. moves the staged manifest to `_MANIFEST.json`
    6. writes `_SUCCESS`                    -- from here the new result is complete
    7. removes its staging folder and those of older runs

A crash before step 2 leaves the old result complete; a crash between 2 and 6 leaves an output that no
reader trusts (and `mode="overwrite"` repairs it); after 6 the new result is complete. One writer per output
at a time: a run holds `output/_LEASE.json` (its run id and an expiry it keeps renewing) from before it
writes until it ends, and a second run is refused while another's lease has not expired (`lease`).

`mode="overwrite"` replaces only files some cnpii manifest in the output lists; any other data file there
makes the run refuse the output before any work. Leftover staging folders of crashed runs are ignored by
listing. A commit removes them when their run id
sorts before its own (run ids from `api.new_run_id` sort by start time): their data was never verified and
should not linger in a location that is shared. Staging folders of later runs, which may still be running,
are left alone; `abort` removes only its own.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from os.path import realpath
from typing import Any, Literal

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq
from fsspec.implementations.local import LocalFileSystem

from pipeline.errors import TransientError, UsageError

MANIFEST = "_MANIFEST.json"
SUCCESS = "_SUCCESS"
STAGING = "_staging"
SCRATCH = "_scratch"
LEASE = "_LEASE.json"
LEASE_SECONDS = 300
"""How long a lease holds without renewal; a running run renews it every third of that."""
PARQUET_SUFFIXES = (".parquet", ".parq", ".pq")
METADATA_PREFIXES = ("_", ".")
_CHUNK = 1 << 20

StorageOptions = Mapping[str, Any] | None


class InputError(UsageError, ValueError):
    """A location cannot be used as given: missing, not Parquet, overlapping, or not a complete output
    (terminal, exit 2)."""


class OutputExistsError(UsageError, ValueError):
    """The output already holds a result (mode "error") or a folder cnpii did not write (terminal, exit 2)."""


class StorageError(TransientError, RuntimeError):
    """Reading or writing storage failed; the message names the path and the reason, never file content
    (transient, exit 3: storage that failed once may work on the next try)."""


class OutputBusyError(StorageError):
    """Another run holds the output (its lease has not expired): retrying later can succeed."""


@dataclass(frozen=True)
class InputFile:
    """One Parquet file of a dataset: where it is, its path inside the dataset ("/"-separated), its size."""

    url: str
    relative_path: str
    size: int


@dataclass(frozen=True)
class StagedFile:
    """One written output file, described as the manifest lists it."""

    url: str
    relative_path: str
    bytes: int
    rows: int
    sha256: str


@dataclass(frozen=True)
class Committed:
    """Where a commit put the manifest and the `_SUCCESS` marker."""

    manifest_url: str
    success_url: str


def _reason(error: OSError) -> str:
    return error.strerror or type(error).__name__


@contextmanager
def _io(action: str, url: str) -> Iterator[None]:
    """Every storage operation runs inside this: an OSError becomes a StorageError naming path and reason."""
    try:
        yield
    except OSError as error:
        raise StorageError(f"{url}: cannot {action} ({_reason(error)})") from None


def _resolve(url: str, storage_options: StorageOptions) -> tuple[fsspec.AbstractFileSystem, str]:
    """The filesystem and normalized path (no trailing slash, no `./`) behind a path or URL."""
    fs, path = fsspec.core.url_to_fs(url, **dict(storage_options or {}))
    return fs, posixpath.normpath(path)


def _url(fs: fsspec.AbstractFileSystem, path: str) -> str:
    """A path as a URL the same storage options open again (a plain path for the local filesystem)."""
    return path if isinstance(fs, LocalFileSystem) else fs.unstrip_protocol(path)


def _name(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]


def _is_metadata(name: str) -> bool:
    return name.startswith(METADATA_PREFIXES)


def _is_parquet(name: str) -> bool:
    return name.lower().endswith(PARQUET_SUFFIXES)


def _walk(fs: fsspec.AbstractFileSystem, folder: str) -> Iterator[dict[str, Any]]:
    """File entries under `folder`, recursively, skipping metadata names and whole metadata folders."""
    with _io("list the folder", _url(fs, folder)):
        entries = fs.ls(folder, detail=True)
    for entry in entries:
        name = entry["name"].rstrip("/")
        if _is_metadata(_name(name)) or name == folder:
            continue
        if entry["type"] == "directory":
            yield from _walk(fs, name)
        else:
            yield entry


def _data_files(fs: fsspec.AbstractFileSystem, folder: str) -> list[InputFile]:
    """The Parquet files of a folder sorted by relative path; any other non-metadata file is refused."""
    files = []
    for entry in _walk(fs, folder):
        relative = entry["name"][len(folder):].strip("/")
        if not _is_parquet(relative):
            raise InputError(f"{_url(fs, entry['name'])}: not a Parquet file; cnpii reads only Parquet "
                             f"({', '.join(PARQUET_SUFFIXES)}) and never leaves a file behind silently — "
                             "move it out of the dataset, or name it with a leading '_' if it is metadata")
        files.append(InputFile(_url(fs, entry["name"]), relative, int(entry["size"])))
    return sorted(files, key=lambda f: f.relative_path)


def list_input_files(input: str, storage_options: StorageOptions = None) -> list[InputFile]:
    """The Parquet files of INPUT (one file, a folder or a hive-partitioned dataset; local or fsspec URL)."""
    fs, root = _resolve(input, storage_options)
    fs.invalidate_cache(root)
    with _io("look up the input", input):
        exists = fs.exists(root)
        is_file = exists and fs.isfile(root)
    if not exists:
        raise InputError(f"{input}: the input does not exist")
    if is_file:
        if not _is_parquet(_name(root)):
            raise InputError(f"{input}: not a Parquet file; cnpii reads only Parquet "
                             f"({', '.join(PARQUET_SUFFIXES)})")
        with _io("read the file size", input):
            size = fs.size(root)
        return [InputFile(_url(fs, root), _name(root), int(size))]
    files = _data_files(fs, root)
    if not files:
        raise InputError(f"{input}: no Parquet files in the folder "
                         "(names starting with '_' or '.' are metadata)")
    return files


def _sha256(fs: fsspec.AbstractFileSystem, path: str) -> str:
    digest = hashlib.sha256()
    with _io("read the file", _url(fs, path)), fs.open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _rows(fs: fsspec.AbstractFileSystem, path: str) -> int:
    url = _url(fs, path)
    with _io("read the Parquet footer", url), fs.open(path, "rb") as f:
        try:
            return pq.ParquetFile(f).metadata.num_rows
        except pa.ArrowException as error:
            raise StorageError(f"{url}: cannot read the Parquet footer ({type(error).__name__}); "
                               "the staged file is corrupt or truncated") from None


def _json_bytes(document: Mapping[str, Any]) -> bytes:
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _verified_manifest(fs: fsspec.AbstractFileSystem, root: str) -> dict[str, Any]:
    """The manifest of a complete output; InputError saying what is missing or inconsistent otherwise."""
    where = _url(fs, root)
    fs.invalidate_cache(root)
    with _io("read the commit markers", where):
        if not fs.exists(f"{root}/{SUCCESS}"):
            raise InputError(f"{where}: no {SUCCESS}, so not a complete cnpii output "
                             "(never committed, or a commit was interrupted)")
        success = fs.cat_file(f"{root}/{SUCCESS}")
        if not fs.exists(f"{root}/{MANIFEST}"):
            raise InputError(f"{where}: {SUCCESS} exists but {MANIFEST} does not; the output is inconsistent")
        body = fs.cat_file(f"{root}/{MANIFEST}")
    try:
        marker = json.loads(success)
        manifest = json.loads(body)
        claimed = (marker["run_id"], marker["manifest_sha256"])
    except (ValueError, TypeError, KeyError):
        raise InputError(f"{where}: {SUCCESS} or {MANIFEST} is not a cnpii marker or manifest") from None
    if claimed != (manifest.get("run_id"), hashlib.sha256(body).hexdigest()):
        raise InputError(f"{where}: {SUCCESS} does not match {MANIFEST} (another run's marker, or a changed "
                         "manifest); the output is inconsistent")
    listed = {o["relative_path"]: o["bytes"] for o in manifest.get("outputs", [])}
    present = {f.relative_path: f.size for f in _data_files(fs, root)}
    if present != listed:
        differ = sorted(p for p in set(listed) | set(present) if listed.get(p) != present.get(p))
        raise InputError(f"{where}: data files differ from {MANIFEST} (missing, extra or resized: "
                         f"{', '.join(differ)}); the output is inconsistent")
    return manifest


def read_manifest(output: str, storage_options: StorageOptions = None) -> dict[str, Any]:
    """The manifest of a complete output (module docstring); InputError when absent or inconsistent."""
    fs, root = _resolve(output, storage_options)
    return _verified_manifest(fs, root)


def has_manifest(location: str, storage_options: StorageOptions = None) -> bool:
    """Whether `location` is a folder holding a cnpii manifest (a cnpii output, complete or not)."""
    fs, root = _resolve(location, storage_options)
    with _io("look up the manifest", location):
        return fs.exists(f"{root}/{MANIFEST}")


def is_complete(output: str, storage_options: StorageOptions = None) -> bool:
    """Whether `output` holds a complete, consistent cnpii result a reader may trust."""
    try:
        read_manifest(output, storage_options)
    except InputError:
        return False
    return True


def _identity(fs: fsspec.AbstractFileSystem, path: str) -> tuple[str, str]:
    """What two locations are compared by: the storage kind and the path (symlinks resolved locally)."""
    if isinstance(fs, LocalFileSystem):
        return "file", realpath(path)
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    return protocol, path


def _contains(outer: str, inner: str) -> bool:
    return inner == outer or inner.startswith(outer.rstrip("/") + "/")


class OutputLocation:
    """An output folder and one run's staging area in it; `commit` publishes by the module's protocol."""

    def __init__(self, output: str, run_id: str, storage_options: StorageOptions = None,
                 mode: Literal["error", "overwrite"] = "error") -> None:
        if mode not in ("error", "overwrite"):
            raise ValueError(f"mode must be 'error' or 'overwrite', not {mode!r}")
        if not run_id or "/" in run_id or _is_metadata(run_id):
            raise ValueError("run_id must be a non-empty name without '/', not starting with '_' or '.'")
        self.output = output
        self.run_id = run_id
        self.mode = mode
        self._options = storage_options
        self._fs, self._root = _resolve(output, storage_options)
        self._staging = f"{self._root}/{STAGING}/{run_id}"
        self._existed: bool | None = None  # whether the output folder was there before this run
        self._leased = False

    def __repr__(self) -> str:
        return f"OutputLocation({self.output!r}, run_id={self.run_id!r}, mode={self.mode!r})"

    def _url(self, path: str) -> str:
        return _url(self._fs, path)

    def check(self, inputs: Sequence[str]) -> None:
        """Refuse an output overlapping an input, holding a result (mode "error") or someone else's folder."""
        here = _identity(self._fs, self._root)
        for input in inputs:
            there = _identity(*_resolve(input, self._options))
            if here[0] == there[0] and (_contains(here[1], there[1]) or _contains(there[1], here[1])):
                raise InputError(f"output {self.output} and input {input} overlap (the same folder, or one "
                                 "inside the other); write the output to a separate location")
        self._refuse_existing()

    def _refuse_existing(self) -> None:
        self._fs.invalidate_cache(self._root)
        with _io("look up the output", self.output):
            exists = self._fs.exists(self._root)
            if self._existed is None:
                self._existed = exists
            if not exists:
                return
            if self._fs.isfile(self._root):
                raise OutputExistsError(f"{self.output}: is a file; the output must be a folder")
            others = [e for e in self._fs.ls(self._root, detail=False) if _name(e) not in (STAGING, LEASE)]
            ours = (self._fs.exists(f"{self._root}/{MANIFEST}")
                    or bool(self._fs.glob(f"{self._root}/{STAGING}/*/{MANIFEST}")))
        if not others:
            return
        if not ours:
            raise OutputExistsError(f"{self.output}: exists, is not empty and is not a cnpii output (no "
                                    f"{MANIFEST}); cnpii never deletes a folder it did not write — choose "
                                    "another output")
        if self.mode == "error":
            state = ("a committed result" if is_complete(self.output, self._options)
                     else "an interrupted cnpii result (no valid _SUCCESS)")
            raise OutputExistsError(f"{self.output}: already holds {state}; pass mode='overwrite' "
                                    "(CLI: --mode overwrite) to replace it")
        listed = self._listed_outputs()
        foreign = [f.relative_path for f in _data_files(self._fs, self._root)
                   if f.relative_path not in listed]
        if foreign:
            raise OutputExistsError(f"{self.output}: holds {len(foreign)} data files no cnpii manifest lists "
                                    f"({', '.join(foreign[:3])}{', …' if len(foreign) > 3 else ''}); cnpii "
                                    "never deletes files it did not write — move them away or choose "
                                    "another output")

    def _listed_outputs(self) -> set[str]:
        """The data files cnpii wrote here: those the committed manifest lists, and those of runs that
        stopped mid-commit (their manifest is still in staging; step 1 of `commit` writes it there)."""
        listed: set[str] = set()
        with _io("list the manifests", self.output):
            manifests = [f"{self._root}/{MANIFEST}", *self._fs.glob(f"{self._root}/{STAGING}/*/{MANIFEST}")]
        for path in manifests:
            try:
                with self._fs.open(path, "rb") as f:
                    outputs = json.load(f).get("outputs", [])
            except (OSError, ValueError, AttributeError):
                continue  # absent or unreadable: lists nothing
            listed |= {o["relative_path"] for o in outputs if isinstance(o, dict) and "relative_path" in o}
        return listed

    def staged_url(self, relative_path: str) -> str:
        """Where the output file for `relative_path` is written before commit (local parent dirs created)."""
        parts = relative_path.split("/")
        if relative_path.startswith("/") or any(p in ("", ".", "..") or _is_metadata(p) for p in parts):
            raise ValueError(f"{relative_path}: not a relative data path inside the dataset")
        return self._in_staging(f"{self._staging}/{relative_path}")

    def scratch_url(self, name: str) -> str:
        """Where the run keeps a working file that is never published: `_scratch/<name>` in its staging
        folder, skipped as metadata and removed with the folder at commit or abort."""
        return self._in_staging(f"{self._staging}/{SCRATCH}/{name}")

    def _in_staging(self, path: str) -> str:
        """The URL of `path` in the staging folder, its local parent folders created."""
        if isinstance(self._fs, LocalFileSystem):
            with _io("create the staging folder", self._url(path)):
                self._fs.makedirs(posixpath.dirname(path), exist_ok=True)
        return self._url(path)

    def staged_files(self) -> list[StagedFile]:
        """The files this run staged, with rows (from the Parquet footer), bytes and sha256."""
        self._fs.invalidate_cache(self._staging)
        with _io("look up the staging folder", self._url(self._staging)):
            if not self._fs.isdir(self._staging):
                return []
        return [StagedFile(f.url, f.relative_path, f.size, _rows(self._fs, self._staged(f.relative_path)),
                           _sha256(self._fs, self._staged(f.relative_path)))
                for f in _data_files(self._fs, self._staging)]

    def _staged(self, relative_path: str) -> str:
        return f"{self._staging}/{relative_path}"

    def _final(self, relative_path: str) -> str:
        return f"{self._root}/{relative_path}"

    def _write(self, path: str, body: bytes) -> None:
        with _io("write", self._url(path)), self._fs.open(path, "wb") as f:
            f.write(body)

    def _remove(self, path: str, recursive: bool = False) -> None:
        with _io("remove", self._url(path)):
            if self._fs.exists(path):
                self._fs.rm(path, recursive=recursive)

    def _move(self, source: str, target: str) -> None:
        with _io(f"move into place from {self._url(source)}", self._url(target)):
            if isinstance(self._fs, LocalFileSystem):
                self._fs.makedirs(posixpath.dirname(target), exist_ok=True)
            self._fs.mv(source, target)

    def commit(self, document: Mapping[str, Any]) -> Committed:
        """Publish the staged files with a manifest built from `document`; see the module docstring."""
        if self._leased and self._lease_holder() != self.run_id:
            raise OutputBusyError(f"{self.output}: this run's lease expired and another run holds the "
                                  "output; nothing was committed")
        self._refuse_existing()
        staged = self.staged_files()
        if not staged:
            raise StorageError(f"{self._url(self._staging)}: nothing staged; an empty result is not "
                               "committed")
        outputs = [{"relative_path": s.relative_path, "rows": s.rows, "bytes": s.bytes, "sha256": s.sha256}
                   for s in staged]
        body = _json_bytes({**document, "run_id": self.run_id, "outputs": outputs})
        new = {s.relative_path for s in staged}
        with _io("look up the output", self.output):
            exists = self._fs.isdir(self._root)
        stale = [f for f in _data_files(self._fs, self._root) if f.relative_path not in new] if exists else []
        staged_manifest = self._staged(MANIFEST)
        self._write(staged_manifest, body)
        self._remove(self._final(SUCCESS))
        for old in stale:
            self._remove(self._final(old.relative_path))
        for file in staged:
            self._move(self._staged(file.relative_path), self._final(file.relative_path))
        self._move(staged_manifest, self._final(MANIFEST))
        marker = {"run_id": self.run_id, "manifest_sha256": hashlib.sha256(body).hexdigest()}
        self._write(self._final(SUCCESS), _json_bytes(marker))
        self._remove_staging(lambda run_id: run_id <= self.run_id)
        return Committed(self._url(self._final(MANIFEST)), self._url(self._final(SUCCESS)))

    def abort(self) -> None:
        """Remove this run's staging folder, and the output folder if this run created it and it is now
        empty (a local folder: object stores have none); safe to call more than once."""
        self._remove_staging(lambda run_id: run_id == self.run_id)
        self._remove_if_created_and_empty()

    @contextmanager
    def lease(self) -> Iterator[None]:
        """Hold the output for this run: `_LEASE.json` names the run and an expiry, renewed in the
        background while the run goes on, removed when it ends however it ends. A second run into the
        same output is refused while an unexpired lease of another run is there (a run killed outright
        leaves its lease to expire after `LEASE_SECONDS`). Object stores have no create-if-absent, so a
        lease is written, then read back: a run that finds another's lease there gives way."""
        self._take_lease()
        self._leased = True
        stop = threading.Event()

        def renew() -> None:  # only while the lease is still this run's: never over another run's
            while not stop.wait(LEASE_SECONDS / 3):
                with suppress(StorageError):
                    if self._lease_holder() == self.run_id:
                        self._write(self._lease, self._lease_body())

        renewer = threading.Thread(target=renew, name=f"cnpii-lease-{self.run_id}", daemon=True)
        renewer.start()
        try:
            yield
        finally:
            stop.set()
            renewer.join()
            self._remove_staging(lambda run_id: run_id == self.run_id)  # whatever path the run left by
            if self._lease_holder() == self.run_id:
                self._remove(self._lease)
            self._remove_if_created_and_empty()

    @property
    def _lease(self) -> str:
        return f"{self._root}/{LEASE}"

    def _lease_body(self) -> bytes:
        return _json_bytes({"run_id": self.run_id, "expires": time.time() + LEASE_SECONDS})

    def _lease_holder(self, *, unexpired: bool = False) -> str | None:
        self._fs.invalidate_cache(self._root)
        try:
            with self._fs.open(self._lease, "rb") as f:
                held = json.load(f)
        except (OSError, ValueError):
            return None
        if not isinstance(held, dict) or (unexpired and float(held.get("expires", 0)) < time.time()):
            return None
        return str(held.get("run_id"))

    def _take_lease(self) -> None:
        holder = self._lease_holder(unexpired=True)
        if holder not in (None, self.run_id):
            raise OutputBusyError(f"{self.output}: run {holder} is writing here ({LEASE}); wait for it, "
                                    f"or, if that run is dead, remove {LEASE} or wait {LEASE_SECONDS} s for "
                                    "it to expire")
        if isinstance(self._fs, LocalFileSystem):
            with _io("create the output folder", self.output):
                self._fs.makedirs(self._root, exist_ok=True)
        self._write(self._lease, self._lease_body())
        holder = self._lease_holder()
        if holder != self.run_id:
            raise OutputBusyError(f"{self.output}: run {holder} took the output at the same moment; "
                                  "run again once it has finished")

    def _remove_if_created_and_empty(self) -> None:
        if self._existed is False and isinstance(self._fs, LocalFileSystem):
            with _io("remove the empty output folder", self.output):
                if self._fs.isdir(self._root) and not self._fs.ls(self._root, detail=False):
                    self._fs.rmdir(self._root)

    def _remove_staging(self, chosen: Callable[[str], bool]) -> None:
        """Remove the staging folders whose run id is `chosen`, then `_staging` itself once it is empty."""
        folder = f"{self._root}/{STAGING}"
        self._fs.invalidate_cache(folder)
        with _io("list the staging folder", self._url(folder)):
            runs = self._fs.ls(folder, detail=False) if self._fs.isdir(folder) else []
        for run in runs:
            if chosen(_name(run)):
                self._remove(run, recursive=True)
        self._fs.invalidate_cache(folder)
        with _io("remove the empty staging folder", self._url(folder)):
            if self._fs.isdir(folder) and not self._fs.ls(folder, detail=False):
                self._fs.rmdir(folder)
