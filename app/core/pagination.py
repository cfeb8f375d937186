"""Cursor pagination: `?limit=&cursor=` in, `{"items": [...], "next_cursor": ...}` out.

One keyset rule for every list: newest first by a time column and the id (or by a sequence
number), the position after the last item carried in an opaque cursor, `limit + 1` rows read
to know whether there is a next page. A cursor is validated completely: a tampered one is a
422 naming `cursor`, never an error of the database.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar
from uuid import UUID

import orjson
from fastapi import Query
from pydantic import AwareDatetime, BaseModel, BeforeValidator
from pydantic_core import PydanticCustomError

from app.core.errors import FieldError, InvalidInput
from app.core.sql import Bound

T = TypeVar("T")
R = TypeVar("R", bound=Mapping[Any, Any])

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
# Positions outside these bounds cannot come from a record of ours.
_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
_LATEST = datetime(9999, 1, 1, tzinfo=UTC)
_MAX_SEQ = 2**63 - 1

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page")]
Cursor = Annotated[
    str | None, Query(max_length=512, description="next_cursor of the previous page")
]

UPDATED_AT = "When the record was created or last changed (the time its changing transaction began)"
# RFC 3339's date-time: a date, T (or a space), a time, and an offset (Z or +hh:mm).
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")


def _rfc3339(value: object) -> object:
    if isinstance(value, str) and not _RFC3339.fullmatch(value):
        raise PydanticCustomError(
            "rfc3339_with_offset",
            "Give an RFC 3339 timestamp with its offset, e.g. 2026-11-25T09:30:00Z.",
        )
    return value


UpdatedSince = Annotated[
    AwareDatetime | None,
    BeforeValidator(_rfc3339),
    Query(
        description="Only records created or changed at or after this time: an RFC 3339 "
        "timestamp with its offset, e.g. 2026-11-25T09:30:00Z. Changes are stamped when their "
        "transaction began, so poll with a little overlap.",
    ),
]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


def _invalid() -> InvalidInput:
    return InvalidInput(errors=[FieldError("cursor", "invalid", "The cursor is not valid.")])


def encode_cursor(position: list[Any]) -> str:
    """An opaque cursor: the position's JSON (written by orjson; by the standard library what
    orjson refuses, an integer beyond 64 bits), base64url without padding."""
    try:
        raw = orjson.dumps(position)
    except orjson.JSONEncodeError:
        raw = json.dumps(position, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> list[Any] | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError) as exc:
        raise _invalid() from exc
    if not isinstance(value, list):
        raise _invalid()
    return value


@dataclass(frozen=True)
class TimeKeyset:
    """Newest first by (r.<at>, r.id), or oldest first; `at` a timestamp column, or a text
    column when `text` is set (a firm number, say)."""

    at: str = "created_at"
    newest_first: bool = True
    text: bool = False

    @property
    def order(self) -> str:
        way = "DESC" if self.newest_first else "ASC"
        return f"r.{self.at} {way}, r.id {way}"

    def _position(self, cursor: str | None) -> tuple[datetime | str | None, UUID | None]:
        position = decode_cursor(cursor)
        if position is None:
            return None, None
        try:
            if len(position) != 2 or not all(isinstance(p, str) for p in position):
                raise ValueError(position)
            last_id = UUID(position[1])
            if self.text:
                if len(position[0]) > 64 or "\x00" in position[0]:
                    raise ValueError(position)
                return position[0], last_id
            at = datetime.fromisoformat(position[0])
        except ValueError as exc:
            raise _invalid() from exc
        if at.tzinfo is None or not _EARLIEST <= at <= _LATEST:
            raise _invalid()
        return at, last_id

    def after(self, cursor: str | None) -> Bound:
        """SQL condition: rows after the cursor's position (all rows without one)."""
        at, last_id = self._position(cursor)
        kind = "varchar" if self.text else "timestamptz"
        beyond = "<" if self.newest_first else ">"
        return Bound(
            f"(CAST(:at AS {kind}) IS NULL OR (r.{self.at}, r.id)"
            f" {beyond} (CAST(:at AS {kind}), CAST(:id AS uuid)))",
            {"at": at, "id": last_id},
        )

    def cursor_after(self, row: Mapping[Any, Any]) -> str:
        at = row[self.at]
        return encode_cursor([at if self.text else at.isoformat(), str(row["id"])])


@dataclass(frozen=True)
class SeqKeyset:
    """Newest first by a sequence number."""

    column: str = "seq"

    @property
    def order(self) -> str:
        return f"r.{self.column} DESC"

    def after(self, cursor: str | None) -> Bound:
        position = decode_cursor(cursor)
        before: int | None = None
        if position is not None:
            if len(position) != 1 or type(position[0]) is not int:
                raise _invalid()
            before = position[0]
            if not 0 < before <= _MAX_SEQ:
                raise _invalid()
        return Bound(
            f"(CAST(:before AS bigint) IS NULL OR r.{self.column} < CAST(:before AS bigint))",
            {"before": before},
        )

    def cursor_after(self, row: Mapping[Any, Any]) -> str:
        return encode_cursor([int(row[self.column])])


Keyset = TimeKeyset | SeqKeyset


def split_page(rows: Sequence[R], limit: int, keyset: Keyset) -> tuple[Sequence[R], str | None]:
    """The page (at most `limit` of the `limit + 1` rows read) and the cursor after it."""
    page = rows[:limit]
    more = len(rows) > limit
    return page, (keyset.cursor_after(page[-1]) if more and page else None)
