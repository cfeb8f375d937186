"""One transaction per request, opened and committed here and nowhere else.

The audit events a request records are written in that same transaction just before the
commit, together with the slide of the caller's session, in one statement: a read or change
without its event cannot exist, and a session that ended meanwhile writes nothing (401).
The commit happens before the response is sent. A refusal (401/403/404) rolls the work back
and is then recorded on its own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Annotated, Any, Protocol

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.recorder import AuditTrail, Outcome, read_with_event
from app.core.config import Settings
from app.core.db import Database
from app.core.errors import AppError
from app.core.requestctx import current_request_meta

AUDITED_REFUSALS = frozenset({401, 403, 404})


class SessionGuard(Protocol):
    """The caller's session, checked and slid when the unit of work finishes."""

    @property
    def touch_sql(self) -> str: ...

    def touch_params(self) -> dict[str, Any]: ...

    async def ended_error(self, db: AsyncSession) -> AppError: ...


@dataclass
class Unit:
    db: AsyncSession
    audit: AuditTrail
    settings: Settings
    session_guard: SessionGuard | None = field(default=None)

    async def check_session_now(self) -> None:
        """Check and slide the session at once (before an action that ends it, like logout)."""
        guard, self.session_guard = self.session_guard, None
        if guard is not None and not await _touch(self.db, guard):
            raise await guard.ended_error(self.db)

    async def read_one(
        self,
        select_sql: str,
        params: dict[str, Any],
        *,
        action: str,
        resource_type: str,
        resource_id: object,
    ) -> dict[str, Any] | None:
        """An audited read of one record. As the first work of a request, it slides the
        session, reads and records the read in one statement, committed on its own (the
        request then has nothing left to commit); otherwise read and record as usual.
        Only for a request that does nothing but this read: the connection is left in
        autocommit, so a write after it would not share a transaction with anything."""
        guard = self.session_guard
        if guard is None or self.db.in_transaction():
            row = (await (await self.db.connection()).execute(text(select_sql), params)).first()
            if row is not None:
                self.audit.record(action, resource_type=resource_type, resource_id=resource_id)
            return dict(row._mapping) if row is not None else None
        conn = await self.db.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        self.session_guard = None
        alive, found = await read_with_event(
            conn,
            touch_sql=guard.touch_sql,
            touch_params=guard.touch_params(),
            select_sql=select_sql,
            select_params=params,
            event=self.audit.event(action, resource_type=resource_type, resource_id=resource_id),
        )
        if not alive:
            raise await guard.ended_error(self.db)
        return found


async def _touch(db: AsyncSession, guard: SessionGuard) -> bool:
    conn = await db.connection()
    return (await conn.execute(text(guard.touch_sql), guard.touch_params())).first() is not None


def route_action(request: Request) -> str:
    """'GET /quotes/{quote_id}': the operation a refusal was for."""
    route = request.scope.get("route")
    path = getattr(route, "path", request.url.path)
    return f"{request.method} {path}"


async def _record_refusal(
    database: Database, audit: AuditTrail, request: Request, exc: AppError
) -> None:
    path_params = request.path_params
    resource_id = exc.resource_id or (next(iter(path_params.values())) if path_params else None)
    # "/users/{user_id}": the refused request was for a "user", so a search by resource finds it
    named = next(iter(path_params), None)
    resource_type = exc.resource_type or (named.removesuffix("_id") if named else None)
    audit.discard()
    audit.record(
        route_action(request),
        resource_type=resource_type,
        resource_id=resource_id,
        outcome=Outcome.denied,
        details={"status": exc.status, "problem": exc.slug},
    )
    async with database.sessionmaker() as session:
        await audit.flush(session)
        await session.commit()


async def _session_error(unit: Unit) -> AppError | None:
    """With a request already failing: if the caller's session has ended, that is the answer."""
    guard, unit.session_guard = unit.session_guard, None
    if guard is None:
        return None
    if await _touch(unit.db, guard):
        await unit.db.commit()
        return None
    return await guard.ended_error(unit.db)


async def _finish(unit: Unit) -> AppError | None:
    """Write the audit events and slide the session (one statement), then commit.
    Returns the 401 to answer instead when the session has ended (nothing is committed)."""
    guard, unit.session_guard = unit.session_guard, None
    written = await unit.audit.flush(
        unit.db,
        touch_sql=guard.touch_sql if guard else None,
        touch_params=guard.touch_params() if guard else None,
    )
    if not written:
        assert guard is not None
        await unit.db.rollback()
        return await guard.ended_error(unit.db)
    await unit.db.commit()
    return None


async def unit_of_work(request: Request) -> AsyncIterator[Unit]:
    state = request.app.state
    database: Database = state.database
    audit = AuditTrail(state.audit_key, current_request_meta())
    session = database.sessionmaker()
    unit = Unit(session, audit, state.settings)
    ended: AppError | None = None
    try:
        try:
            yield unit
        except (AppError, RequestValidationError) as exc:
            if isinstance(exc, AppError) and exc.commit_work:
                ended = await _finish(unit)
            else:
                await session.rollback()
                if getattr(exc, "status", None) != 401:
                    ended = await _session_error(unit)
            # A refusal is recorded on its own, unless the work that refused it (a failed
            # login) already recorded it and was committed.
            refusal = ended or (None if getattr(exc, "commit_work", False) else exc)
            if isinstance(refusal, AppError) and refusal.status in AUDITED_REFUSALS:
                await _record_refusal(database, audit, request, refusal)
            if ended is not None:
                raise ended from exc
            raise
        except BaseException:
            await session.rollback()
            raise
        ended = await _finish(unit)
        if ended is not None:
            await _record_refusal(database, audit, request, ended)
            raise ended
    finally:
        await session.close()


# Function scope: the commit happens before the response is sent, so a client never sees
# data whose audit event failed to commit.
UnitOfWork = Annotated[Unit, Depends(unit_of_work, scope="function")]
