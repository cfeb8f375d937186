"""`Idempotency-Key` for any POST (the IETF draft "The Idempotency-Key HTTP Header Field").

A client sends a key of its choosing with a request that creates something, and the same key
again with each retry of that one attempt (a new attempt, a new key). The server:
- answers 400 when the key is missing (routes that take one require it);
- runs the first request with a key normally, and keeps its answer (status, headers and body)
  with a fingerprint of the request (method, path and body, JSON compared by value);
- answers a retry with the same key and the same body by replaying that answer, marked
  `Idempotent-Replayed: true`; with another body, 422; while the first is still running, 409
  (`Retry-After: 1`).
Keys belong to the caller (two callers may use the same key) and are kept for
IDEMPOTENCY_KEY_TTL_SECONDS (24 h by default); an expired key starts afresh.

How it stays exact with several workers and concurrent retries: the request's transaction first
takes a transaction-scoped advisory lock on (caller, key) without waiting; a retry that cannot
take it is running beside the first (409). The answer is stored in the same transaction as the
work it answers, so either both are committed or neither is; a request that fails stores
nothing, releases the lock with its rollback, and its retry runs again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Annotated, Any
from uuid import UUID

from fastapi import Header, Request
from sqlalchemy import DateTime, Integer, LargeBinary, String, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column
from starlette.responses import Response

from app.core.db import Base
from app.core.errors import AppError, Conflict, FieldError, InvalidInput
from app.core.unit_of_work import Unit

KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"  # visible ASCII, as the draft's examples
REPLAYED_HEADER = "Idempotent-Replayed"
KEPT_HEADERS = ("content-type", "location", "etag")

OptionalIdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Optional. A key you choose for this one attempt, sent again unchanged with "
        "its retries: the first answer is replayed instead of the work being done twice.",
        max_length=255,
        pattern=KEY_PATTERN,
    ),
]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Required. A key you choose for this one attempt (a UUID is a good one), "
        "sent again unchanged with every retry of it: the first answer is then replayed instead "
        "of the work being done twice. Another body with the same key is refused (422); a retry "
        "while the first is still running is refused (409). Kept for 24 hours.",
        max_length=255,
        pattern=KEY_PATTERN,
    ),
]


class IdempotencyKeyMissing(AppError):
    status = 400
    slug = "idempotency-key-missing"
    title = "This request needs an Idempotency-Key header"


class IdempotencyKeyInFlight(Conflict):
    slug = "idempotency-key-in-flight"
    title = "A request with this Idempotency-Key is still being processed"


class IdempotencyKeyReused(InvalidInput):
    slug = "idempotency-key-reused"
    title = "This Idempotency-Key was used with another request"


class IdempotentAnswer(Base):
    """The first answer to a request with an Idempotency-Key, kept for its retries."""

    __tablename__ = "idempotent_answer"

    caller_id: Mapped[UUID] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    headers: Mapped[dict[str, str]] = mapped_column(JSONB)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    # what the answer was about, so that a replay is audited like the answer it repeats
    resource_type: Mapped[str | None] = mapped_column(String(40))
    resource_id: Mapped[str | None] = mapped_column(String(64))
    subject_id: Mapped[UUID | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


def fingerprint(method: str, path: str, body: bytes) -> str:
    """The request's identity: JSON bodies by value (key order and spacing do not matter)."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"))
        payload = canonical.encode()
    except ValueError:
        payload = body
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), payload):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


_TRY_LOCK = text("SELECT pg_try_advisory_xact_lock(hashtextextended(:lock_name, 0))")
_FIND = text(
    "SELECT fingerprint, status, headers, body, resource_type, resource_id, subject_id,"
    " expires_at > now() AS live FROM idempotent_answer WHERE caller_id = :caller_id AND key = :key"
)
_FORGET = text("DELETE FROM idempotent_answer WHERE caller_id = :caller_id AND key = :key")
_FORGET_EXPIRED = text(
    "DELETE FROM idempotent_answer WHERE caller_id = :caller_id AND expires_at <= now()"
)


async def idempotent(
    unit: Unit,
    request: Request,
    *,
    caller_id: UUID,
    key: str | None,
    action: str,
    run: Callable[[], Awaitable[Response]],
    required: bool = True,
) -> Response:
    """Run `run` once per (caller, key); replay its answer to the retries (see the module).
    Where a key is not `required` (POST /quotes), a request without one simply runs."""
    if not key and not required:
        return await run()
    if not key:
        raise IdempotencyKeyMissing(
            "Send an Idempotency-Key header: a key you choose for this attempt, reused "
            "unchanged by its retries.",
            errors=[FieldError("Idempotency-Key", "required", "The header is required.")],
        )
    db = unit.db
    params = {"caller_id": caller_id, "key": key}
    locked = (await db.execute(_TRY_LOCK, {"lock_name": f"idempotency/{caller_id}/{key}"})).scalar()
    if not locked:
        raise IdempotencyKeyInFlight(
            "The first request with this Idempotency-Key is still running; retry shortly.",
            headers={"Retry-After": "1"},
        )
    print_ = fingerprint(request.method, request.url.path, await request.body())
    found = (await db.execute(_FIND, params)).mappings().first()
    if found is not None and found["live"]:
        if found["fingerprint"] != print_:
            raise IdempotencyKeyReused(
                "This Idempotency-Key was used with another request; use a new key for a new "
                "attempt.",
                errors=[
                    FieldError(
                        "Idempotency-Key", "reused", "The key belongs to a different request."
                    )
                ],
            )
        unit.audit.record(
            action,
            resource_type=found["resource_type"],
            resource_id=found["resource_id"],
            subjects=[found["subject_id"]] if found["subject_id"] else [],
            details={"idempotent_replay": True, "status": found["status"]},
        )
        return Response(
            bytes(found["body"]),
            status_code=found["status"],
            headers={**found["headers"], REPLAYED_HEADER: "true"},
        )
    if found is not None:
        await db.execute(_FORGET, params)
    response = await run()
    if 200 <= response.status_code < 300:
        await _keep(unit, params, print_, response)
    return response


async def _keep(unit: Unit, params: dict[str, Any], print_: str, response: Response) -> None:
    await unit.db.execute(_FORGET_EXPIRED, {"caller_id": params["caller_id"]})
    about = unit.audit.last_recorded() or {}
    subjects = about.get("subject_ids") or [None]
    unit.db.add(
        IdempotentAnswer(
            **params,
            fingerprint=print_,
            status=response.status_code,
            headers={k: v for k, v in response.headers.items() if k.lower() in KEPT_HEADERS},
            body=bytes(response.body),
            resource_type=about.get("resource_type"),
            resource_id=about.get("resource_id"),
            subject_id=subjects[0],
            expires_at=func.now() + timedelta(seconds=unit.settings.idempotency_key_ttl_seconds),
        )
    )
    await unit.db.flush()
