"""The audit trail of one unit of work: events are collected while the request runs and
written in its transaction, just before the commit, in one statement."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from functools import cache
from typing import Any

from sqlalchemy import TextClause, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.audit.chain import event_mac, jsonable, redact
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

    def record(self, action: str, **fields: Any) -> None:
        """Queue an event (see `event` for the fields) for the unit of work's commit."""
        self._pending.append(self.event(action, **fields))

    def event(
        self,
        action: str,
        *,
        resource_type: str | None = None,
        resource_id: object | None = None,
        outcome: Outcome = Outcome.success,
        details: dict[str, Any] | None = None,
        actor: Actor | None = None,
    ) -> dict[str, Any]:
        """An event, complete with its MAC, not yet queued."""
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
        return row

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

    async def flush(
        self,
        db: AsyncSession,
        *,
        touch_sql: str | None = None,
        touch_params: dict[str, Any] | None = None,
    ) -> bool:
        """Write the pending events in one statement. With `touch_sql` (an UPDATE ... RETURNING
        that slides the caller's session), the same statement slides the session first and
        writes nothing, answering False, when the session has ended."""
        rows, self._pending = self._pending, []
        conn = await db.connection()
        if touch_sql is None:
            if rows:
                await conn.execute(_INSERT_EVENTS, _columns(rows))
            return True
        if not rows:
            return (await conn.execute(text(touch_sql), touch_params)).first() is not None
        written = await conn.execute(
            _touch_and_insert(touch_sql), {**_columns(rows), **(touch_params or {})}
        )
        return len(written.all()) == len(rows)


async def read_with_event(
    conn: AsyncConnection,
    *,
    touch_sql: str,
    touch_params: dict[str, Any],
    select_sql: str,
    select_params: dict[str, Any],
    event: dict[str, Any],
) -> tuple[bool, dict[str, Any] | None]:
    """Slide the session, read one row and write its read event, in ONE statement (so one
    transaction and one round trip): nothing is read unless the session is live, and nothing
    is logged unless a row is read. Returns (session alive, row or None)."""
    params = {**touch_params, **select_params, **_columns([event])}
    row = (await conn.execute(_read_and_log(touch_sql, select_sql), params)).mappings().one()
    found = dict(row)
    alive = bool(found.pop("session_alive__"))
    return alive, (found if found.pop("found__") else None)


@cache
def _read_and_log(touch_sql: str, select_sql: str) -> TextClause:
    return text(
        f"WITH touched AS ({touch_sql}), "  # noqa: S608 (constants)
        f"found AS (SELECT f.*, TRUE AS found__ FROM ({select_sql}) AS f "
        "WHERE EXISTS (SELECT 1 FROM touched)), "
        f"logged AS (INSERT INTO audit_event ({_NAMES}) {_UNNEST} AS e "
        "WHERE EXISTS (SELECT 1 FROM found) RETURNING seq) "
        "SELECT (SELECT count(*) FROM touched) AS session_alive__, found.* "
        "FROM (SELECT 1) AS one LEFT JOIN found ON TRUE"
    )


def _columns(rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """Events as one array per column, for unnest(): one statement for any number."""
    columns = {f"event_{name}": [row[name] for row in rows] for name, _ in _EVENT_COLUMNS}
    columns["event_details"] = [
        json.dumps(d, separators=(",", ":")) for d in columns["event_details"]
    ]
    return columns


_EVENT_COLUMNS = (
    ("id", "uuid"),
    ("occurred_at", "timestamptz"),
    ("actor_id", "uuid"),
    ("actor_role", "varchar"),
    ("actor_label", "varchar"),
    ("action", "varchar"),
    ("resource_type", "varchar"),
    ("resource_id", "varchar"),
    ("outcome", "varchar"),
    ("request_id", "varchar"),
    ("client_ip", "varchar"),
    ("user_agent", "varchar"),
    ("details", "jsonb"),
    ("mac", "varchar"),
)
_NAMES = ", ".join(name for name, _ in _EVENT_COLUMNS)
# Parameters named event_*, so that they combine with other statements' parameters.
_ARRAYS = ", ".join(f"CAST(:event_{name} AS {kind}[])" for name, kind in _EVENT_COLUMNS)
_UNNEST = f"SELECT * FROM unnest({_ARRAYS})"  # noqa: S608 (constants)
_INSERT_EVENTS = text(f"INSERT INTO audit_event ({_NAMES}) {_UNNEST}")


@cache
def _touch_and_insert(touch_sql: str) -> TextClause:
    return text(
        f"WITH touched AS ({touch_sql}) "  # noqa: S608 (constants)
        f"INSERT INTO audit_event ({_NAMES}) {_UNNEST} AS e "
        "WHERE EXISTS (SELECT 1 FROM touched) RETURNING seq"
    )
