"""The documents domain's types: what an upload became once received and checked, the record it
is attached to, and a document's metadata as the API answers it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from app.documents.models import DocumentType


@dataclass(frozen=True)
class Attachment:
    """The record a document belongs to: its kind (`claims_notice`, `exemption`) and id."""

    type: str
    id: UUID


@dataclass(frozen=True)
class ReceivedFile:
    """An upload read to its end and checked: its bytes wait in a temporary file (on disk past
    1 MiB), positioned at the start, until `attach` stores and closes it."""

    file: BinaryIO
    filename: str  # sanitised
    content_type: DocumentType  # recognised from the bytes
    size_bytes: int
    sha256: str  # hexadecimal
    description: str | None


class DocumentRead(BaseModel):
    """A document's metadata, as the API answers it (its bytes are downloaded on their own)."""

    model_config = ConfigDict(frozen=True)

    id: UUID
    filename: str = Field(description="The name the file was uploaded with, without its folders")
    content_type: str = Field(description="Recognised from the content: PDF, PNG or JPEG")
    size_bytes: int
    sha256: str = Field(description="SHA-256 of the content, in hexadecimal")
    description: str | None
    uploaded_by_id: UUID
    created_at: datetime
