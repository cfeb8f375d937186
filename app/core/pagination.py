"""Cursor pagination: `?limit=&cursor=` in, `{"items": [...], "next_cursor": ...}` out."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar
from uuid import UUID

from fastapi import Query
from pydantic import BaseModel

from app.core.errors import FieldError, InvalidInput

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 200

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page")]
Cursor = Annotated[
    str | None, Query(max_length=512, description="next_cursor of the previous page")
]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


def encode_cursor(position: list[Any]) -> str:
    raw = json.dumps(position, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def encode_time_cursor(created_at: datetime, record_id: UUID) -> str:
    """Position after a record in (created_at, id) order."""
    return encode_cursor([created_at.isoformat(), str(record_id)])


def decode_time_cursor(cursor: str | None) -> tuple[datetime, UUID] | None:
    position = decode_cursor(cursor)
    if position is None:
        return None
    try:
        return datetime.fromisoformat(position[0]), UUID(position[1])
    except (ValueError, IndexError, TypeError) as exc:
        raise InvalidInput(
            errors=[FieldError("cursor", "invalid", "The cursor is not valid.")]
        ) from exc


def decode_cursor(cursor: str | None) -> list[Any] | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(
            errors=[FieldError("cursor", "invalid", "The cursor is not valid.")]
        ) from exc
    if not isinstance(value, list):
        raise InvalidInput(errors=[FieldError("cursor", "invalid", "The cursor is not valid.")])
    return value
