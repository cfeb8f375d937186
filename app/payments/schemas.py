"""Pydantic in/out models of payments."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.core.pagination import UPDATED_AT
from app.payments.rules import Method, Plan
from app.quotes.schemas import MoneyOut
from app.users.whose import LawyerSummary

Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Digits = Annotated[str, StringConstraints(strip_whitespace=True, max_length=20)]
Token = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
PositiveMoney = Annotated[
    Decimal,
    Field(gt=0, max_digits=12, decimal_places=2, allow_inf_nan=False, examples=["438.75"]),
]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AuthorizationCreate(_In):
    """A Premium Payment Authorization: how a policy's premium is paid, and by whom."""

    policy_id: UUID
    method: Method = Field(description="`pad` (pre-authorized debit), `card` or `cheque`")
    plan: Plan = Field(description="The policy's payment plan (cheque: lump sum only)")
    payor_name: Line
    payor_is_lawyer: bool = Field(default=True, description="The lawyer pays their own premium")
    payor_email: Annotated[str, StringConstraints(max_length=320)] | None = Field(
        default=None, description="Where a third-party payor's notices go"
    )
    third_party_consent: bool = Field(
        default=False,
        description="The lawyer confirms that a third-party payor consented (required for one)",
    )
    institution_number: Digits | None = Field(default=None, description="PAD: 3 digits")
    transit_number: Digits | None = Field(default=None, description="PAD: 5 digits")
    account_number: Digits | None = Field(
        default=None, description="PAD: 7 to 12 digits; stored encrypted, shown masked"
    )
    card_token: Token | None = Field(
        default=None, description="Card: the payment processor's token (never a card number)"
    )
    signed_on: date
    on_application_form: bool = Field(
        default=False, description="Signed on the application form itself (a change needs 30 days)"
    )
    received_on: date | None = Field(
        default=None, description="Finance entering a paper authorization: the day received"
    )


class AuthorizationRead(BaseModel):
    id: UUID
    policy_id: UUID
    lawyer_id: UUID
    lawyer: LawyerSummary
    method: Method
    plan: Plan
    payor_name: str
    payor_is_lawyer: bool
    third_party_consent: bool
    institution_number: str | None
    transit_number: str | None
    account_number: str | None = Field(description="Masked: ••••6789")
    card_on_file: bool
    signed_on: date
    on_application_form: bool
    received_on: date
    applies_from: date | None = Field(description="The first instalment date it reaches")
    applies_from_note: str
    status: str
    created_at: datetime
    updated_at: datetime = Field(description=UPDATED_AT)


class ReceivableRead(BaseModel):
    id: UUID
    kind: str
    due_on: date
    scheduled_on: date
    amount: MoneyOut
    unpaid: MoneyOut
    status: str


class LedgerEntryRead(BaseModel):
    seq: int
    kind: str
    amount: MoneyOut
    receivable_id: UUID | None
    payor: str | None
    processor_reference: str | None
    note: str | None
    created_at: datetime


class AccountRead(BaseModel):
    policy_id: UUID
    lawyer_id: UUID
    lawyer: LawyerSummary
    payment_status: str = Field(description="`current`, or `delinquent`: the whole balance due")
    balance: MoneyOut = Field(description="Owed minus received, from the ledger (below 0: credit)")
    owed: MoneyOut
    received: MoneyOut
    due_now: MoneyOut = Field(description="Due on or before today and not paid")
    receivables: list[ReceivableRead]
    ledger: list[LedgerEntryRead]
    deductible_calls: list[ReceivableRead] = Field(
        description="The lawyer's deductible calls (an account of the lawyer's own)"
    )
    deductible_balance: MoneyOut
    refunds: list[RefundRead] = Field(
        description="Money going back to the payors who paid it, each at most what it paid"
    )


class PaymentCreate(_In):
    """A one-off payment of what is owed: a receivable (an instalment, a deductible call) or,
    with only `policy_id`, the policy's balance due now."""

    policy_id: UUID | None = None
    receivable_id: UUID | None = None
    amount: PositiveMoney
    currency: Annotated[str, StringConstraints(max_length=3)] = "CAD"
    token: Token | None = Field(
        default=None, description="A processor token; leave out to use the authorization on file"
    )


class ReceivedCreate(_In):
    """Finance: money received another way (a cheque), for a policy."""

    policy_id: UUID
    amount: PositiveMoney
    currency: Annotated[str, StringConstraints(max_length=3)] = "CAD"
    payor_name: Line
    reference: Line | None = Field(default=None, description="The cheque's number, say")


class PaymentRead(BaseModel):
    id: UUID
    policy_id: UUID | None
    lawyer_id: UUID
    amount: MoneyOut
    currency: str
    status: str
    source: str
    processor_reference: str | None
    failure_reason: str | None
    receivable_ids: list[UUID]
    created_at: datetime


class RefundPayeeCreate(_In):
    """Finance: the lawyer and the original payor both asked in writing that the payor's
    refunds of this policy go to someone else (RULES.md §5)."""

    policy_id: UUID
    original_payor: Line = Field(description="The payor as named on the payments received")
    payee_name: Line
    payee_token: Token = Field(
        description="The payee's account or card at the processor, as its token (tok_...)"
    )
    lawyer_signed_on: date = Field(description="The day the lawyer signed the request")
    payor_signed_on: date = Field(description="The day the original payor signed it")


class RefundPayeeRead(BaseModel):
    id: UUID
    policy_id: UUID
    lawyer_id: UUID
    original_payor: str
    payee_name: str
    lawyer_signed_on: date
    payor_signed_on: date
    created_at: datetime


class RefundRead(BaseModel):
    id: UUID
    payor: str = Field(description="The original payor, whose money this was")
    payee: str | None = Field(description="Paid to another payee at a written request")
    amount: MoneyOut
    status: str = Field(
        description="`pending` (paid out by the next collection run), "
        "`succeeded`, `failed` (the money stays a credit)"
    )
    reason: str
    processor_reference: str | None
    failure_reason: str | None
    created_at: datetime


class ProcessorEventAck(BaseModel):
    event_id: str
    applied: bool = Field(description="False: this event id was applied before")


class DelinquentRead(BaseModel):
    policy_id: UUID
    lawyer_id: UUID
    lawyer: LawyerSummary
    delinquent_since: date | None
    balance: MoneyOut
