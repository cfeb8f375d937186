"""ETag and If-Match for changes to existing records (428 when missing, 412 when stale)."""

from __future__ import annotations

from typing import Any

from fastapi import Response

from app.core.errors import PreconditionFailed, PreconditionRequired

ETAG_HEADER = {
    "ETag": {
        "description": "The record's version: send it back in If-Match to change the record",
        "schema": {"type": "string"},
    }
}


def with_etag(status: int = 200) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entry of a route that answers the record's ETag."""
    return {status: {"headers": ETAG_HEADER}}


def etag_of(version: int) -> str:
    return f'"{version}"'


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag_of(version)


def require_if_match(if_match: str | None, version: int) -> None:
    if not if_match:
        raise PreconditionRequired("Send If-Match with the ETag you last read.")
    # RFC 9110 13.1.1: If-Match uses the strong comparison, so a weak tag (W/"3") never matches.
    tags = {t.strip() for t in if_match.split(",")}
    if etag_of(version) not in tags and "*" not in tags:
        raise PreconditionFailed("The record has changed since you read it; read it again.")
