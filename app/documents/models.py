"""Tables of the documents domain: a document's metadata, and its bytes in a table of their own
so that reading metadata (lists, a record) never loads them."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, known_values


class DocumentType(StrEnum):
    """The types a document may have, recognised from its content (never its name)."""

    pdf = "application/pdf"
    png = "image/png"
    jpeg = "image/jpeg"


class Document(Base):
    """A file a lawyer gave us, attached to a record of another domain (a claims notice, an
    exemption): `attached_to_type` names the kind of record, `attached_to_id` the record."""

    __tablename__ = "document"
    __table_args__ = (
        Index(
            "ix_document_attached_to_type_attached_to_id_created_at",
            "attached_to_type",
            "attached_to_id",
            "created_at",
        ),
        Index("ix_document_owner_id", "owner_id"),
        CheckConstraint(
            known_values("content_type", tuple(DocumentType)), name="content_type_known"
        ),
        CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="sha256_hex"),
        CheckConstraint("size_bytes > 0", name="size_bytes_positive"),
        CheckConstraint("attached_to_type ~ '^[a-z][a-z_]*$'", name="attached_to_type_name"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    # the lawyer whose document it is: the data subject of its audit events
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))
    attached_to_type: Mapped[str] = mapped_column(String(32))
    attached_to_id: Mapped[uuid.UUID]  # no foreign key: the record may be in any domain's table
    filename: Mapped[str] = mapped_column(String(255))  # the client's name, sanitised
    content_type: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    description: Mapped[str | None] = mapped_column(String(500))
    uploaded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class DocumentContent(Base):
    """A document's bytes. The migration stores the column uncompressed (STORAGE EXTERNAL):
    PDFs and images barely compress, and PostgreSQL can then read a slice of the value without
    fetching the whole of it, which is how downloads stream."""

    __tablename__ = "document_content"

    document_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("document.id", ondelete="CASCADE"), primary_key=True
    )
    content: Mapped[bytes] = mapped_column(LargeBinary)
