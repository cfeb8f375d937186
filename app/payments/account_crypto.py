"""Account numbers encrypted at rest (RULES.md §5): AES-256-GCM under data keys named in a
`PAYMENT_DATA_KEY`-style setting, the first key being the one that encrypts.

A token is `v1.<key_id>.<base64url(nonce | ciphertext and tag)>`, unpadded, with a fresh 96-bit
nonce each time. The associated data is the token's header (`v1.<key_id>.`) followed by the
caller's context (say, the authorization's id), so a token copied to another record, or given
another key id, does not decrypt. Errors name the problem, never a key or the plaintext."""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = "v1"
KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
SINGLE_KEY_ID = "k1"  # the id of a setting that is one bare key
MASK = "\u2022" * 4  # ••••

_KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")
_PAYLOAD = re.compile(r"[A-Za-z0-9_-]+")
_URLSAFE_TO_STANDARD = str.maketrans("-_", "+/")


@dataclass(frozen=True)
class DataKey:
    key_id: str
    key: bytes = field(repr=False)  # 32 bytes; never in a repr, a log or an error


def _decode_key(encoded: str, where: str) -> bytes:
    text = encoded.strip().rstrip("=").translate(_URLSAFE_TO_STANDARD)  # either alphabet
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{where}: the key is not valid base64") from None
    if len(raw) != KEY_BYTES:
        raise ValueError(f"{where}: the key must be {KEY_BYTES} bytes, not {len(raw)}")
    return raw


def parse_keys(setting: str) -> dict[str, DataKey]:
    """The data keys of a setting: comma-separated `key_id:base64key` entries, the current key
    first (one bare base64 key is key `k1`). Refuses empty entries, bad ids, keys that are not 32
    bytes and repeated ids, with a ValueError naming the entry but never showing the key."""
    entries = [entry.strip() for entry in setting.split(",")]
    if entries == [""]:
        raise ValueError("PAYMENT_DATA_KEY: no key is set")
    if len(entries) == 1 and ":" not in entries[0]:
        return {SINGLE_KEY_ID: DataKey(SINGLE_KEY_ID, _decode_key(entries[0], "PAYMENT_DATA_KEY"))}
    keys: dict[str, DataKey] = {}
    for n, entry in enumerate(entries, start=1):
        where = f"PAYMENT_DATA_KEY entry {n}"
        if not entry:
            raise ValueError(f"{where} is empty")
        key_id, colon, encoded = entry.partition(":")
        key_id = key_id.strip()
        if not colon:
            raise ValueError(f"{where}: expected key_id:base64key")
        if not _KEY_ID.fullmatch(key_id):
            raise ValueError(f"{where}: a key id is 1 to 32 letters, digits, '-' or '_'")
        if key_id in keys:
            raise ValueError(f"{where}: key id {key_id!r} is listed twice")
        keys[key_id] = DataKey(key_id, _decode_key(encoded, f"{where} ({key_id!r})"))
    return keys


def current_key(keys: Mapping[str, DataKey]) -> DataKey:
    """The key that encrypts: the first listed."""
    for key in keys.values():
        return key
    raise ValueError("no payment data key is configured")


def _header(key_id: str) -> str:
    return f"{VERSION}.{key_id}."


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _split(token: str) -> tuple[str, bytes]:
    """The key id and the nonce-and-ciphertext of a well-formed token."""
    parts = token.split(".") if isinstance(token, str) else []
    if len(parts) != 3 or parts[0] != VERSION:
        raise ValueError("not a v1 payment data token")
    key_id, payload = parts[1], parts[2]
    if not _KEY_ID.fullmatch(key_id) or not _PAYLOAD.fullmatch(payload):
        raise ValueError("not a v1 payment data token")
    try:
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    except (binascii.Error, ValueError):
        raise ValueError("not a v1 payment data token") from None
    if len(raw) < NONCE_BYTES + TAG_BYTES:
        raise ValueError("not a v1 payment data token")
    return key_id, raw


def encrypt(keys: Mapping[str, DataKey], plaintext: str, *, context: bytes) -> str:
    """`plaintext` encrypted under the current key, bound to `context`."""
    key = current_key(keys)
    header = _header(key.key_id)
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(key.key).encrypt(nonce, plaintext.encode("utf-8"), header.encode() + context)
    return header + _b64url(nonce + sealed)


def decrypt(keys: Mapping[str, DataKey], token: str, *, context: bytes) -> str:
    """The plaintext of `token`. A ValueError if its key is not listed, or it was altered, or it
    belongs to another context: the message says which of those it may be, nothing more."""
    key_id, raw = _split(token)
    key = keys.get(key_id)
    if key is None:
        raise ValueError(f"payment data token: key id {key_id!r} is not configured")
    nonce, sealed = raw[:NONCE_BYTES], raw[NONCE_BYTES:]
    try:
        plain = AESGCM(key.key).decrypt(nonce, sealed, _header(key_id).encode() + context)
    except InvalidTag:
        raise ValueError(
            "payment data token does not decrypt: altered, or for another context"
        ) from None
    return plain.decode("utf-8")


def needs_rotation(keys: Mapping[str, DataKey], token: str) -> bool:
    """Whether `token` was encrypted under a key other than the current one."""
    key_id, _ = _split(token)
    return key_id != current_key(keys).key_id


def rotate(keys: Mapping[str, DataKey], token: str, *, context: bytes) -> str:
    """`token` re-encrypted under the current key (decrypted first, so a bad token is refused);
    a token already under the current key comes back as it is."""
    plaintext = decrypt(keys, token, context=context)
    if not needs_rotation(keys, token):
        return token
    return encrypt(keys, plaintext, context=context)


def mask(number: str) -> str:
    """An account number as shown: four bullets and its last 4 digits ("••••6789"). A number of
    4 digits or fewer shows only the bullets: its last 4 digits would be all of it."""
    digits = "".join(c for c in number if c.isascii() and c.isdigit())
    return MASK + digits[-4:] if len(digits) > 4 else MASK
