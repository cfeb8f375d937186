"""HTTP for user administration (admin), one's own profile, and the access review."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Depends, Query, Response, status

from app.accounts.roles import Role
from app.auth.dependencies import CurrentPrincipal, require_role
from app.auth.principal import Principal
from app.core.errors import problem_responses
from app.core.etag import IfMatch, answer_response, set_etag, with_etag
from app.core.pagination import DEFAULT_LIMIT, Cursor, Limit, Page, UpdatedSince
from app.core.responses import json_response
from app.core.routing import DomainRouter
from app.core.unit_of_work import UnitOfWork, audited_as
from app.users import service
from app.users.schemas import AccessReview, UserCreate, UserCreated, UserRead, UserUpdate

router = DomainRouter(prefix="/users", tags=["users"])

AdminOnly = Annotated[Principal, Depends(require_role(Role.admin))]
Reviewer = Annotated[Principal, Depends(require_role(Role.admin, Role.auditor))]


@router.get(
    "/me",
    operation_id="getCurrentUser",
    openapi_extra=audited_as("user.read"),
    summary="Your own account",
    response_model=UserRead,
    responses={**problem_responses(401), **with_etag(200)},
)
async def get_me(unit: UnitOfWork, principal: CurrentPrincipal) -> Response:
    user = await service.read_me(unit, principal)
    return answer_response(user)


@router.get(
    "/access-review",
    operation_id="getAccessReview",
    openapi_extra=audited_as("user.access_review"),
    summary="Who holds which role (the yearly access review)",
    response_model=AccessReview,
    responses=problem_responses(401, 403),
)
async def get_access_review(unit: UnitOfWork, _: Reviewer) -> AccessReview:
    return await service.access_review(unit)


@router.post(
    "",
    operation_id="createUser",
    openapi_extra=audited_as("user.create"),
    summary="Create a user",
    status_code=status.HTTP_201_CREATED,
    response_model=UserCreated,
    responses={**problem_responses(401, 403, 409, 422), **with_etag(201)},
)
async def create_user(
    unit: UnitOfWork, _: AdminOnly, body: UserCreate, response: Response
) -> UserCreated:
    user = await service.create_user(unit, body)
    set_etag(response, user.version)
    response.headers["Location"] = f"/users/{user.id}"
    response.headers["Cache-Control"] = "no-store"
    return user


@router.get(
    "",
    operation_id="listUsers",
    openapi_extra=audited_as("user.list"),
    summary="List users",
    response_model=Page[UserRead],
    responses=problem_responses(401, 403, 422),
)
async def list_users(
    unit: UnitOfWork,
    _: AdminOnly,
    role: Annotated[Role | None, Query()] = None,
    firm_id: Annotated[UUID | None, Query()] = None,
    disabled: Annotated[bool | None, Query()] = None,
    name: Annotated[str | None, Query(min_length=1, max_length=200, description="Part of")] = None,
    law_society_number: Annotated[
        str | None, Query(min_length=1, max_length=150, description="A lawyer's username")
    ] = None,
    updated_since: UpdatedSince = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    page = await service.list_users(
        unit,
        role=role,
        firm_id=firm_id,
        disabled=disabled,
        name=name,
        law_society_number=law_society_number,
        updated_since=updated_since,
        cursor=cursor,
        limit=limit,
    )
    return json_response(page)


@router.get(
    "/{user_id}",
    operation_id="getUser",
    openapi_extra=audited_as("user.read"),
    summary="Read a user",
    response_model=UserRead,
    responses={**problem_responses(401, 403, 404), **with_etag(200)},
)
async def get_user(unit: UnitOfWork, _: AdminOnly, user_id: UUID) -> Response:
    user = await service.read_user(unit, user_id)
    return answer_response(user)


@router.patch(
    "/{user_id}",
    operation_id="updateUser",
    openapi_extra=audited_as("user.update"),
    summary="Change a user's role, firm, scopes or contact details",
    response_model=UserRead,
    responses={**problem_responses(401, 403, 404, 409, 412, 422, 428), **with_etag(200)},
)
async def update_user(
    unit: UnitOfWork,
    principal: AdminOnly,
    user_id: UUID,
    body: UserUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> UserRead:
    user = await service.update_user(unit, principal, user_id, body, if_match)
    set_etag(response, user.version)
    return user


@router.post(
    "/{user_id}/disable",
    operation_id="disableUser",
    openapi_extra=audited_as("user.disable"),
    summary="Disable an account; its sessions end at once",
    response_model=UserRead,
    responses={**problem_responses(401, 403, 404, 409), **with_etag(200)},
)
async def disable_user(
    unit: UnitOfWork, principal: AdminOnly, user_id: UUID, response: Response
) -> UserRead:
    user = await service.disable_user(unit, principal, user_id)
    set_etag(response, user.version)
    return user


@router.post(
    "/{user_id}/enable",
    operation_id="enableUser",
    openapi_extra=audited_as("user.enable"),
    summary="Enable a disabled account",
    response_model=UserRead,
    responses={**problem_responses(401, 403, 404), **with_etag(200)},
)
async def enable_user(
    unit: UnitOfWork, _: AdminOnly, user_id: UUID, response: Response
) -> UserRead:
    user = await service.enable_user(unit, user_id)
    set_etag(response, user.version)
    return user


@router.post(
    "/{user_id}/unlock",
    operation_id="unlockUser",
    openapi_extra=audited_as("user.unlock"),
    summary="Unlock an account locked after failed logins",
    response_model=UserRead,
    responses={**problem_responses(401, 403, 404), **with_etag(200)},
)
async def unlock_user(
    unit: UnitOfWork, _: AdminOnly, user_id: UUID, response: Response
) -> UserRead:
    user = await service.unlock_user(unit, user_id)
    set_etag(response, user.version)
    return user
