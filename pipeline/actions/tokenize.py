"""tokenize: replace an entity by a keyed, deterministic token, so that joins and counts still work.

The same value gives the same token in every column, file, partition, run and worker process, because
the token depends only on the key, the entity type, the format and the normalized value (`138-1234-5678`
and `+86 13812345678` are one value). Each entity type and format has its own subkey
(`tokenize/hmac/CN_PHONE`, …); no column name enters a token. Three formats:

- `hmac` (default): `CNPH_` / `CNID_` / `CNBC_` + 24 lower-case base32 characters, the first 120 bits
  of HMAC-SHA256(subkey, value). Not reversible. 120 bits because the birthday bound for n distinct
  values is about n² / 2^121: for every mobile number that could exist (n ≈ 10^10 ≈ 2^33) that is 2^-55,
  while 80 bits would already give 2^-15. Base32 in lower case has no `0`, `1`, `8` or `9`, so a token
  cannot hold anything `recognizers.detect` finds (a mobile starts with 1, a landline with 0, a card
  needs 15 digits in a row not glued to letters).
- `preserving` (format-preserving): a value of the same shape, from a keyed permutation (a 10-round
  FF1-style Feistel on decimal digits, HMAC-SHA256 round function, tweak = the part kept and the length,
  cycle-walking into the exact domain), landing where no real number lives:
  - resident ID → 18 characters with a valid MOD 11-2 check character, but a province code that does not
    exist (and that begins no known BIN, so the digits are not a card either); the 2023 foreign permanent
    resident ID keeps its leading 9. Injective: 35 province codes map into 37 unused ones.
  - card → same length, Luhn-valid; by default it starts with 0 (ISO/IEC 7812 major industry identifier
    0 is assigned to no card issuer), with `keep_bin: true` it keeps the 6-digit BIN (injective per BIN
    and length, but then it IS a card to any scanner and may equal a real card: `output_may_hold_entity`).
  - mobile → 11 digits starting 10, 11 or 12 (never mobile segments); 13-digit IoT numbers →
    13 digits starting 10-12.
  - landline → the area code kept, the local number permuted into one starting 0 or 1 (real local
    numbers start 2-9).
  Collision analysis. Where the unused space is at least as large as the used one, the map is a
  permutation of the source index followed by an injection, so two values never share a token: IDs,
  IoT numbers, cards with `keep_bin`. Where it is smaller, no map can be both injective and free of real
  numbers (pigeonhole), and keeping tokens undetectable wins: the permuted index is reduced modulo the
  output space, so each token stands for at most ceil(sources / outputs) values, and two distinct values
  share a token with probability about 1 / outputs. Mobiles: 7·10^9 → 3·10^9, at most 3 values per
  token, 2·10^-10 per pair, so about one shared token among 10^5 distinct numbers. Landlines: at most 4
  values per token within an area code, 4·10^-7 per pair for 7-digit local numbers (4·10^-8 for 8-digit
  ones). Cards without `keep_bin`: at most 10 values per token, about 10^-14 per pair for 16 digits.
  Card check digits are recomputed, so a card that fails Luhn shares its token with the Luhn-valid card
  that has the same other digits. Use `hmac` where phone tokens are join keys over large tables.
  Values of no known shape (`declared` cells that did not parse, Hong Kong/Macau permit numbers) get
  the `hmac` token instead. The prefix tables below are frozen: changing one changes every token.
- `reversible`: `CNRV_PH_` / `CNRV_ID_` / `CNRV_BC_` + base32 of AES-SIV(subkey, value, associated data =
  entity type): deterministic authenticated encryption, turned back by `detokenize` (and `cnpii
  detokenize`) only with the key. This is de-identification, not anonymization (PIPL art. 73).

The action object holds a `Keyring`, which pickles as its key source; HMAC and AES-SIV objects are cached
per process (module-level, keyed by the keyring), never on the action.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pyarrow as pa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from pydantic import model_validator

from pipeline.actions.base import DECLARED, Action, Params, Target, register
from pipeline.keys import Keyring
from recognizers import bank_card, resident_id
from recognizers.arrays import strings
from recognizers.registry import REGISTRY

TOKEN_TYPES: dict[str, str] = {name: entity.token_code for name, entity in REGISTRY.items()}
"""Short entity codes in tokens (the registry's): hmac tokens start `CN<code>_`, reversible ones
`CNRV_<code>_`."""
HMAC_TOKEN_BYTES = 15  # a multiple of 5: whole base32 blocks, no padding (see hmac_tokens)
"""120 bits of HMAC-SHA256 per token (see the module docstring for the collision bound)."""
FEISTEL_ROUNDS = 10

# Province codes that real 18-character IDs start with (GB/T 2260 plus 71 and 81/82/83), frozen here
# because each token depends on a code's position in this list.
ID_PROVINCES = (
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41", "42",
    "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71", "81", "82",
    "83",
)  # fmt: skip
# Two-digit codes that are no province, do not start with 9 (foreign IDs), and begin no known BIN or
# card network prefix, neither alone nor after a 9: an 18-digit token starting with one of them (or with
# 9 and one of them) is neither a valid ID nor a card with a known issuer.
UNUSED_ID_CODES = (
    "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "16", "17", "18", "19", "20", "28", "29",
    "30", "38", "39", "57", "59", "67", "70", "72", "73", "74", "75", "76", "77", "78", "79", "80", "86",
    "87", "88", "89",
)  # fmt: skip
MOBILE_SOURCES = ("13", "14", "15", "16", "17", "18", "19")
NEVER_MOBILE = ("10", "11", "12")
LOCAL_SOURCES = ("2", "3", "4", "5", "6", "7", "8", "9")
NEVER_LOCAL = ("0", "1")
CARD_SOURCES = ("0", "1", "2", "3", "4", "5", "6", "7", "8", "9")
NO_ISSUER = ("0",)
BIN_LENGTH = 6

_ENTITY_OF_CODE = {code: entity for entity, code in TOKEN_TYPES.items()}
TOKEN_SHAPE = rf"^\s*CN(?:RV_)?(?:{'|'.join(_ENTITY_OF_CODE)})_[a-z2-7]{{16,}}\s*$"
"""RE2: a whole value that is an hmac or reversible token (a cnpii output fed back in holds them)."""
_REVERSIBLE = re.compile(rf"CNRV_({'|'.join(_ENTITY_OF_CODE)})_([a-z2-7]+)")


class TokenError(ValueError):
    """A reversible token is malformed or fails authentication; the message never holds the token."""


class TokenizeParams(Params):
    """`format`: hmac (default), preserving or reversible; `keep_bin`: a preserving card token keeps
    the card's 6-digit BIN (it then looks like, and may be, a real card)."""

    format: Literal["hmac", "preserving", "reversible"] = "hmac"
    keep_bin: bool = False

    @model_validator(mode="after")
    def _bin_needs_preserving(self) -> TokenizeParams:
        if self.keep_bin and self.format != "preserving":
            raise ValueError("keep_bin applies only to format: preserving")
        return self


@dataclass(frozen=True, slots=True)
class _Family:
    """Values whose leading digits are one of `sources` map to values led by one of `outputs`
    (prefixes of equal length), the remaining digits permuted with them."""

    name: str
    sources: tuple[str, ...]
    outputs: tuple[str, ...]

    def fits(self, digits: str) -> bool:
        width = len(self.sources[0])
        return digits.isdigit() and len(digits) > width + 1 and digits[:width] in self.sources

    def map(self, mac: hmac.HMAC, kept: str, digits: str) -> str:
        """The output digits for `digits` (same length), given the kept part that tweaks the map."""
        width = len(self.sources[0])
        free = len(digits) - width
        x = self.sources.index(digits[:width]) * 10**free + int(digits[width:])
        outputs = len(self.outputs) * 10**free
        tweak = f"{self.name}|{kept}|{len(digits)}|".encode()
        y = permute(mac, tweak, x, max(len(self.sources) * 10**free, outputs)) % outputs
        return self.outputs[y // 10**free] + f"{y % 10**free:0{free}d}"


_RESIDENT = _Family("resident", ID_PROVINCES, UNUSED_ID_CODES)
_FOREIGN = _Family("foreign", ID_PROVINCES, UNUSED_ID_CODES)
_MOBILE = _Family("mobile", MOBILE_SOURCES, NEVER_MOBILE)
_IOT = _Family("iot", ("14",), NEVER_MOBILE)
_LANDLINE = _Family("landline", LOCAL_SOURCES, NEVER_LOCAL)
_CARD = _Family("card", CARD_SOURCES, NO_ISSUER)
_CARD_BIN = _Family("card-bin", ("",), ("",))


def permute(mac: hmac.HMAC, tweak: bytes, x: int, n: int) -> int:
    """A keyed permutation of range(n) applied to `x`: a balanced Feistel network on the decimal digits
    of 10^width >= n (FF1's alternating halves, HMAC round function), cycle-walking until inside range(n)."""
    width = max(2, len(str(n - 1)))
    left_width, right_width = width // 2, width - width // 2
    while True:
        a, b = divmod(x, 10**right_width)
        for i in range(FEISTEL_ROUNDS):
            half, other = (left_width, right_width) if i % 2 == 0 else (right_width, left_width)
            round_mac = mac.copy()
            round_mac.update(tweak + bytes([i]) + f"{b:0{other}d}".encode())
            a, b = b, (a + int.from_bytes(round_mac.digest()[:16], "big")) % 10**half
        x = a * 10**right_width + b
        if x < n:
            return x


@functools.lru_cache(maxsize=64)
def _mac(keyring: Keyring, purpose: str) -> hmac.HMAC:
    """An HMAC-SHA256 prototype keyed with the subkey for `purpose` (copy it before use)."""
    return hmac.new(keyring.subkey(purpose), digestmod="sha256")


def keyed_digest(keyring: Keyring, purpose: str, message: str) -> bytes:
    """HMAC-SHA256 of `message` under the subkey for `purpose`."""
    mac = _mac(keyring, purpose).copy()
    mac.update(message.encode())
    return mac.digest()


@functools.lru_cache(maxsize=8)
def _siv(keyring: Keyring) -> AESSIV:
    return AESSIV(keyring.subkey("tokenize/reversible", 64))


def _b32(data: bytes) -> str:
    return base64.b32encode(data).decode().rstrip("=").lower()


def hmac_token(keyring: Keyring, entity: str, value: str) -> str:
    """`CNPH_…`: the typed, truncated HMAC-SHA256 token of a normalized value."""
    digest = keyed_digest(keyring, f"tokenize/hmac/{entity}", value)
    return f"CN{TOKEN_TYPES[entity]}_{_b32(digest[:HMAC_TOKEN_BYTES])}"


def hmac_tokens(keyring: Keyring, entity: str, values: pa.Array) -> pa.Array:
    """`hmac_token` of many values at once: the truncated digests are base32-encoded in one call (15
    bytes are 24 characters without padding, so the encoding of the concatenation is the concatenation
    of the encodings) and laid out as fixed-width strings behind the type prefix."""
    purpose = f"tokenize/hmac/{entity}"
    digests = [keyed_digest(keyring, purpose, value)[:HMAC_TOKEN_BYTES] for value in values.to_pylist()]
    encoded = np.frombuffer(base64.b32encode(b"".join(digests)).lower(), np.uint8).reshape(len(digests), -1)
    prefix = np.frombuffer(f"CN{TOKEN_TYPES[entity]}_".encode(), np.uint8)
    return strings(np.concatenate([np.broadcast_to(prefix, (len(digests), len(prefix))), encoded], axis=1))


def reversible_token(keyring: Keyring, entity: str, value: str) -> str:
    """`CNRV_PH_…`: AES-SIV of the value with the entity type as associated data."""
    sealed = _siv(keyring).encrypt(value.encode(), [entity.encode()])
    return f"CNRV_{TOKEN_TYPES[entity]}_{_b32(sealed)}"


def detokenize(token: str, keyring: Keyring) -> str:
    """The value inside a reversible token; TokenError if it is malformed, tampered with or made with
    another key (the message never repeats the token)."""
    match = _REVERSIBLE.fullmatch(token.strip())
    if match is None:
        raise TokenError("not a reversible token (expected CNRV_<type>_<lower-case base32>)")
    code, body = match.groups()
    try:
        sealed = base64.b32decode(body.upper() + "=" * (-len(body) % 8))
    except binascii.Error:
        raise TokenError("not a reversible token (its body is not base32)") from None
    try:
        return _siv(keyring).decrypt(sealed, [_ENTITY_OF_CODE[code].encode()]).decode()
    except InvalidTag:
        raise TokenError("token failed authentication: tampered with, or made with another key") from None


def preserving_token(keyring: Keyring, target: Target, keep_bin: bool) -> str | None:
    """A value of the entity's shape that no real one has (see the module docstring), or None when the
    value has no shape this knows (the caller then uses the hmac token)."""
    value, mac = target.value, _mac(keyring, f"tokenize/preserving/{target.entity}")
    if target.subtype == DECLARED:
        return None
    if target.entity == "CN_RESIDENT_ID" and len(value) == 18:
        kept, family = ("9", _FOREIGN) if value[0] == "9" else ("", _RESIDENT)
        digits = value[len(kept) : 17]
        if family.fits(digits):
            body = kept + family.map(mac, kept, digits)
            return body + resident_id.calc_check_digit(body)
    elif target.entity == "CN_PHONE":
        if value[:1] == "0":
            area = value[:3] if value[1:2] in ("1", "2") else value[:4]
            if _LANDLINE.fits(value[len(area) :]):
                return area + _LANDLINE.map(mac, area, value[len(area) :])
        for length, family in ((11, _MOBILE), (13, _IOT)):
            if len(value) == length and family.fits(value):
                return family.map(mac, "", value)
    elif target.entity == "CN_BANK_CARD" and value.isdigit() and 15 <= len(value) <= 19:
        kept = value[:BIN_LENGTH] if keep_bin else ""
        family = _CARD_BIN if keep_bin else _CARD
        body = kept + family.map(mac, kept, value[len(kept) : -1])
        return body + bank_card.calc_check_digit(body)
    return None


@register
class Tokenize(Action):
    """Replace the entity by a deterministic keyed token (hmac, format-preserving or reversible)."""

    name = "tokenize"
    needs_key = True
    Params = TokenizeParams

    def replace(self, target: Target) -> str:
        """The token for the target's normalized value (equal values give equal tokens everywhere)."""
        keyring, fmt = self.keyring, self.params.format
        if fmt == "reversible":
            return reversible_token(keyring, target.entity, target.value)
        if fmt == "preserving":
            token = preserving_token(keyring, target, self.params.keep_bin)
            if token is not None:
                return token
        return hmac_token(keyring, target.entity, target.value)

    def replace_many(self, entity: str, written: pa.Array, values: pa.Array) -> pa.Array | None:
        """hmac tokens in bulk (`hmac_tokens`); the other formats go value by value."""
        if self.params.format != "hmac" or not len(values):
            return None
        return hmac_tokens(self.keyring, entity, values)

    @classmethod
    def output_may_hold_entity(cls, params: Mapping[str, Any]) -> bool:
        """Only format-preserving card tokens that keep a real BIN can be detected (as cards)."""
        validated = cls.Params.model_validate(dict(params))
        return validated.format == "preserving" and validated.keep_bin
