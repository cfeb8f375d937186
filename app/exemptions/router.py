"""HTTP for exemptions."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, Query, Request, Response, status
from starlette.responses import StreamingResponse

from app.accounts.roles import Role
from app.auth.dependencies import require_access, require_role
from app.auth.principal import Principal
from app.core.errors import problem_responses
from app.core.etag import IfMatch, answer_response, with_etag
from app.core.pagination import DEFAULT_LIMIT, Cursor, Limit, Page, UpdatedSince
from app.core.responses import json_response, model_response
from app.core.routing import DomainRouter
from app.core.unit_of_work import UnitOfWork, audited_as
from app.documents.attachments import (
    DOWNLOAD_RESPONSES,
    UPLOAD_REQUEST_BODY,
    DocumentRead,
    download_response,
)
from app.exemptions import service
from app.exemptions.form import Reason
from app.exemptions.models import ExemptionStatus
from app.exemptions.repository import EXEMPTION_READERS
from app.exemptions.schemas import (
    ExemptionCreate,
    ExemptionEnd,
    ExemptionRead,
    ExemptionUpdate,
    ReviewCreate,
)

router = DomainRouter(prefix="/exemptions", tags=["exemptions"])

Filer = Annotated[Principal, Depends(require_access("exemptions:write", service.FILERS))]
Lister = Annotated[
    Principal, Depends(require_access("exemptions:read", service.FILERS | EXEMPTION_READERS))
]
# Reading one: anyone signed in may ask; who may not see it gets 404 (need to know).
Reader = Annotated[Principal, Depends(require_access("exemptions:read", frozenset(Role)))]
Reviewer = Annotated[Principal, Depends(require_role(Role.customer_service, Role.underwriter))]


def _answer(exemption: dict[str, Any], status_code: int = 200) -> Response:
    return answer_response(exemption, collection="/exemptions", status_code=status_code)


@router.post(
    "",
    operation_id="createExemption",
    openapi_extra=audited_as("exemption.create"),
    summary="Start an exemption form (a draft, from whatever is known)",
    status_code=status.HTTP_201_CREATED,
    response_model=ExemptionRead,
    responses={**problem_responses(401, 403, 422), **with_etag(201)},
)
async def create_exemption(unit: UnitOfWork, principal: Filer, body: ExemptionCreate) -> Response:
    return _answer(await service.create_exemption(unit, principal, body), 201)


@router.get(
    "",
    operation_id="listExemptions",
    openapi_extra=audited_as("exemption.list"),
    summary="List the exemptions you may see, newest first",
    response_model=Page[ExemptionRead],
    responses=problem_responses(401, 403, 422),
)
async def list_exemptions(
    unit: UnitOfWork,
    principal: Lister,
    exemption_status: Annotated[ExemptionStatus | None, Query(alias="status")] = None,
    reason: Reason | None = None,
    lawyer_id: UUID | None = None,
    updated_since: UpdatedSince = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    filters = {
        "status": exemption_status,
        "reason": reason,
        "lawyer_id": lawyer_id,
        "updated_since": updated_since,
    }
    page = await service.list_exemptions(
        unit, principal, filters=filters, cursor=cursor, limit=limit
    )
    return json_response(page)


@router.get(
    "/{exemption_id}",
    operation_id="getExemption",
    openapi_extra=audited_as("exemption.read"),
    summary="Read an exemption with its coverage while exempt and any return of premium",
    response_model=ExemptionRead,
    responses={**problem_responses(401, 403, 404), **with_etag(200)},
)
async def get_exemption(unit: UnitOfWork, principal: Reader, exemption_id: UUID) -> Response:
    exemption = await service.read_exemption(unit, principal, exemption_id)
    return _answer(exemption)


@router.patch(
    "/{exemption_id}",
    operation_id="updateExemption",
    openapi_extra=audited_as("exemption.update"),
    summary="Change a draft (send If-Match with its ETag)",
    response_model=ExemptionRead,
    responses={**problem_responses(401, 403, 404, 409, 412, 422, 428), **with_etag(200)},
)
async def update_exemption(
    unit: UnitOfWork,
    principal: Filer,
    exemption_id: UUID,
    body: ExemptionUpdate,
    if_match: IfMatch = None,
) -> Response:
    return _answer(await service.update_exemption(unit, principal, exemption_id, body, if_match))


@router.post(
    "/{exemption_id}/submit",
    operation_id="submitExemption",
    openapi_extra=audited_as("exemption.submit"),
    summary="Check every rule; accepted at once, or waiting for staff to check proof",
    response_model=ExemptionRead,
    responses={**problem_responses(401, 403, 404, 409, 422), **with_etag(200)},
)
async def submit_exemption(unit: UnitOfWork, principal: Filer, exemption_id: UUID) -> Response:
    return _answer(await service.submit_exemption(unit, principal, exemption_id))


@router.post(
    "/{exemption_id}/review",
    operation_id="reviewExemption",
    openapi_extra=audited_as("exemption.review"),
    summary="Staff: accept, or refuse with a reason, after checking the proof",
    response_model=ExemptionRead,
    responses={**problem_responses(401, 403, 404, 409, 422), **with_etag(200)},
)
async def review_exemption(
    unit: UnitOfWork, principal: Reviewer, exemption_id: UUID, body: ReviewCreate
) -> Response:
    return _answer(await service.review_exemption(unit, principal, exemption_id, body))


@router.post(
    "/{exemption_id}/end",
    operation_id="endExemption",
    openapi_extra=audited_as("exemption.end"),
    summary="End an exemption: the day the lawyer's practice status changes",
    response_model=ExemptionRead,
    responses={**problem_responses(401, 403, 404, 409, 422), **with_etag(200)},
)
async def end_exemption(
    unit: UnitOfWork, principal: Filer, exemption_id: UUID, body: ExemptionEnd
) -> Response:
    return _answer(await service.end_exemption(unit, principal, exemption_id, body))


@router.post(
    "/{exemption_id}/documents",
    operation_id="attachExemptionDocument",
    openapi_extra={**audited_as("exemption.document_upload"), **UPLOAD_REQUEST_BODY},
    summary="Attach proof (PDF, PNG or JPEG, at most 10 MiB) as multipart/form-data",
    status_code=status.HTTP_201_CREATED,
    response_model=DocumentRead,
    responses=problem_responses(401, 403, 404, 413, 422),
)
async def attach_exemption_document(
    unit: UnitOfWork, principal: Filer, exemption_id: UUID, request: Request
) -> Response:
    document = await service.attach_document(unit, principal, exemption_id, request)
    return model_response(
        document,
        status_code=201,
        headers={"Location": f"/exemptions/{exemption_id}/documents/{document.id}"},
    )


@router.get(
    "/{exemption_id}/documents",
    operation_id="listExemptionDocuments",
    openapi_extra=audited_as("exemption.documents"),
    summary="The documents attached to an exemption, newest first",
    response_model=list[DocumentRead],
    responses=problem_responses(401, 403, 404),
)
async def list_exemption_documents(
    unit: UnitOfWork, principal: Reader, exemption_id: UUID
) -> list[DocumentRead]:
    return await service.list_documents(unit, principal, exemption_id)


@router.get(
    "/{exemption_id}/documents/{document_id}",
    operation_id="downloadExemptionDocument",
    openapi_extra=audited_as("exemption.document_download"),
    summary="Download a document (as an attachment, with its recognised type)",
    response_class=StreamingResponse,
    responses={**DOWNLOAD_RESPONSES, **problem_responses(401, 403, 404)},
)
async def download_exemption_document(
    unit: UnitOfWork, principal: Reader, exemption_id: UUID, document_id: UUID, request: Request
) -> StreamingResponse:
    document = await service.document_to_download(unit, principal, exemption_id, document_id)
    return download_response(request.app.state.database, document)
