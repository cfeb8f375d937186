"""HTTP for the annual application."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, Query, Response, status

from app.accounts.roles import Role
from app.applications import service
from app.applications.models import ApplicationStatus
from app.applications.repository import APPLICATION_READERS
from app.applications.schemas import (
    ApplicationCreate,
    ApplicationRead,
    ApplicationUpdate,
    DecisionCreate,
    TaxCertificateRead,
)
from app.applications.service import APPLICANTS
from app.auth.dependencies import require_access, require_role
from app.auth.principal import Principal
from app.core.errors import problem_responses
from app.core.etag import IfMatch, answer_response, set_etag, with_etag
from app.core.pagination import DEFAULT_LIMIT, Cursor, Limit, Page, UpdatedSince
from app.core.responses import json_response
from app.core.routing import DomainRouter
from app.core.unit_of_work import UnitOfWork, audited_as

router = DomainRouter(prefix="/applications", tags=["applications"])

Writer = Annotated[Principal, Depends(require_access("applications:write", APPLICANTS))]
Reader = Annotated[
    Principal, Depends(require_access("applications:read", APPLICANTS | APPLICATION_READERS))
]
# Checked before any record is looked up, so a refusal never tells whether an id exists.
Underwriter = Annotated[Principal, Depends(require_role(Role.underwriter))]
CertificateConfirmer = Annotated[
    Principal, Depends(require_role(Role.customer_service, Role.underwriter))
]


def _answer(application: dict[str, Any], *, created: bool = False) -> Response:
    return answer_response(
        application, collection="/applications", status_code=201 if created else 200
    )


@router.post(
    "",
    operation_id="createApplication",
    openapi_extra=audited_as("application.create"),
    summary="Start an application (a draft, from whatever is known)",
    status_code=status.HTTP_201_CREATED,
    response_model=ApplicationRead,
    responses={**problem_responses(401, 403, 409, 422), **with_etag(201)},
)
async def create_application(
    unit: UnitOfWork, principal: Writer, body: ApplicationCreate
) -> Response:
    return _answer(await service.create_application(unit, principal, body), created=True)


@router.get(
    "",
    operation_id="listApplications",
    openapi_extra=audited_as("application.list"),
    summary="List the applications you may see",
    response_model=Page[ApplicationRead],
    responses=problem_responses(401, 403, 422),
)
async def list_applications(
    unit: UnitOfWork,
    principal: Reader,
    program_year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    application_status: Annotated[ApplicationStatus | None, Query(alias="status")] = None,
    lawyer_id: UUID | None = None,
    law_society_number: Annotated[str | None, Query(min_length=1, max_length=150)] = None,
    submitted_from: Annotated[date | None, Query(description="Submitted on or after")] = None,
    submitted_to: Annotated[date | None, Query(description="Submitted on or before")] = None,
    updated_since: UpdatedSince = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    filters = {
        "program_year": program_year,
        "status": application_status,
        "lawyer_id": lawyer_id,
        "law_society_number": law_society_number,
        "submitted_from": submitted_from,
        "submitted_to": submitted_to,
        "updated_since": updated_since,
    }
    page = await service.list_applications(
        unit, principal, filters=filters, cursor=cursor, limit=limit
    )
    return json_response(page)


@router.get(
    "/{application_id}",
    operation_id="getApplication",
    openapi_extra=audited_as("application.read"),
    summary="Read an application",
    response_model=ApplicationRead,
    responses={**problem_responses(401, 403, 404), **with_etag(200)},
)
async def get_application(unit: UnitOfWork, principal: Reader, application_id: UUID) -> Response:
    return _answer(await service.read_application(unit, principal, application_id))


@router.patch(
    "/{application_id}",
    operation_id="updateApplication",
    openapi_extra=audited_as("application.update"),
    summary="Change a draft (send If-Match with its ETag)",
    response_model=ApplicationRead,
    responses={**problem_responses(401, 403, 404, 409, 412, 422, 428), **with_etag(200)},
)
async def update_application(
    unit: UnitOfWork,
    principal: Writer,
    application_id: UUID,
    body: ApplicationUpdate,
    if_match: IfMatch = None,
) -> Response:
    application = await service.update_application(unit, principal, application_id, body, if_match)
    return _answer(application)


@router.post(
    "/{application_id}/submit",
    operation_id="submitApplication",
    openapi_extra=audited_as("application.submit"),
    summary="Check every rule and freeze the application with its quote",
    response_model=ApplicationRead,
    responses={**problem_responses(401, 403, 404, 409, 422), **with_etag(200)},
)
async def submit_application(unit: UnitOfWork, principal: Writer, application_id: UUID) -> Response:
    return _answer(await service.submit_application(unit, principal, application_id))


@router.post(
    "/{application_id}/decision",
    operation_id="decideApplication",
    openapi_extra=audited_as("application.decision"),
    summary="Underwriting decision: approve (issues the policy), decline or request information",
    response_model=ApplicationRead,
    responses={**problem_responses(401, 403, 404, 409, 422), **with_etag(200)},
)
async def decide_application(
    unit: UnitOfWork,
    principal: Underwriter,
    application_id: UUID,
    body: DecisionCreate,
) -> Response:
    return _answer(await service.decide_application(unit, principal, application_id, body))


@router.post(
    "/{application_id}/tax-certificate",
    operation_id="confirmApplicationTaxCertificate",
    summary="Staff: a copy of the Certificate of Indian Status or TCRD is on file "
    "(send If-Match); the submission is then priced without sales tax",
    response_model=TaxCertificateRead,
    responses={**problem_responses(401, 403, 404, 409, 412, 428), **with_etag(200)},
    openapi_extra=audited_as("application.tax_certificate_confirm"),
)
async def confirm_tax_certificate(
    unit: UnitOfWork,
    principal: CertificateConfirmer,
    application_id: UUID,
    response: Response,
    if_match: IfMatch = None,
) -> TaxCertificateRead:
    confirmed = await service.confirm_tax_certificate(unit, principal, application_id, if_match)
    set_etag(response, confirmed.version)
    return confirmed
