"""HTTP for claims notices and the claims file."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import Depends, Query, Request, Response, status
from starlette.responses import StreamingResponse

from app.accounts.roles import Role
from app.auth.dependencies import require_access, require_role
from app.auth.principal import Principal
from app.claims_notices import service
from app.claims_notices.models import NoticeKind, NoticeStatus
from app.claims_notices.schemas import (
    ClaimsHistoryRead,
    ClaimsNoticeCreate,
    ClaimsNoticeRead,
    ClaimsNoticeUpdate,
    CostCreate,
    CounselAssign,
    MilestoneCreate,
)
from app.core.errors import problem_responses
from app.core.etag import IfMatch, answer_response, record_response, with_etag
from app.core.idempotency import IdempotencyKey, idempotent
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

router = DomainRouter(prefix="/claims-notices", tags=["claims notices"])

Filer = Annotated[Principal, Depends(require_access("claims:write", service.FILERS))]
Lister = Annotated[Principal, Depends(require_access("claims:read", service.FILERS))]
# Reading one notice: anyone signed in may ask; who may not see it gets 404 (need to know).
Reader = Annotated[Principal, Depends(require_access("claims:read", frozenset(Role)))]
ClaimsStaff = Annotated[Principal, Depends(require_role(Role.claims))]
HistoryReader = Annotated[Principal, Depends(require_role(Role.underwriter, Role.claims))]


def _answer(notice: ClaimsNoticeRead, status_code: int = 200) -> Response:
    return record_response(notice, collection="/claims-notices", status_code=status_code)


@router.post(
    "",
    operation_id="createClaimsNotice",
    openapi_extra=audited_as("claims_notice.create"),
    summary="Give notice of a claim or circumstance (or save a draft); needs Idempotency-Key",
    status_code=status.HTTP_201_CREATED,
    response_model=ClaimsNoticeRead,
    responses={**problem_responses(400, 401, 403, 409, 422), **with_etag(201)},
)
async def create_claims_notice(
    unit: UnitOfWork,
    principal: Filer,
    body: ClaimsNoticeCreate,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    async def create() -> Response:
        return _answer(await service.create_notice(unit, principal, body), 201)

    return await idempotent(
        unit,
        request,
        caller_id=principal.user_id,
        key=idempotency_key,
        action="claims_notice.create",
        run=create,
    )


@router.get(
    "",
    operation_id="listClaimsNotices",
    openapi_extra=audited_as("claims_notice.list"),
    summary="List the notices you may see, newest first",
    response_model=Page[ClaimsNoticeRead],
    responses=problem_responses(401, 403, 422),
)
async def list_claims_notices(
    unit: UnitOfWork,
    principal: Lister,
    notice_status: Annotated[NoticeStatus | None, Query(alias="status")] = None,
    kind: NoticeKind | None = None,
    lawyer_id: UUID | None = None,
    counsel_id: UUID | None = None,
    received_from: Annotated[date | None, Query(description="Received on or after")] = None,
    received_to: Annotated[date | None, Query(description="Received on or before")] = None,
    updated_since: UpdatedSince = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    filters = {
        "status": notice_status,
        "kind": kind,
        "lawyer_id": lawyer_id,
        "counsel_id": counsel_id,
        "received_from": received_from,
        "received_to": received_to,
        "updated_since": updated_since,
    }
    page = await service.list_notices(unit, principal, filters=filters, cursor=cursor, limit=limit)
    return json_response(page)


@router.get(
    "/history",
    operation_id="getClaimsHistory",
    openapi_extra=audited_as("claims_notice.history"),
    summary="Underwriting: a lawyer's claims history (dates, kinds, whether paid; no matter)",
    response_model=ClaimsHistoryRead,
    responses=problem_responses(401, 403, 422),
)
async def get_claims_history(
    unit: UnitOfWork, _: HistoryReader, lawyer_id: Annotated[UUID, Query()]
) -> Response:
    return model_response(await service.claims_history(unit, lawyer_id))


@router.get(
    "/{notice_id}",
    operation_id="getClaimsNotice",
    openapi_extra=audited_as("claims_notice.read"),
    summary="Read a notice with its claims file and the deductible called",
    response_model=ClaimsNoticeRead,
    responses={**problem_responses(401, 403, 404), **with_etag(200)},
)
async def get_claims_notice(unit: UnitOfWork, principal: Reader, notice_id: UUID) -> Response:
    return answer_response(await service.read_notice(unit, principal, notice_id))


@router.patch(
    "/{notice_id}",
    operation_id="updateClaimsNotice",
    openapi_extra=audited_as("claims_notice.update"),
    summary="Change a draft, or (claims staff) the facts of a filed notice; send If-Match",
    response_model=ClaimsNoticeRead,
    responses={**problem_responses(401, 403, 404, 409, 412, 422, 428), **with_etag(200)},
)
async def update_claims_notice(
    unit: UnitOfWork,
    principal: Filer,
    notice_id: UUID,
    body: ClaimsNoticeUpdate,
    if_match: IfMatch = None,
) -> Response:
    return _answer(await service.update_notice(unit, principal, notice_id, body, if_match))


@router.post(
    "/{notice_id}/submit",
    operation_id="submitClaimsNotice",
    openapi_extra=audited_as("claims_notice.submit"),
    summary="Submit a draft: the insurer receives it today",
    response_model=ClaimsNoticeRead,
    responses={**problem_responses(401, 403, 404, 409, 422), **with_etag(200)},
)
async def submit_claims_notice(unit: UnitOfWork, principal: Filer, notice_id: UUID) -> Response:
    return _answer(await service.submit_notice(unit, principal, notice_id))


@router.post(
    "/{notice_id}/acknowledge",
    operation_id="acknowledgeClaimsNotice",
    openapi_extra=audited_as("claims_notice.acknowledge"),
    summary="Claims: open the file and give the notice its reference number",
    response_model=ClaimsNoticeRead,
    responses={**problem_responses(401, 403, 404, 409), **with_etag(200)},
)
async def acknowledge_claims_notice(
    unit: UnitOfWork, principal: ClaimsStaff, notice_id: UUID
) -> Response:
    return _answer(await service.acknowledge_notice(unit, principal, notice_id))


@router.post(
    "/{notice_id}/counsel",
    operation_id="assignClaimsCounsel",
    openapi_extra=audited_as("claims_notice.assign"),
    summary="Claims: assign the file to a claims counsel",
    response_model=ClaimsNoticeRead,
    responses={**problem_responses(401, 403, 404, 409, 422), **with_etag(200)},
)
async def assign_claims_counsel(
    unit: UnitOfWork, principal: ClaimsStaff, notice_id: UUID, body: CounselAssign
) -> Response:
    return _answer(await service.assign_counsel(unit, principal, notice_id, body))


@router.post(
    "/{notice_id}/milestones",
    operation_id="recordClaimMilestone",
    openapi_extra=audited_as("claims_notice.milestone"),
    summary="Claims: record a milestone (it may call part of the deductible)",
    response_model=ClaimsNoticeRead,
    responses={**problem_responses(401, 403, 404, 409, 422), **with_etag(200)},
)
async def record_claim_milestone(
    unit: UnitOfWork, principal: ClaimsStaff, notice_id: UUID, body: MilestoneCreate
) -> Response:
    return _answer(await service.record_entry(unit, principal, notice_id, body))


@router.post(
    "/{notice_id}/costs",
    operation_id="recordClaimCost",
    openapi_extra=audited_as("claims_notice.cost"),
    summary="Claims: record a cost incurred (claim expense or indemnity)",
    response_model=ClaimsNoticeRead,
    responses={**problem_responses(401, 403, 404, 409, 422), **with_etag(200)},
)
async def record_claim_cost(
    unit: UnitOfWork, principal: ClaimsStaff, notice_id: UUID, body: CostCreate
) -> Response:
    return _answer(await service.record_entry(unit, principal, notice_id, body))


@router.post(
    "/{notice_id}/documents",
    operation_id="attachClaimsNoticeDocument",
    openapi_extra={**audited_as("claims_notice.document_upload"), **UPLOAD_REQUEST_BODY},
    summary="Attach a document (PDF, PNG or JPEG, at most 10 MiB) as multipart/form-data",
    status_code=status.HTTP_201_CREATED,
    response_model=DocumentRead,
    responses=problem_responses(401, 403, 404, 413, 422),
)
async def attach_claims_notice_document(
    unit: UnitOfWork, principal: Filer, notice_id: UUID, request: Request
) -> Response:
    document = await service.attach_document(unit, principal, notice_id, request)
    return model_response(
        document,
        status_code=201,
        headers={"Location": f"/claims-notices/{notice_id}/documents/{document.id}"},
    )


@router.get(
    "/{notice_id}/documents",
    operation_id="listClaimsNoticeDocuments",
    openapi_extra=audited_as("claims_notice.documents"),
    summary="The documents attached to a notice, newest first",
    response_model=list[DocumentRead],
    responses=problem_responses(401, 403, 404),
)
async def list_claims_notice_documents(
    unit: UnitOfWork, principal: Reader, notice_id: UUID
) -> list[DocumentRead]:
    return await service.list_documents(unit, principal, notice_id)


@router.get(
    "/{notice_id}/documents/{document_id}",
    operation_id="downloadClaimsNoticeDocument",
    openapi_extra=audited_as("claims_notice.document_download"),
    summary="Download a document (as an attachment, with its recognised type)",
    response_class=StreamingResponse,
    responses={**DOWNLOAD_RESPONSES, **problem_responses(401, 403, 404)},
)
async def download_claims_notice_document(
    unit: UnitOfWork, principal: Reader, notice_id: UUID, document_id: UUID, request: Request
) -> StreamingResponse:
    document = await service.document_to_download(unit, principal, notice_id, document_id)
    return download_response(request.app.state.database, document)
