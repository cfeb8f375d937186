"""Tamper evidence, pure: each event's keyed MAC, and the chain that seals batches of them."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

GENESIS = "0" * 64
REDACTED = "[redacted]"
_SECRET_MARKERS = ("password", "secret", "token", "hash", "authorization", "cookie", "card")

# The fields an event's MAC covers, in a fixed order.
MAC_FIELDS = (
    "id",
    "occurred_at",
    "actor_id",
    "actor_role",
    "actor_label",
    "action",
    "resource_type",
    "resource_id",
    "outcome",
    "request_id",
    "client_ip",
    "user_agent",
    "details",
)
# Added later: covered when present, so that events written before they existed still verify.
OPTIONAL_MAC_FIELDS = ("subject_ids", "resource_ids", "client_request_id")


def audit_key_from(secret: str) -> bytes:
    """The audit trail's key, derived from the signing secret: one key per purpose."""
    return hmac.new(secret.encode(), b"lpl-portal audit trail v1", hashlib.sha256).digest()


def jsonable(value: Any) -> Any:
    """Values as they are kept in `details`: JSON types only, money and ids as strings."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Enum):
        return jsonable(value.value)
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, float):
        return str(value)
    return str(value)


def redact(value: Any) -> Any:
    """Secrets never enter the trail: values under secret-looking keys are replaced."""
    if isinstance(value, Mapping):
        return {
            k: REDACTED if any(m in str(k).lower() for m in _SECRET_MARKERS) else redact(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def canonical(fields: Mapping[str, Any]) -> bytes:
    body = {name: jsonable(fields.get(name)) for name in MAC_FIELDS}
    for name in OPTIONAL_MAC_FIELDS:
        if fields.get(name):
            body[name] = jsonable(fields[name])
    return _CANONICAL.encode(body).encode()


# json.dumps with these options builds an encoder per call; one made once writes the same text.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_mac(key: bytes, fields: Mapping[str, Any]) -> str:
    return hmac.digest(key, canonical(fields), "sha256").hex()


def fold_chain(key: bytes, prev_hash: str, macs: Iterable[str]) -> str:
    """HMAC over the previous link and the events' MACs in order."""
    return fold_joined(key, prev_hash, "".join(f"|{mac}" for mac in macs))


def fold_joined(key: bytes, prev_hash: str, joined: str) -> str:
    """`fold_chain` of the MACs given as one text, each preceded by "|" (as the database
    joins them for a seal, so that thousands of MACs take one call, not thousands)."""
    return hmac.new(key, (prev_hash + joined).encode(), hashlib.sha256).hexdigest()
