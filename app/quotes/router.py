"""HTTP for quotes."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Depends, Query, Request, Response, status

from app.accounts.roles import Role
from app.auth.dependencies import require_access
from app.auth.principal import Principal
from app.core.errors import problem_responses
from app.core.idempotency import OptionalIdempotencyKey, idempotent
from app.core.pagination import DEFAULT_LIMIT, Cursor, Limit, Page
from app.core.responses import json_response, model_response
from app.core.routing import DomainRouter
from app.core.unit_of_work import UnitOfWork, audited_as
from app.quotes import service
from app.quotes.repository import QUOTE_READERS
from app.quotes.schemas import QuoteCreate, QuoteRead, RateTableRead
from app.users.acting_for import ACTING_ROLES

router = DomainRouter(prefix="/quotes", tags=["quotes"])

QuoteWriter = Annotated[Principal, Depends(require_access("quotes:write", ACTING_ROLES))]
QuoteReader = Annotated[
    Principal, Depends(require_access("quotes:read", ACTING_ROLES | QUOTE_READERS))
]


@router.post(
    "",
    operation_id="createQuote",
    openapi_extra=audited_as("quote.create"),
    summary="Price a premium quote",
    status_code=status.HTTP_201_CREATED,
    response_model=QuoteRead,
    responses=problem_responses(401, 403, 409, 422),
)
async def create_quote(
    unit: UnitOfWork,
    principal: QuoteWriter,
    body: QuoteCreate,
    request: Request,
    idempotency_key: OptionalIdempotencyKey = None,
) -> Response:
    async def create() -> Response:
        quote = await service.create_quote(unit, principal, body)
        return model_response(quote, status_code=201, headers={"Location": f"/quotes/{quote.id}"})

    return await idempotent(
        unit,
        request,
        caller_id=principal.user_id,
        key=idempotency_key,
        action="quote.create",
        run=create,
        required=False,
    )


@router.get(
    "/{quote_id}",
    operation_id="getQuote",
    openapi_extra=audited_as("quote.read"),
    summary="Read a quote",
    response_model=QuoteRead,
    responses=problem_responses(401, 403, 404),
)
async def get_quote(unit: UnitOfWork, principal: QuoteReader, quote_id: UUID) -> Response:
    return json_response(await service.read_quote(unit, principal, quote_id))


@router.get(
    "",
    operation_id="listQuotes",
    openapi_extra=audited_as("quote.list"),
    summary="List the quotes you may see (your own, your firm's, or all for staff)",
    response_model=Page[QuoteRead],
    responses=problem_responses(401, 403, 422),
)
async def list_quotes(
    unit: UnitOfWork,
    principal: QuoteReader,
    lawyer_id: Annotated[UUID | None, Query()] = None,
    program_year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    page = await service.list_quotes(
        unit,
        principal,
        lawyer_id=lawyer_id,
        program_year=program_year,
        cursor=cursor,
        limit=limit,
    )
    return json_response(page)


rate_tables_router = DomainRouter(prefix="/rate-tables", tags=["quotes"])
AnyoneSignedIn = Annotated[Principal, Depends(require_access("quotes:read", frozenset(Role)))]


@rate_tables_router.get(
    "",
    operation_id="listRateTables",
    openapi_extra=audited_as("rate_table.list"),
    summary="The program years' rate tables: which years can be quoted, each table's version",
    response_model=list[RateTableRead],
    responses=problem_responses(401, 403),
)
async def list_rate_tables(unit: UnitOfWork, _: AnyoneSignedIn) -> list[RateTableRead]:
    return [RateTableRead.model_validate(t) for t in await service.list_rate_tables(unit)]
