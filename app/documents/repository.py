"""Queries for documents. Metadata and bytes live in two tables: nothing here that reads
metadata touches `document_content`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast
from uuid import UUID

from sqlalchemy import LargeBinary, RowMapping, Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.documents.models import Document, DocumentContent

_document = cast(Table, Document.__table__)
_content = cast(Table, DocumentContent.__table__)

# What a read answers: every column of the metadata but the attachment (the caller knows it).
_READ_COLUMNS = (
    _document.c.id,
    _document.c.filename,
    _document.c.content_type,
    _document.c.size_bytes,
    _document.c.sha256,
    _document.c.description,
    _document.c.uploaded_by_id,
    _document.c.created_at,
)


async def insert_document(db: AsyncSession, values: dict[str, Any], content: bytes) -> datetime:
    """The metadata and the bytes; returns the row's created_at."""
    conn = await db.connection()
    created: datetime = (
        await conn.execute(insert(_document).values(values).returning(_document.c.created_at))
    ).scalar_one()
    await conn.execute(insert(_content).values(document_id=values["id"], content=content))
    return created


async def attached(db: AsyncSession, attached_type: str, attached_id: UUID) -> Sequence[RowMapping]:
    """The documents attached to a record, newest first."""
    stmt = (
        select(*_READ_COLUMNS)
        .where(_document.c.attached_to_type == attached_type)
        .where(_document.c.attached_to_id == attached_id)
        .order_by(_document.c.created_at.desc(), _document.c.id.desc())
    )
    return (await db.execute(stmt)).mappings().all()


async def attached_one(
    db: AsyncSession, attached_type: str, attached_id: UUID, document_id: UUID
) -> RowMapping | None:
    stmt = (
        select(*_READ_COLUMNS)
        .where(_document.c.id == document_id)
        .where(_document.c.attached_to_type == attached_type)
        .where(_document.c.attached_to_id == attached_id)
    )
    return (await db.execute(stmt)).mappings().one_or_none()


async def content_slice(
    conn: AsyncConnection, document_id: UUID, offset: int, length: int
) -> bytes | None:
    """`length` bytes of a document from `offset` (0-based); None when the document is gone.
    With the column stored uncompressed, PostgreSQL fetches only the slice's chunks."""
    stmt = select(func.substring(_content.c.content, offset + 1, length, type_=LargeBinary)).where(
        _content.c.document_id == document_id
    )
    value = (await conn.execute(stmt)).scalar_one_or_none()
    return None if value is None else bytes(value)
