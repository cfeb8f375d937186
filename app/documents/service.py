"""Documents: store an upload attached to a record with its audit event, read metadata, and
read the bytes back slice by slice."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Mapping
from typing import Any, BinaryIO
from uuid import UUID

from starlette.concurrency import run_in_threadpool

from app.core.db import Database
from app.core.responses import fields_of
from app.core.unit_of_work import Unit
from app.documents import repository as repo
from app.documents.schemas import Attachment, DocumentRead, ReceivedFile

log = logging.getLogger(__name__)

# A download's slice: read from PostgreSQL and sent before the next one is read.
CHUNK_BYTES = 256 * 1024


def _read_all(file: BinaryIO) -> bytes:
    file.seek(0)
    return file.read()


async def store(
    unit: Unit,
    upload: ReceivedFile,
    *,
    owner_id: UUID,
    attached_to: Attachment,
    uploaded_by_id: UUID,
    action: str,
) -> DocumentRead:
    """Keep the document and its bytes, record `action` for the owner, close the upload."""
    try:
        # Bounded by MAX_UPLOAD_BYTES, and by now checked: read in a thread, sent as one value.
        content = await run_in_threadpool(_read_all, upload.file)
    finally:
        upload.file.close()
    if len(content) != upload.size_bytes:  # the temporary file changed under us
        raise RuntimeError("an upload's temporary file changed after it was checked")
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "owner_id": owner_id,
        "attached_to_type": attached_to.type,
        "attached_to_id": attached_to.id,
        "filename": upload.filename,
        "content_type": upload.content_type.value,
        "size_bytes": upload.size_bytes,
        "sha256": upload.sha256,
        "description": upload.description,
        "uploaded_by_id": uploaded_by_id,
    }
    values["created_at"] = await repo.insert_document(unit.db, values, content)
    unit.audit.record(
        action,
        resource_type="document",
        resource_id=values["id"],
        subjects=[owner_id],
        details={
            "after": {
                "filename": upload.filename,
                "content_type": upload.content_type.value,
                "size_bytes": upload.size_bytes,
                "sha256": upload.sha256,
                "attached_to": {"type": attached_to.type, "id": attached_to.id},
            }
        },
    )
    return to_read(values)


def to_read(row: Mapping[Any, Any]) -> DocumentRead:
    return DocumentRead.model_validate(fields_of(DocumentRead, row))


async def attached(unit: Unit, attached_to: Attachment) -> list[DocumentRead]:
    rows = await repo.attached(unit.db, attached_to.type, attached_to.id)
    return [to_read(r) for r in rows]


async def attached_one(
    unit: Unit, attached_to: Attachment, document_id: UUID
) -> DocumentRead | None:
    row = await repo.attached_one(unit.db, attached_to.type, attached_to.id, document_id)
    return None if row is None else to_read(row)


async def content_chunks(database: Database, document: DocumentRead) -> AsyncIterator[bytes]:
    """The document's bytes, CHUNK_BYTES at a time. Each slice is read on a pooled connection
    taken for that read alone, in autocommit: a slow client holds neither a connection nor a
    snapshot (which would hold back vacuum and the audit trail's sealing) between slices."""
    offset = 0
    while offset < document.size_bytes:
        async with database.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            chunk = await repo.content_slice(conn, document.id, offset, CHUNK_BYTES)
        if not chunk:
            # deleted since its metadata was read: the answer ends short of its Content-Length
            log.warning("document content gone during a download", extra={"document": document.id})
            return
        offset += len(chunk)
        yield chunk
