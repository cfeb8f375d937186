"""The audit trail of one unit of work: events are collected while the request runs and
written in its transaction, just before the commit, in one statement."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import Table, Update, exists, insert, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.chain import event_mac, jsonable, redact
from app.audit.models import AuditEvent
from app.core.requestctx import RequestMeta

_events = cast(Table, AuditEvent.__table__)
# The columns the application writes (seq and xid are the database's).
_WRITTEN = [c for c in _events.c if c.name not in ("seq", "xid")]


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

    async def flush(self, db: AsyncSession, *, session_touch: Update | None = None) -> bool:
        """Write the pending events. With `session_touch` (an UPDATE ... RETURNING that slides
        the caller's session), slide the session and write the events in ONE statement, which
        writes nothing and answers False when the session has ended."""
        rows, self._pending = self._pending, []
        if session_touch is None:
            if len(rows) == 1:
                await db.execute(insert(_events).values(rows[0]))
            elif rows:
                await db.execute(insert(_events), rows)
            return True
        if not rows:
            return (await db.execute(session_touch)).first() is not None
        touched = session_touch.cte("touched")
        alive = exists(select(touched.c[0]))
        selects = [
            select(*[literal(row[c.name], c.type).label(c.name) for c in _WRITTEN]).where(alive)
            for row in rows
        ]
        source = selects[0] if len(selects) == 1 else union_all(*selects)
        stmt = (
            insert(_events)
            .from_select([c.name for c in _WRITTEN], source)
            .returning(_events.c.seq)
            .add_cte(touched, nest_here=True)
        )
        written = (await db.execute(stmt)).all()
        return len(written) == len(rows)
