"""HTTP for policies and their mid-term changes."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Depends, Query, Response, status

from app.accounts.roles import Role
from app.auth.dependencies import require_access, require_role
from app.auth.principal import Principal
from app.core.errors import problem_responses
from app.core.pagination import DEFAULT_LIMIT, Cursor, Limit, Page, UpdatedSince
from app.core.responses import json_response
from app.core.routing import DomainRouter
from app.core.unit_of_work import UnitOfWork, audited_as
from app.policies import service
from app.policies.models import RealEstateStatus
from app.policies.repository import POLICY_READERS
from app.policies.schemas import ChangeCreate, ChangeRead, PolicyDetail, RealEstateReview
from app.policies.service import CHANGE_REQUESTERS
from app.users.acting_for import ACTING_ROLES

router = DomainRouter(prefix="/policies", tags=["policies"])

Reader = Annotated[
    Principal, Depends(require_access("applications:read", ACTING_ROLES | POLICY_READERS))
]
Writer = Annotated[Principal, Depends(require_access("applications:write", CHANGE_REQUESTERS))]
# Checked before the policy is looked up, so a refusal never tells whether an id exists.
Underwriter = Annotated[Principal, Depends(require_role(Role.underwriter))]


@router.get(
    "",
    operation_id="listPolicies",
    openapi_extra=audited_as("policy.list"),
    summary="List the policies you may see",
    response_model=Page[PolicyDetail],
    responses=problem_responses(401, 403, 422),
)
async def list_policies(
    unit: UnitOfWork,
    principal: Reader,
    program_year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    lawyer_id: UUID | None = None,
    law_society_number: Annotated[str | None, Query(min_length=1, max_length=150)] = None,
    real_estate_status: RealEstateStatus | None = None,
    updated_since: UpdatedSince = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    filters = {
        "program_year": program_year,
        "lawyer_id": lawyer_id,
        "law_society_number": law_society_number,
        "real_estate_status": real_estate_status,
        "updated_since": updated_since,
    }
    page = await service.list_policies(unit, principal, filters=filters, cursor=cursor, limit=limit)
    return json_response(page)


@router.get(
    "/{policy_id}",
    operation_id="getPolicy",
    openapi_extra=audited_as("policy.read"),
    summary="Read a policy",
    response_model=PolicyDetail,
    responses=problem_responses(401, 403, 404),
)
async def get_policy(unit: UnitOfWork, principal: Reader, policy_id: UUID) -> Response:
    return json_response(await service.read_policy(unit, principal, policy_id))


@router.get(
    "/{policy_id}/changes",
    operation_id="listPolicyChanges",
    openapi_extra=audited_as("policy.changes.list"),
    summary="The policy's mid-term changes and their premium adjustments",
    response_model=list[ChangeRead],
    responses=problem_responses(401, 403, 404),
)
async def list_changes(unit: UnitOfWork, principal: Reader, policy_id: UUID) -> list[ChangeRead]:
    return await service.list_changes(unit, principal, policy_id)


@router.post(
    "/{policy_id}/changes",
    operation_id="createPolicyChange",
    openapi_extra=audited_as("policy.change"),
    summary="Request a mid-term change (Real Estate added or removed, Part-Time lost)",
    status_code=status.HTTP_201_CREATED,
    response_model=ChangeRead,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def create_change(
    unit: UnitOfWork, principal: Writer, policy_id: UUID, body: ChangeCreate
) -> ChangeRead:
    return await service.request_change(unit, principal, policy_id, body)


@router.post(
    "/{policy_id}/real-estate-review",
    operation_id="reviewPolicyRealEstate",
    openapi_extra=audited_as("policy.real_estate_review"),
    summary="Underwriting's due diligence on the Real Estate option",
    response_model=PolicyDetail,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def review_real_estate(
    unit: UnitOfWork, principal: Underwriter, policy_id: UUID, body: RealEstateReview
) -> PolicyDetail:
    return await service.review_real_estate(unit, principal, policy_id, body)
