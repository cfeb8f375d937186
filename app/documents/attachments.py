"""The interface other domains use to take documents attached to their records (a claims
notice's documents, an exemption's proof of coverage) and to give them back.

A route that takes an upload checks that the caller may attach to the parent record, then calls
`receive_upload(request)` and `attach(unit, upload, ...)`; one that gives a document back checks
access to the parent, finds it with `attached_document`, records the read, and answers
`download_response(database, document)`. Access to the parent and the audit event of a read are
the caller's, as the parent record is. The bytes never pass through memory whole before they are
checked: the input guard streams a multipart body through, Starlette spools its file to disk, and
`receive_upload` reads it back in chunks.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, BinaryIO
from uuid import UUID

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.responses import StreamingResponse

from app.core.db import Database
from app.core.errors import FieldError, InvalidInput, NotFound, PayloadTooLarge
from app.core.unit_of_work import Unit
from app.documents import service
from app.documents.content import (
    SIGNATURE_BYTES,
    content_disposition,
    recognise,
    sanitised_filename,
)
from app.documents.schemas import Attachment, DocumentRead, ReceivedFile

__all__ = [
    "DOWNLOAD_RESPONSES",
    "UPLOAD_REQUEST_BODY",
    "Attachment",
    "DocumentRead",
    "ReceivedFile",
    "attach",
    "attached_document",
    "attached_documents",
    "download_response",
    "receive_upload",
]

MAX_DESCRIPTION_CHARS = 500
_READ_BACK_BYTES = 256 * 1024
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _measure(file: BinaryIO, limit: int) -> tuple[int, str, bytes]:
    """Size, SHA-256 and first bytes of a spooled upload, read back in chunks (in a thread:
    hashing ten megabytes is no work for the event loop). Stops counting past `limit`."""
    file.seek(0)
    digest = hashlib.sha256()
    size = 0
    head = b""
    while chunk := file.read(_READ_BACK_BYTES):
        if len(head) < SIGNATURE_BYTES:
            head += chunk[: SIGNATURE_BYTES - len(head)]
        size += len(chunk)
        if size > limit:
            break
        digest.update(chunk)
    file.seek(0)
    return size, digest.hexdigest(), head


def _description(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(errors=[FieldError("description", "not_text", "Must be text.")])
    if _CONTROL.search(value):
        raise InvalidInput(
            errors=[
                FieldError(
                    "description",
                    "control_character",
                    "Must not contain NUL or control characters.",
                )
            ]
        )
    # a card number in it (or in any text part) was refused by the input guard already
    value = value.strip()
    if len(value) > MAX_DESCRIPTION_CHARS:
        raise InvalidInput(
            errors=[
                FieldError(
                    "description",
                    "too_long",
                    f"At most {MAX_DESCRIPTION_CHARS} characters.",
                )
            ]
        )
    return value or None


async def receive_upload(request: Request, *, field: str = "file") -> ReceivedFile:
    """The file of a multipart/form-data request's part `field`, with an optional text part
    `description`, read to its end and checked: at most MAX_UPLOAD_BYTES (413 naming the limit),
    not empty and a PDF, PNG or JPEG by its content (422 naming `field`). A missing part is a
    422 naming it. Call it once the caller is known to be allowed to attach."""
    limit: int = request.app.state.settings.max_upload_bytes
    form = await request.form(max_files=1, max_fields=10)
    part = form.get(field)
    if not isinstance(part, UploadFile):
        raise InvalidInput(
            errors=[FieldError(field, "missing", "Send the file as a multipart/form-data part.")]
        )
    try:
        description = _description(form.get("description"))
        size, sha256, head = await run_in_threadpool(_measure, part.file, limit)
        if size > limit:
            raise PayloadTooLarge(f"Uploads are limited to {limit} bytes.")
        content_type = recognise(head, field=field)
    except BaseException:
        await part.close()
        raise
    return ReceivedFile(
        file=part.file,
        filename=sanitised_filename(part.filename, content_type),
        content_type=content_type,
        size_bytes=size,
        sha256=sha256,
        description=description,
    )


async def attach(
    unit: Unit,
    upload: ReceivedFile,
    *,
    owner_id: UUID,
    attached_to: Attachment,
    uploaded_by_id: UUID,
    action: str,
) -> DocumentRead:
    """Store the upload as a document of `owner_id` (the lawyer whose document it is: the data
    subject) attached to `attached_to`, in the unit's transaction, and record `action` with the
    document's name, type, size, SHA-256 and parent. The unit must not have read in autocommit
    before (an audited read of the parent: check the parent within the transaction instead)."""
    return await service.store(
        unit,
        upload,
        owner_id=owner_id,
        attached_to=attached_to,
        uploaded_by_id=uploaded_by_id,
        action=action,
    )


async def attached_documents(unit: Unit, attached_to: Attachment) -> list[DocumentRead]:
    """The metadata of the documents attached to a record, newest first. The caller has checked
    the caller's access to the record and records the read."""
    return await service.attached(unit, attached_to)


async def attached_document(
    unit: Unit, attached_to: Attachment, document_id: UUID
) -> DocumentRead | None:
    """One document of a record by id (None when it is not attached to that record). The caller
    has checked the caller's access to the record and records the read."""
    return await service.attached_one(unit, attached_to, document_id)


def download_response(database: Database, document: DocumentRead) -> StreamingResponse:
    """The document's bytes as an attachment, streamed from PostgreSQL in slices after the
    request's unit of work has finished, with its recognised type, never sniffed nor cached."""
    return StreamingResponse(
        service.content_chunks(database, document),
        media_type=document.content_type,
        headers={
            "Content-Length": str(document.size_bytes),
            "Content-Disposition": content_disposition(document.filename),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )


# For the routes of other domains that take and give documents: the multipart body an upload
# route parses itself (`receive_upload`), and the types a download answers with.
UPLOAD_REQUEST_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "A PDF, PNG or JPEG (recognised by its content), "
                            "at most 10 MiB",
                        },
                        "description": {"type": "string", "maxLength": 500},
                    },
                }
            }
        },
    }
}
DOWNLOAD_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The document's bytes, as an attachment",
        "content": {
            kind: {"schema": {"type": "string", "format": "binary"}}
            for kind in ("application/pdf", "image/png", "image/jpeg")
        },
    }
}


async def list_recorded(
    unit: Unit, attached_to: Attachment, *, action: str, subject: UUID
) -> list[DocumentRead]:
    """The documents of a record the caller was found to see, the read recorded (the record and
    the documents listed, for the lawyer `subject`)."""
    documents = await attached_documents(unit, attached_to)
    unit.audit.record(
        action,
        resource_type=attached_to.type,
        resource_id=attached_to.id,
        subjects=[subject],
        resource_ids=[d.id for d in documents],
        details={"count": len(documents)},
    )
    return documents


async def download_recorded(
    unit: Unit, attached_to: Attachment, document_id: UUID, *, action: str, subject: UUID
) -> DocumentRead:
    """One document of a record the caller was found to see (404 when it is not that record's),
    its download recorded."""
    document = await attached_document(unit, attached_to, document_id)
    if document is None:
        raise NotFound("No such document.", resource_type="document", resource_id=str(document_id))
    unit.audit.record(
        action,
        resource_type="document",
        resource_id=document.id,
        subjects=[subject],
        details={f"{attached_to.type}_id": attached_to.id, "sha256": document.sha256},
    )
    return document
