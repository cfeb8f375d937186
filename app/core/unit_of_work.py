"""One transaction per request, opened and committed here and nowhere else.

The audit events a request records are written in that same transaction just before the
commit, so a read or a change without its event cannot exist. A refusal (401/403/404) rolls
the work back and is then recorded on its own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.recorder import AuditTrail, Outcome
from app.core.config import Settings
from app.core.db import Database
from app.core.errors import AppError
from app.core.requestctx import current_request_meta

AUDITED_REFUSALS = frozenset({401, 403, 404})


@dataclass
class Unit:
    db: AsyncSession
    audit: AuditTrail
    settings: Settings


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
    audit.discard()
    audit.record(
        route_action(request),
        resource_type=exc.resource_type,
        resource_id=resource_id,
        outcome=Outcome.denied,
        details={"status": exc.status, "problem": exc.slug},
    )
    async with database.sessionmaker() as session:
        await audit.flush(session)
        await session.commit()


async def unit_of_work(request: Request) -> AsyncIterator[Unit]:
    state = request.app.state
    database: Database = state.database
    audit = AuditTrail(state.audit_key, current_request_meta())
    session = database.sessionmaker()
    unit = Unit(session, audit, state.settings)
    try:
        yield unit
    except AppError as exc:
        if exc.commit_work:
            await audit.flush(session)
            await session.commit()
        else:
            await session.rollback()
            if exc.status in AUDITED_REFUSALS:
                await _record_refusal(database, audit, request, exc)
        raise
    except BaseException:
        await session.rollback()
        raise
    else:
        await audit.flush(session)
        await session.commit()
    finally:
        await session.close()


# Function scope: the commit happens before the response is sent, so a client never sees
# data whose audit event failed to commit.
UnitOfWork = Annotated[Unit, Depends(unit_of_work, scope="function")]
