"""The audit trail of one unit of work: events are collected while the request runs and
written in its transaction, just before the commit, in one statement."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, NamedTuple

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.audit_chain import event_mac, jsonable, redact
from app.core.db import UNIT_BOOKKEEPING
from app.core.requestctx import RequestMeta
from app.core.responses import json_default
from app.core.sql import Bound, compose, statement


class Outcome(StrEnum):
    success = "success"
    failure = "failure"
    denied = "denied"


class Actor(NamedTuple):
    id: uuid.UUID | None
    role: str | None
    label: str | None


class AuditTrail:
    """The events of one unit of work, queued until it finishes."""

    def __init__(self, key: bytes, meta: RequestMeta) -> None:
        self._key = key
        self._meta = meta
        self._pending: list[dict[str, Any]] = []
        self.actor: Actor | None = None

    def record(self, action: str, **fields: Any) -> None:
        """Queue an event (see `event` for the fields) for the unit of work's commit."""
        self._pending.append(self.event(action, **fields))

    def queue(self, event: dict[str, Any]) -> None:
        """Queue an event made by `event`."""
        self._pending.append(event)

    def event(
        self,
        action: str,
        *,
        resource_type: str | None = None,
        resource_id: object | None = None,
        subjects: Iterable[uuid.UUID | None] = (),
        resource_ids: Iterable[object] = (),
        outcome: Outcome = Outcome.success,
        details: dict[str, Any] | None = None,
        actor: Actor | None = None,
    ) -> dict[str, Any]:
        """An event, complete with its MAC, not yet queued. `subjects`: the lawyers (or other
        people) whose records these are; `resource_ids`: the records a list read returned."""
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
            "subject_ids": list(dict.fromkeys(s for s in subjects if s is not None)),
            "resource_ids": [str(r) for r in resource_ids],
            "client_request_id": self._meta.client_request_id,
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
        subjects: Iterable[uuid.UUID | None] = (),
    ) -> None:
        """A change, with only the fields that differ (secrets redacted)."""
        before = before or {}
        after = after or {}
        keys = [k for k in {**before, **after} if before.get(k) != after.get(k)]
        self.record(
            action,
            resource_type=resource_type,
            resource_id=resource_id,
            subjects=subjects,
            details={
                "before": {k: before.get(k) for k in keys},
                "after": {k: after.get(k) for k in keys},
            },
        )

    def last_recorded(self) -> dict[str, Any] | None:
        """The latest event queued (what the request's answer is about), if any."""
        return self._pending[-1] if self._pending else None

    @property
    def has_pending(self) -> bool:
        return bool(self._pending)

    def discard(self) -> None:
        self._pending.clear()

    async def flush(self, db: AsyncSession, *, touch: Bound | None = None) -> bool:
        """Write the pending events in one statement. With `touch` (an UPDATE ... RETURNING
        that slides the caller's session), the same statement slides the session first and
        writes nothing, answering False, when the session has ended."""
        rows, self._pending = self._pending, []
        conn = await db.connection()
        options = {UNIT_BOOKKEEPING: True}
        if touch is None:
            if rows:
                stmt, params = statement(insert_events(rows))
                await conn.execute(stmt, params, execution_options=options)
            return True
        if not rows:
            stmt, params = statement(touch)
            return (await conn.execute(stmt, params, execution_options=options)).first() is not None
        stmt, params = statement(_touch_and_insert(touch, rows))
        written = await conn.execute(stmt, params, execution_options=options)
        return len(written.all()) == len(rows)

    def take_statement(self, *, touch: Bound | None) -> tuple[Bound | None, int]:
        """`flush`'s one statement, for a unit of work that runs it itself (in autocommit), and
        the number of rows it returns when it wrote: the pending events are taken."""
        rows, self._pending = self._pending, []
        if touch is None:
            return (insert_events(rows) if rows else None), 0
        if not rows:
            return touch, 1
        return _touch_and_insert(touch, rows), len(rows)


def insert_events(rows: list[dict[str, Any]]) -> Bound:
    """The INSERT ... SELECT of these events, as a part for a composed statement (a WHERE
    clause may follow it). One event (nearly every request's) is bound value by value
    (`insert_event`): unnesting arrays of one, its id lists through JSON, cost PostgreSQL about
    a fifth more (a list read's event naming 50 records: 770 against 600 us of server CPU)."""
    if len(rows) == 1:
        return insert_event(rows[0])
    return Bound(_INSERT_SQL, _columns(rows))


def insert_event(row: dict[str, Any]) -> Bound:
    """`insert_events` of one event, its values bound one by one (no arrays to unnest)."""
    values = dict(row)  # an event's keys are the columns (Bound checks it)
    values["details"] = _json_text(row["details"])
    return Bound(_INSERT_ONE_SQL, values)


def _columns(rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """Events as one array per column, for unnest(): one statement for any number. The id
    lists travel as JSON (unnest would flatten arrays of arrays)."""
    columns = {name: [row[name] for row in rows] for name, _ in _EVENT_COLUMNS}
    for name in _JSON_COLUMNS:
        columns[name] = [_json_text(v) for v in columns[name]]
    return columns


_COMPACT = json.JSONEncoder(separators=(",", ":"))  # json.dumps(..., separators=) made once


def _json_text(value: Any) -> str:
    """An event's JSON column as text for its jsonb column: its details (made JSON-safe by
    `event`) or a list of ids, written by orjson as answers are (`json_default`: an id as its
    text, as `jsonable` writes it); anything orjson refuses (an integer beyond 64 bits) as
    `jsonable` and the standard library write it. jsonb keeps the value, not the text: either
    reads back the same."""
    try:
        return orjson.dumps(value, default=json_default).decode()
    except orjson.JSONEncodeError:
        return _COMPACT.encode(jsonable(value))


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
    ("subject_ids", "jsonb"),
    ("resource_ids", "jsonb"),
    ("client_request_id", "varchar"),
    ("mac", "varchar"),
)
_JSON_COLUMNS = ("details", "subject_ids", "resource_ids")
_ARRAY_OF = {"subject_ids": "uuid", "resource_ids": "varchar"}
_NAMES = ", ".join(name for name, _ in _EVENT_COLUMNS)
_VALUES = ", ".join(
    f"ARRAY(SELECT jsonb_array_elements_text(e.{name}))::{_ARRAY_OF[name]}[]"
    if name in _ARRAY_OF
    else f"e.{name}"
    for name, _ in _EVENT_COLUMNS
)
_ARRAYS = ", ".join(f"CAST(:{name} AS {kind}[])" for name, kind in _EVENT_COLUMNS)
_INSERT_SQL = (
    f"INSERT INTO audit_event ({_NAMES}) SELECT {_VALUES} "  # noqa: S608 (constants)
    f"FROM unnest({_ARRAYS}) AS e({_NAMES})"
)
_ONE = {"details": "jsonb", "subject_ids": "uuid[]", "resource_ids": "varchar[]"}
_INSERT_ONE_SQL = f"INSERT INTO audit_event ({_NAMES}) SELECT " + ", ".join(
    f"CAST(:{name} AS {_ONE.get(name, kind)})" for name, kind in _EVENT_COLUMNS
)


def _touch_and_insert(touch: Bound, rows: list[dict[str, Any]]) -> Bound:
    events = insert_events(rows)
    return compose(
        "WITH touched AS ({touch}) {events} WHERE EXISTS (SELECT 1 FROM touched) RETURNING seq",
        touch=touch,
        events=events,
    )
