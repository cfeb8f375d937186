"""The audit trail of one unit of work: events are collected while the request runs and
written in its transaction, just before the commit, in one statement."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.chain import event_mac, jsonable, redact
from app.audit.models import AuditEvent
from app.core.requestctx import RequestMeta


class Outcome(StrEnum):
    success = "success"
    failure = "failure"
    denied = "denied"


@dataclass(frozen=True)
class Actor:
    id: uuid.UUID | None
    role: str | None
    label: str | None


class AuditTrail:
    def __init__(self, key: bytes, meta: RequestMeta) -> None:
        self._key = key
        self._meta = meta
        self._pending: list[dict[str, Any]] = []
        self.actor: Actor | None = None

    def record(
        self,
        action: str,
        *,
        resource_type: str | None = None,
        resource_id: object | None = None,
        outcome: Outcome = Outcome.success,
        details: dict[str, Any] | None = None,
        actor: Actor | None = None,
    ) -> None:
        who = actor or self.actor
        row: dict[str, Any] = {
            "id": uuid.uuid4(),
            "occurred_at": datetime.now(UTC),
            "actor_id": who.id if who else None,
            "actor_role": who.role if who else None,
            "actor_label": who.label if who else None,
            "action": action,
            "resource_type": resource_type,
            "resource_id": None if resource_id is None else str(resource_id),
            "outcome": outcome.value,
            "request_id": self._meta.request_id,
            "client_ip": self._meta.client_ip,
            "user_agent": (self._meta.user_agent or "")[:512] or None,
            "details": jsonable(redact(details or {})),
        }
        row["mac"] = event_mac(self._key, row)
        self._pending.append(row)

    def record_change(
        self,
        action: str,
        *,
        resource_type: str,
        resource_id: object,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
    ) -> None:
        """A change, with only the fields that differ (secrets redacted)."""
        before = before or {}
        after = after or {}
        keys = [k for k in {**before, **after} if before.get(k) != after.get(k)]
        self.record(
            action,
            resource_type=resource_type,
            resource_id=resource_id,
            details={
                "before": {k: before.get(k) for k in keys},
                "after": {k: after.get(k) for k in keys},
            },
        )

    @property
    def pending(self) -> list[dict[str, Any]]:
        return list(self._pending)

    def discard(self) -> None:
        self._pending.clear()

    async def flush(self, db: AsyncSession) -> None:
        if not self._pending:
            return
        rows, self._pending = self._pending, []
        if len(rows) == 1:
            await db.execute(insert(AuditEvent).values(rows[0]))
        else:
            await db.execute(insert(AuditEvent), rows)
