"""One unit of work per request, committed here and nowhere else.

A change's audit events are written in its transaction just before the commit, together with
the slide of the caller's session, in one statement: a change without its event cannot exist,
and a session that ended meanwhile writes nothing (401). An audited read (`Unit.read`,
`Unit.read_recorded`) runs in autocommit instead: its event and the session's slide are one
statement (with the read itself when the event is known beforehand), and nothing is answered
before it succeeded; the unit then refuses any other write. The commit happens before the
response is sent. A refusal (401/403/404) rolls the work back and is then recorded on its own.

The route opens and finishes the unit (`UnitOfWorkRoute`, every router's `route_class`); the
endpoint and its dependencies take it as `UnitOfWork`. An audited read that is the request's
first work needs no SQLAlchemy session: its statement runs on the driver's connection of a
pooled connection checked out for it (app.core.db.fetch_on_pool).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Annotated, Any, Protocol, cast

from anyio import CancelScope
from fastapi import Depends, Request, Response
from fastapi import routing as _fastapi_routing
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.anonymous import Closed
from app.core.audit_trail import AuditTrail, Outcome, insert_event
from app.core.config import Settings
from app.core.db import (
    READ_ONLY_UNIT,
    UNIT_BOOKKEEPING,
    Database,
    fetch_in_autocommit,
    fetch_on_pool,
)
from app.core.errors import AppError, FieldError, InvalidInput
from app.core.etag import with_digest
from app.core.requestctx import current_request_meta, header
from app.core.route_handler import lean_handler
from app.core.sql import Bound, compose, statement

# A row an audited read returns, by column name.
Row = Mapping[str, Any]

AUDITED_REFUSALS = frozenset({401, 403, 404})
AUDIT_ACTION = "x-audit-action"


def audited_as(action: str) -> dict[str, Any]:
    """A route's `openapi_extra`: the audit action of the request, success or refusal alike."""
    return {AUDIT_ACTION: action}


class SessionGuard(Protocol):
    """The caller's session, checked and slid when the unit of work finishes."""

    def touch(self) -> Bound:
        """An UPDATE ... RETURNING that slides a live session and returns no row otherwise."""
        ...

    async def ended_error(self, db: AsyncSession) -> AppError: ...


class Unit:
    """A request's work. Its SQLAlchemy session (`db`) is made when first used: an audited
    read that is the request's first work runs on a pooled connection of its own without one
    (see `read`), and a session made after it is autocommit and read-only."""

    def __init__(
        self,
        db: AsyncSession | None,
        audit: AuditTrail,
        settings: Settings,
        session_guard: SessionGuard | None = None,
        read_only: bool = False,
        *,
        database: Database | None = None,
    ) -> None:
        assert db is not None or database is not None
        self._db = db
        self._database = database
        self.audit = audit
        self.settings = settings
        self.session_guard = session_guard
        self.read_only = read_only

    @property
    def db(self) -> AsyncSession:
        if self._db is None:
            assert self._database is not None
            maker = self._database.read_only_sessionmaker if self.read_only else None
            self._db = (maker or self._database.sessionmaker)()
        return self._db

    @property
    def has_session(self) -> bool:
        return self._db is not None

    def in_transaction(self) -> bool:
        return self._db is not None and self._db.in_transaction()

    async def check_session_now(self) -> None:
        """Check and slide the session at once (before an action that ends it, like logout)."""
        guard, self.session_guard = self.session_guard, None
        if guard is not None and not await _touch(self.db, guard):
            raise await guard.ended_error(self.db)

    async def read_recorded(
        self, query: Bound, event: dict[str, Any], *, unless: str | None = None
    ) -> Row | None:
        """A read of one row whose audit event is known before it is read (its data subject
        is): as the request's first work, one statement slides the session, reads the row only
        if the session is live, and writes the event only if a row was read. Otherwise the
        ordinary two steps.

        `unless` names a boolean column of the query: a row where it is true is held back (see
        `hold_back`), neither recorded nor returned."""
        template = _read_recorded(unless)  # checks `unless` on either way
        guard = self.session_guard
        if guard is None or self.in_transaction():
            rows = self.hold_back(await self.read(query), unless)
            if rows:
                self.audit.queue(event)
            return rows[0] if rows else None
        self.session_guard = None
        rows = await self._fetch_in_autocommit(
            compose(template, touch=guard.touch(), q=query, event=insert_event(event)),
            bookkeeping=True,
        )
        row = rows[0]
        if not row["session_alive__"]:
            raise await guard.ended_error(self.db)
        found = self.hold_back([row] if row["found__"] else [], unless)
        return found[0] if found else None

    def hold_back(self, rows: Sequence[Row], unless: str | None) -> Sequence[Row]:
        """The rows of an audited read, or none when `unless` names a boolean column true in
        one of them, or none was found: then nothing is recorded or answered, and the unit is
        as it was before the read (a read that found rows in need of work first, say, which the
        caller then does in a transaction before reading again). A unit whose session already
        took the read's autocommit stays read-only: a write is refused, never done outside a
        transaction."""
        if unless is None or (rows and not any(r[unless] for r in rows)):
            return rows
        if self._db is None:
            self.read_only = False  # only the slide (bookkeeping) ran; nothing was read
        return []

    async def probe(self, query: Bound) -> Sequence[Row]:
        """A SELECT that decides what the request does next (whether a record needs work
        before it is read), outside the unit's work: in autocommit on a pooled connection of
        its own, so the unit stays as it was (its first audited read can still be the fast one,
        or a transaction can still follow). Nothing it returns is answered or recorded as read:
        what the caller is answered comes from an audited read after it."""
        if self._database is None or self.in_transaction():
            return await self.read(query)  # in the unit's transaction already: read there
        return await fetch_on_pool(self._database, query)

    async def _fetch_in_autocommit(
        self, query: Bound, *, bookkeeping: bool = False
    ) -> Sequence[Row]:
        """One statement in autocommit, the unit read-only from then on (before it runs)."""
        self.read_only = True
        if self._db is None:  # no session: a pooled connection for this statement alone
            assert self._database is not None
            return await fetch_on_pool(self._database, query, bookkeeping=bookkeeping)
        conn = await (
            self._db.connection()  # already autocommit and read-only
            if self._db.in_transaction()
            else self._db.connection(
                execution_options={"isolation_level": "AUTOCOMMIT", READ_ONLY_UNIT: True}
            )
        )
        return await fetch_in_autocommit(conn, query, bookkeeping=bookkeeping)

    async def read(self, query: Bound) -> Sequence[Row]:
        """The SELECT of an audited read (a record by id, a page of a list).

        As the first work of a request it runs in autocommit: the request's one write is then
        the statement that slides the session and writes its audit events when the unit of
        work finishes (two round trips in all, no BEGIN or COMMIT), and nothing reaches the
        client unless that statement succeeded. From then on the unit is read-only: any other
        write on its connection is refused (raised, never silently done outside a transaction).
        """
        if self.in_transaction() and not self.read_only:
            conn = await self.db.connection()
            stmt, params = statement(query)
            return cast(Sequence[Row], (await conn.execute(stmt, params)).mappings().all())
        return await self._fetch_in_autocommit(query)


async def _touch(db: AsyncSession, guard: SessionGuard) -> bool:
    stmt, params = statement(guard.touch())
    conn = await db.connection()
    result = await conn.execute(stmt, params, execution_options={UNIT_BOOKKEEPING: True})
    return result.first() is not None


# Slide the session, read one row if the session is live, write its event if a row was read:
# one statement, one implicit transaction, one round trip.
# A row held back (`unless`, see Unit.hold_back) is read but not recorded.
# The session's liveness is asked with EXISTS, and the event's insert returns nothing: an
# aggregate (`count(*) > 0`) and a RETURNING nobody reads cost PostgreSQL about an eighth of
# the statement's time (measured with pgbench, one client, prepared: 2,160 against 2,550
# statements a second).
_READ_RECORDED = (
    "WITH touched AS ({{touch}}), "
    "found AS (SELECT f.*, TRUE AS found__ FROM ({{q}}) AS f"
    " WHERE EXISTS (SELECT 1 FROM touched)), "
    "logged AS ({{event}} WHERE EXISTS (SELECT 1 FROM found{held})) "
    "SELECT EXISTS (SELECT 1 FROM touched) AS session_alive__, found.* "
    "FROM (SELECT 1) AS one LEFT JOIN found ON TRUE"
)
_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")


@cache
def _read_recorded(unless: str | None) -> str:
    """`_READ_RECORDED` holding back a row where the boolean column `unless` is true (a
    constant of the code, checked all the same), or none."""
    if unless is not None and not _IDENTIFIER.fullmatch(unless):
        raise ValueError(f"not a column name: {unless!r}")
    return _READ_RECORDED.format(held=f" WHERE NOT found.{unless}" if unless else "")


def route_action(request: Request) -> str:
    """The audit action of the request's route ("quote.read"), as its successes are recorded."""
    route = request.scope.get("route")
    declared = (getattr(route, "openapi_extra", None) or {}).get(AUDIT_ACTION)
    if declared:
        return str(declared)
    path = getattr(route, "path", request.url.path)
    return f"{request.method} {path}"


async def _record_refusal(unit: Unit, database: Database, request: Request, exc: AppError) -> None:
    """The refusal as an event of its own (the request's own work was rolled back), written on
    a connection of its own once the unit's is handed back: a request must never hold one
    connection while it waits for another (a burst of requests whose sessions had ended, each
    holding the connection that found so, waited for the pool's timeout and failed with 503)."""
    if unit.has_session:
        await unit.db.rollback()
    audit = unit.audit
    audit.discard()
    record_now = True
    if audit.actor is None:  # naming nobody: counted, see app/core/anonymous.py
        record_now, summaries = request.app.state.anonymous_refusals.note(
            current_request_meta().client_ip or "unknown", route_action(request)
        )
        for closed in summaries:
            audit.queue(repeated_refusals_event(audit, closed))
    if record_now:
        path_params = request.path_params
        resource_id = exc.resource_id or (next(iter(path_params.values())) if path_params else None)
        # "/users/{user_id}": the refused request was for a "user", so a search finds it
        named = next(iter(path_params), None)
        resource_type = exc.resource_type or (named.removesuffix("_id") if named else None)
        audit.record(
            route_action(request),
            resource_type=resource_type,
            resource_id=resource_id,
            outcome=Outcome.denied,
            details={"status": exc.status, "problem": exc.slug},
        )
    if audit.has_pending:
        await write_events(database, audit)


async def write_events(database: Database, audit: AuditTrail) -> None:
    """Write a trail's pending events on their own (a refusal, counted refusals)."""
    async with database.sessionmaker() as session:
        await audit.flush(session)
        await session.commit()


def repeated_refusals_event(audit: AuditTrail, closed: Closed) -> dict[str, Any]:
    """One event for the refusals of a window beyond its first (which was recorded at once)."""
    return audit.event(
        closed.action,
        outcome=Outcome.denied,
        details={
            "status": 401,
            "repeated": closed.more,
            "client_ip": closed.client_ip,
            "window_start": datetime.fromtimestamp(closed.started, UTC),
            "window_end": datetime.fromtimestamp(closed.ended, UTC),
        },
        actor=None,
    )


async def _session_error(unit: Unit) -> AppError | None:
    """With a request already failing: if the caller's session has ended, that is the answer."""
    guard, unit.session_guard = unit.session_guard, None
    if guard is None:
        return None
    if await _touch(unit.db, guard):
        await unit.db.commit()
        return None
    return await guard.ended_error(unit.db)


def _has_work_to_finish(unit: Unit) -> bool:
    return (
        unit.session_guard is not None
        or unit.audit.has_pending
        or (not unit.read_only and unit.in_transaction())
    )


async def _finish(unit: Unit) -> AppError | None:
    """Write the audit events and slide the session (one statement), then commit.
    Returns the 401 to answer instead when the session has ended (nothing is committed)."""
    if not _has_work_to_finish(unit):
        return None  # nothing to write, nothing to commit (an autocommit read is done)
    guard, unit.session_guard = unit.session_guard, None
    touch = guard.touch() if guard else None
    if unit.read_only:  # after an autocommit read: one statement in autocommit too
        statement_, expected = unit.audit.take_statement(touch=touch)
        if statement_ is None:
            return None
        rows = await unit._fetch_in_autocommit(statement_, bookkeeping=True)
        if len(rows) != expected:
            assert guard is not None
            return await guard.ended_error(unit.db)
        return None
    written = await unit.audit.flush(unit.db, touch=touch)
    if not written:
        assert guard is not None
        await unit.db.rollback()
        return await guard.ended_error(unit.db)
    await unit.db.commit()
    return None


_UNIT = "lpl.unit_of_work"


async def _run_in_unit(
    request: Request, handler: Callable[[Request], Awaitable[Response]]
) -> Response:
    """The route's handler (its dependencies, the endpoint, the answer built) inside the
    request's unit of work, which is finished before the answer is sent: the events written
    and committed, or the work rolled back and a refusal recorded on its own. The finishing
    is shielded from cancellation, as FastAPI shields a dependency's exit."""
    state = request.app.state
    database: Database = state.database
    audit = AuditTrail(state.audit_key, current_request_meta())
    unit = Unit(None, audit, state.settings, database=database)
    request.scope[_UNIT] = unit
    ended: AppError | None = None
    try:
        try:
            response = await handler(request)
        except (AppError, RequestValidationError) as exc:
            with CancelScope(shield=True):
                if isinstance(exc, AppError) and exc.commit_work:
                    ended = await _finish(unit)
                else:
                    if unit.has_session:
                        await unit.db.rollback()
                    if getattr(exc, "status", None) != 401:
                        ended = await _session_error(unit)
                # A refusal is recorded on its own, unless the work that refused it (a failed
                # login) already recorded it and was committed.
                refusal = ended or (None if getattr(exc, "commit_work", False) else exc)
                if isinstance(refusal, AppError) and (
                    refusal.status in AUDITED_REFUSALS
                    or (refusal.status == 429 and not audit.actor)
                ):
                    await _record_refusal(unit, database, request, refusal)
            if ended is not None:
                raise ended from exc
            raise
        except BaseException:
            with CancelScope(shield=True):
                if unit.has_session:
                    await unit.db.rollback()
            raise
        if _has_work_to_finish(unit):
            with CancelScope(shield=True):
                ended = await _finish(unit)
                if ended is not None:
                    await _record_refusal(unit, database, request, ended)
        if ended is not None:
            raise ended
        return response
    finally:
        if unit.has_session:
            with CancelScope(shield=True):
                await unit.db.close()


async def current_unit(request: Request) -> Unit:
    """The request's unit of work, opened by its route (`UnitOfWorkRoute`)."""
    try:
        unit: Unit = request.scope[_UNIT]
    except KeyError:
        raise RuntimeError("a route using the unit of work must be a UnitOfWorkRoute") from None
    return unit


def uses_unit(dependant: Dependant) -> bool:
    return any(d.call is current_unit or uses_unit(d) for d in dependant.dependencies)


class UnitOfWorkRoute(APIRoute):
    """A route whose dependencies or endpoint take the unit of work (`UnitOfWork`): its handler
    runs inside the unit, opened before the dependencies are solved and finished after the
    answer is built, before it is sent (the work of a dependency with `yield` of function
    scope, without its per-request context manager and exit stack)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        fallback = super().get_route_handler()
        handler = (
            lean_handler(
                self.dependant,
                self.body_field is not None,
                self.dependency_overrides_provider,
                fallback,
            )
            if _included_as_declared()
            else None
        ) or fallback
        known = frozenset(_query_names(self.dependant))
        in_unit = uses_unit(self.dependant)

        async def checked(request: Request) -> Response:
            unknown = (
                [name for name in request.query_params if name not in known]
                if request.scope.get("query_string")
                else ()
            )
            if unknown:  # a misspelt filter must not quietly return everything
                raise InvalidInput(
                    errors=[
                        FieldError(
                            name,
                            "unknown_parameter",
                            "Not a parameter of this operation; it takes: "
                            + (", ".join(sorted(known)) or "none")
                            + ".",
                        )
                        for name in unknown
                    ]
                )
            response = await (_run_in_unit(request, handler) if in_unit else handler(request))
            with_digest(response)
            return not_modified(request, response) or response

        return checked


def _included_as_declared() -> bool:
    """False while FastAPI builds the handler of a route included with dependencies of the
    router's inclusion, which its own dependant does not show (we include none)."""
    context = getattr(_fastapi_routing, "_effective_route_context_var", None)
    effective = context.get() if context is not None else None
    return effective is None or not getattr(effective, "dependencies", None)


def _query_names(dependant: Dependant) -> set[str]:
    """The query parameters a route takes, its dependencies' included."""
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def not_modified(request: Request, response: Response) -> Response | None:
    """304 for a read whose ETag the client already holds (If-None-Match), the read recorded."""
    if request.method != "GET" or response.status_code != 200:
        return None
    wanted = header(request.scope, b"if-none-match")
    if not wanted:
        return None
    tag = response.headers.get("etag")
    if not tag:
        return None
    tags = {t.strip().removeprefix("W/") for t in wanted.split(",")}
    if tag.removeprefix("W/") not in tags and "*" not in tags:
        return None
    return Response(status_code=304, headers={"ETag": tag})


# The commit happens before the response is sent, so a client never sees data whose audit
# event failed to commit.
UnitOfWork = Annotated[Unit, Depends(current_unit)]
