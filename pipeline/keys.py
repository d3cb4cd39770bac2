"""Key material for keyed actions (tokenize, fake), loaded from the environment or a file, never a policy.

A policy names only where the key lives (`key: {env: CNPII_KEY}` or `key: {file: /run/secrets/cnpii}`).
The key never enters a task graph: a pickled `Keyring` carries its source only, and each Dask worker
re-reads the key from its own environment or file. Each use gets its own subkey (HKDF-SHA256 with the use
as `info`), so a token of one kind says nothing about another kind. The manifest records a fingerprint,
from which the key cannot be recovered.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import BaseModel, ConfigDict, model_validator

from pipeline.errors import UsageError

MIN_KEY_BYTES = 32
"""A key shorter than 256 bits is refused: keyed tokens of phones are only as safe as the key is long."""
MAX_KEY_BYTES = 1024
MIN_DISTINCT_BYTES = 12
"""32 random bytes hold about 30 different values, a 64-character token about 40: far fewer is no key."""
DEFAULT_KEY_ENV = "CNPII_KEY"


class KeyMaterialError(UsageError, ValueError):
    """The key is missing, unreadable or too short; the message names its source, never its value."""


class KeySource(BaseModel):
    """Where the key is read from: an environment variable (default `CNPII_KEY`) or a file."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    env: str | None = None
    file: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> KeySource:
        if self.env and self.file:
            raise ValueError("give the key as either 'env' or 'file', not both")
        return self

    def describe(self) -> str:
        """Where the key comes from, for messages: `environment variable CNPII_KEY` or `file /path`."""
        return f"file {self.file}" if self.file else f"environment variable {self.env or DEFAULT_KEY_ENV}"

    def read(self) -> bytes:
        """The key bytes, normalized the same way from either source (a trailing newline, which a file
        editor or `echo` adds, is not part of the key) and checked (`check_key`)."""
        if self.file:
            try:
                material = Path(self.file).read_bytes()
            except OSError as error:
                raise KeyMaterialError(
                    f"cannot read the key from {self.describe()} ({error.strerror})"
                ) from None
        else:
            material = os.environ.get(self.env or DEFAULT_KEY_ENV, "").encode()
        material = material.rstrip(b"\r\n")
        if not material:
            raise KeyMaterialError(
                f"no key in {self.describe()}; set it to at least {MIN_KEY_BYTES} random bytes, "
                "e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))'"
            )
        check_key(material, self.describe())
        return material


def check_key(material: bytes, where: str) -> None:
    """A minimal strength check, on length and variety, so that a placeholder (`aaaa…`, 32 spaces) or a
    document named by mistake (a system file) is refused; KeyMaterialError names the source, never the key.
    It cannot prove randomness: generate keys with a CSPRNG."""
    problem = None
    if len(material) < MIN_KEY_BYTES:
        problem = f"is {len(material)} bytes; at least {MIN_KEY_BYTES} are needed"
    elif len(material) > MAX_KEY_BYTES:
        problem = f"is {len(material):,} bytes: a key is a short random secret, not a document"
    elif material != material.strip():
        problem = "starts or ends with white space, which one source would keep and another drop"
    elif len(set(material)) < MIN_DISTINCT_BYTES:
        problem = f"has only {len(set(material))} different bytes: it is not random"
    if problem:
        raise KeyMaterialError(f"the key in {where} {problem}; use at least {MIN_KEY_BYTES} random bytes, "
                               "e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))'")


class Keyring:
    """A loaded key and the subkeys derived from it. Pickles as its source, never as key material."""

    __slots__ = ("_key", "fingerprint", "source")

    def __init__(self, key: bytes, source: KeySource) -> None:
        if len(key) < MIN_KEY_BYTES:
            raise KeyMaterialError(f"a key needs at least {MIN_KEY_BYTES} bytes")
        self._key = key
        self.source = source
        self.fingerprint = hmac.new(key, b"cnpii key fingerprint v1", hashlib.sha256).hexdigest()[:16]
        """Identifies the key in manifests (so runs with the same key can be recognized); not reversible."""

    @classmethod
    def load(cls, source: KeySource | None = None) -> Keyring:
        """Read the key from its source; KeyMaterialError (a ValueError) names an unusable source."""
        source = source or KeySource()
        return _load_cached(source, source.read())

    def subkey(self, purpose: str, length: int = 32) -> bytes:
        """A key for one use (`tokenize/CN_PHONE`, `encrypt`, …), derived with HKDF-SHA256."""
        return _derive(self._key, purpose, length)

    def __reduce__(self):
        return (Keyring.load, (self.source,))

    def __repr__(self) -> str:
        return f"Keyring(source={self.source.describe()!r}, fingerprint={self.fingerprint!r})"


@functools.lru_cache(maxsize=8)
def _load_cached(source: KeySource, key: bytes) -> Keyring:
    return Keyring(key, source)


@functools.lru_cache(maxsize=64)
def _derive(key: bytes, purpose: str, length: int) -> bytes:
    return HKDF(hashes.SHA256(), length, salt=None, info=b"cnpii/" + purpose.encode()).derive(key)
