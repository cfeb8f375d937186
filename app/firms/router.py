from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Depends, status

from app.accounts.roles import STAFF_ROLES, Role
from app.auth.dependencies import CurrentPrincipal, require_role
from app.auth.principal import Principal
from app.core.errors import problem_responses
from app.core.pagination import DEFAULT_LIMIT, Cursor, Limit, Page
from app.core.routing import DomainRouter
from app.core.unit_of_work import UnitOfWork, audited_as
from app.firms import service
from app.firms.schemas import FirmCreate, FirmRead

router = DomainRouter(prefix="/firms", tags=["firms"])

AdminOnly = Annotated[Principal, Depends(require_role(Role.admin))]
Staff = Annotated[Principal, Depends(require_role(*STAFF_ROLES))]


@router.post(
    "",
    operation_id="createFirm",
    openapi_extra=audited_as("firm.create"),
    summary="Register a law firm",
    status_code=status.HTTP_201_CREATED,
    response_model=FirmRead,
    responses=problem_responses(401, 403, 409, 422),
)
async def create_firm(unit: UnitOfWork, _: AdminOnly, body: FirmCreate) -> FirmRead:
    return FirmRead.model_validate(await service.create_firm(unit, body))


@router.get(
    "",
    operation_id="listFirms",
    openapi_extra=audited_as("firm.list"),
    summary="List law firms",
    response_model=Page[FirmRead],
    responses=problem_responses(401, 403, 422),
)
async def list_firms(
    unit: UnitOfWork, principal: Staff, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Page[FirmRead]:
    return await service.list_firms(unit, principal, cursor=cursor, limit=limit)


@router.get(
    "/{firm_id}",
    operation_id="getFirm",
    openapi_extra=audited_as("firm.read"),
    summary="Read a law firm",
    response_model=FirmRead,
    responses=problem_responses(401, 404),
)
async def get_firm(unit: UnitOfWork, principal: CurrentPrincipal, firm_id: UUID) -> FirmRead:
    return await service.read_firm(unit, principal, firm_id)
