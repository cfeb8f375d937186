"""ETags: If-Match for changes to existing records (428 when missing, 412 when stale) and
If-None-Match for reads (304).

A record's ETag is `"<version>.<digest>"`: its version, which every change of the record's own
fields raises, and a digest of the representation answered, which also changes when something
shown with the record changes without changing the record (a claims file's costs, the lawyer's
name). If-Match compares the version (the record you read is the one you change); If-None-Match
compares the whole tag (304 only for the very same body).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Annotated, Any, Protocol

from fastapi import Header, Response

from app.core.errors import PreconditionFailed, PreconditionRequired
from app.core.responses import json_response, model_response

# The header a change of an existing record takes (428 without it, 412 when stale).
IfMatch = Annotated[str | None, Header(alias="If-Match")]


class VersionedRecord(Protocol):
    """A record's read model: its id and version, serialized as JSON."""

    @property
    def id(self) -> Any: ...

    @property
    def version(self) -> int: ...

    def model_dump_json(self) -> str: ...


ETAG_HEADER = {
    "ETag": {
        "description": "The record's version and a digest of this answer: send it back in "
        "If-Match to change the record, or in If-None-Match to read it only if it changed",
        "schema": {"type": "string"},
    }
}


def with_etag(status: int = 200) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entry of a route that answers the record's ETag."""
    return {status: {"headers": ETAG_HEADER}}


def etag_of(version: int) -> str:
    return f'"{version}"'


def _record_headers(
    record_id: Any, version: int, collection: str | None, status_code: int
) -> dict[str, str]:
    headers = {"ETag": etag_of(version)}
    if status_code == 201 and collection is not None:
        headers["Location"] = f"{collection}/{record_id}"
    return headers


def record_response(
    record: VersionedRecord, *, collection: str | None = None, status_code: int = 200
) -> Response:
    """A record answered with its ETag, and its Location when it was created (201) in
    `collection` ("/exemptions")."""
    headers = _record_headers(record.id, record.version, collection, status_code)
    return model_response(record, status_code=status_code, headers=headers)


def answer_response(
    answer: Mapping[str, Any], *, collection: str | None = None, status_code: int = 200
) -> Response:
    """`record_response` of a record's answer built as plain data (app/core/responses.py)."""
    headers = _record_headers(answer["id"], answer["version"], collection, status_code)
    return json_response(answer, status_code=status_code, headers=headers)


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag_of(version)


def with_digest(response: Response) -> None:
    """Complete the version tag of an answer with a digest of its body (see the module)."""
    body = getattr(response, "body", None)
    if not isinstance(body, bytes):
        return
    raw = response.raw_headers  # the header list itself (names lower-case), which
    for at, (name, tag) in enumerate(raw):  # `response.headers` reads and writes too
        if name == b"etag":
            if tag[:1] != b'"' or b"." in tag:
                return
            digest = hashlib.sha256(body).hexdigest()[:16].encode()
            raw[at] = (name, tag[:-1] + b"." + digest + b'"')
            return


def require_if_match(if_match: str | None, version: int) -> None:
    if not if_match:
        raise PreconditionRequired("Send If-Match with the ETag you last read.")
    # RFC 9110 13.1.1: If-Match uses the strong comparison, so a weak tag (W/"3") never matches;
    # of a strong tag, the version is compared (the digest is of one representation of it).
    tags = {t.strip() for t in if_match.split(",")}
    versions = {t[1:-1].split(".")[0] for t in tags if len(t) > 1 and t[0] == t[-1] == '"'}
    if str(version) not in versions and "*" not in tags:
        raise PreconditionFailed("The record has changed since you read it; read it again.")
