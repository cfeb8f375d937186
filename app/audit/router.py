from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query

from app.audit import service
from app.audit.repository import EventFilter
from app.audit.schemas import AuditEventRead
from app.auth.dependencies import require_role
from app.auth.principal import Principal
from app.core.errors import problem_responses
from app.core.pagination import DEFAULT_LIMIT, Cursor, Limit, Page
from app.core.unit_of_work import UnitOfWork
from app.users.roles import Role

router = APIRouter(prefix="/audit-events", tags=["audit"])

AuditReader = Annotated[Principal, Depends(require_role(Role.auditor, Role.admin))]


@router.get(
    "",
    operation_id="listAuditEvents",
    summary="The audit trail, newest first",
    response_model=Page[AuditEventRead],
    responses=problem_responses(401, 403, 422),
)
async def list_audit_events(
    unit: UnitOfWork,
    _: AuditReader,
    actor_id: Annotated[UUID | None, Query()] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    resource_type: Annotated[str | None, Query(max_length=64)] = None,
    resource_id: Annotated[str | None, Query(max_length=64)] = None,
    outcome: Annotated[Literal["success", "failure", "denied"] | None, Query()] = None,
    since: Annotated[datetime | None, Query(description="occurred at or after")] = None,
    until: Annotated[datetime | None, Query(description="occurred before")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[AuditEventRead]:
    f = EventFilter(actor_id, action, resource_type, resource_id, outcome, since, until)
    return await service.list_events(unit, f, cursor=cursor, limit=limit)
