"""HTTP for payments: authorizations, accounts, payments and the processor's callbacks."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Depends, Header, Request, Response, status

from app.accounts.roles import Role
from app.auth.dependencies import caller_if_any, require_access, require_role
from app.auth.principal import Principal
from app.core.errors import problem_responses
from app.core.idempotency import IdempotencyKey, idempotent
from app.core.pagination import DEFAULT_LIMIT, Cursor, Limit, Page, UpdatedSince
from app.core.responses import json_response, model_response
from app.core.routing import DomainRouter
from app.core.unit_of_work import UnitOfWork, audited_as
from app.payments import accounts, service
from app.payments.processor import SIGNATURE_HEADER, Processor, SimulatedProcessor
from app.payments.schemas import (
    AccountRead,
    AuthorizationCreate,
    AuthorizationRead,
    DelinquentRead,
    PaymentCreate,
    PaymentRead,
    ProcessorEventAck,
    ReceivedCreate,
    RefundPayeeCreate,
    RefundPayeeRead,
)
from app.users.acting_for import ACTING_ROLES

router = DomainRouter(prefix="/payments", tags=["payments"])

PAYERS = ACTING_ROLES | {Role.finance}
READERS = PAYERS | {Role.customer_service}
Payer = Annotated[Principal, Depends(require_access("payments:write", PAYERS))]
Reader = Annotated[Principal, Depends(require_access("payments:read", READERS))]
Finance = Annotated[Principal, Depends(require_role(Role.finance))]


def payment_processor(request: Request) -> Processor:
    """The processor the app was given, else the built-in simulator."""
    state = request.app.state
    if getattr(state, "payment_processor", None) is None:
        state.payment_processor = SimulatedProcessor(state.database.engine)
    processor: Processor = state.payment_processor
    return processor


ProcessorDep = Annotated[Processor, Depends(payment_processor)]


@router.post(
    "/authorizations",
    operation_id="createPaymentAuthorization",
    openapi_extra=audited_as("payment_authorization.create"),
    summary="Put a payment authorization on file (pre-authorized debit, card token or cheque)",
    status_code=status.HTTP_201_CREATED,
    response_model=AuthorizationRead,
    responses=problem_responses(401, 403, 404, 422),
)
async def create_payment_authorization(
    unit: UnitOfWork, principal: Payer, body: AuthorizationCreate
) -> Response:
    answer = await service.create_authorization(unit, principal, body)
    return model_response(
        answer, status_code=201, headers={"Location": f"/payments/authorizations/{answer.id}"}
    )


@router.get(
    "/authorizations",
    operation_id="listPaymentAuthorizations",
    openapi_extra=audited_as("payment_authorization.list"),
    summary="List the authorizations you may see, newest first",
    response_model=Page[AuthorizationRead],
    responses=problem_responses(401, 403, 422),
)
async def list_payment_authorizations(
    unit: UnitOfWork,
    principal: Reader,
    policy_id: UUID | None = None,
    updated_since: UpdatedSince = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    page = await service.list_authorizations(
        unit,
        principal,
        policy_id=policy_id,
        updated_since=updated_since,
        cursor=cursor,
        limit=limit,
    )
    return json_response(page)


@router.get(
    "/authorizations/{authorization_id}",
    operation_id="getPaymentAuthorization",
    openapi_extra=audited_as("payment_authorization.read"),
    summary="Read an authorization (the account number masked)",
    response_model=AuthorizationRead,
    responses=problem_responses(401, 403, 404),
)
async def get_payment_authorization(
    unit: UnitOfWork, principal: Reader, authorization_id: UUID
) -> Response:
    return json_response(await service.read_authorization(unit, principal, authorization_id))


@router.get(
    "/accounts/{policy_id}",
    operation_id="getPaymentAccount",
    openapi_extra=audited_as("payment_account.read"),
    summary="A policy's account: what is owed and when, the ledger, the balance and status",
    response_model=AccountRead,
    responses=problem_responses(401, 403, 404),
)
async def get_payment_account(unit: UnitOfWork, principal: Reader, policy_id: UUID) -> Response:
    return json_response(await accounts.read_account(unit, principal, policy_id))


@router.get(
    "/delinquent",
    operation_id="listDelinquentAccounts",
    openapi_extra=audited_as("payment_account.list_delinquent"),
    summary="Finance: the accounts whose whole balance is due (three failed instalment dates)",
    response_model=Page[DelinquentRead],
    responses=problem_responses(401, 403, 422),
)
async def list_delinquent_accounts(
    unit: UnitOfWork, principal: Finance, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Response:
    return model_response(
        await accounts.list_delinquent(unit, principal, cursor=cursor, limit=limit)
    )


@router.post(
    "",
    operation_id="createPayment",
    openapi_extra=audited_as("payment.create"),
    summary="Pay what is owed (by processor token or the authorization on file); needs "
    "Idempotency-Key",
    status_code=status.HTTP_201_CREATED,
    response_model=PaymentRead,
    responses=problem_responses(400, 401, 403, 404, 409, 422),
)
async def create_payment(
    unit: UnitOfWork,
    principal: Payer,
    body: PaymentCreate,
    request: Request,
    processor: ProcessorDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    async def create() -> Response:
        answer = await service.create_payment(
            unit, principal, body, processor, idempotency_key or ""
        )
        return model_response(answer, status_code=201)

    return await idempotent(
        unit,
        request,
        caller_id=principal.user_id,
        key=idempotency_key,
        action="payment.create",
        run=create,
    )


@router.post(
    "/received",
    operation_id="recordPaymentReceived",
    openapi_extra=audited_as("payment.received"),
    summary="Finance: record money received another way (a cheque) for a policy",
    status_code=status.HTTP_201_CREATED,
    response_model=PaymentRead,
    responses=problem_responses(401, 403, 404, 422),
)
async def record_payment_received(
    unit: UnitOfWork, principal: Finance, body: ReceivedCreate
) -> Response:
    return model_response(await service.record_received(unit, principal, body), status_code=201)


@router.post(
    "/refund-payees",
    operation_id="recordRefundPayee",
    openapi_extra=audited_as("payment_refund_payee.create"),
    summary="Finance: record the lawyer's and the original payor's written request that the "
    "payor's refunds of a policy go to another payee",
    status_code=status.HTTP_201_CREATED,
    response_model=RefundPayeeRead,
    responses=problem_responses(401, 403, 404, 422),
)
async def record_refund_payee(
    unit: UnitOfWork, principal: Finance, body: RefundPayeeCreate
) -> Response:
    answer = await service.record_refund_payee(unit, principal, body)
    return model_response(answer, status_code=201)


@router.post(
    "/processor-events",
    operation_id="receiveProcessorEvent",
    openapi_extra=audited_as("payment.processor_event"),
    summary="The payment processor's signed settlement callback (Processor-Signature: "
    "t=<unix time>,v1=<HMAC-SHA256 of t.body>); each event id applies once",
    response_model=ProcessorEventAck,
    responses=problem_responses(400, 401, 422),
    dependencies=[Depends(caller_if_any)],
)
async def receive_processor_event(
    unit: UnitOfWork,
    request: Request,
    signature: Annotated[str | None, Header(alias=SIGNATURE_HEADER)] = None,
) -> ProcessorEventAck:
    return await service.apply_processor_event(unit, signature, await request.body())
