from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal
from uuid import UUID

from fastapi import Depends, Query, Response
from pydantic import AfterValidator, AwareDatetime

from app.accounts.roles import Role
from app.audit import service
from app.audit.repository import EventFilter
from app.audit.schemas import AuditEventRead
from app.auth.dependencies import require_role
from app.auth.principal import Principal
from app.core.errors import problem_responses
from app.core.pagination import DEFAULT_LIMIT, Cursor, Limit, Page
from app.core.responses import json_response
from app.core.routing import DomainRouter
from app.core.unit_of_work import UnitOfWork, audited_as

router = DomainRouter(prefix="/audit-events", tags=["audit"])

# Times a trail can hold: anything else (year 1, a naive time) is refused as invalid input.
AuditTime = Annotated[
    AwareDatetime,
    AfterValidator(
        lambda t: (
            t
            if datetime(1970, 1, 2, tzinfo=UTC) <= t <= datetime(9999, 1, 1, tzinfo=UTC)
            else _out_of_range()
        )
    ),
]


def _out_of_range() -> datetime:
    raise ValueError("must be a time between 1970 and 9999, with its UTC offset")


AuditReader = Annotated[Principal, Depends(require_role(Role.auditor, Role.admin))]


@router.get(
    "",
    operation_id="listAuditEvents",
    summary="The audit trail, newest first",
    response_model=Page[AuditEventRead],
    responses=problem_responses(401, 403, 422),
    openapi_extra=audited_as("audit_event.list"),
)
async def list_audit_events(
    unit: UnitOfWork,
    _: AuditReader,
    actor_id: Annotated[UUID | None, Query()] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    resource_type: Annotated[str | None, Query(max_length=64)] = None,
    resource_id: Annotated[
        str | None,
        Query(max_length=64, description="The record, read or changed alone or in a list"),
    ] = None,
    subject_id: Annotated[
        UUID | None, Query(description="Everything about one person (e.g. a lawyer)")
    ] = None,
    outcome: Annotated[Literal["success", "failure", "denied"] | None, Query()] = None,
    since: Annotated[AuditTime | None, Query(description="occurred at or after")] = None,
    until: Annotated[AuditTime | None, Query(description="occurred before")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    f = EventFilter(
        actor_id=actor_id,
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        subject_id=subject_id,
        outcome=outcome,
        since=since,
        until=until,
    )
    return json_response(await service.list_events(unit, f, cursor=cursor, limit=limit))
