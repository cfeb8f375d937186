"""Tables of the payments domain: authorizations on file, what is owed and when (receivables),
the append-only ledger, collection attempts and the processor's events (each applied once)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, known_values, updated_at_column
from app.payments.rules import EntryKind, Method, Plan


class AuthorizationStatus(StrEnum):
    active = "active"  # the latest details on file
    superseded = "superseded"  # replaced by a later authorization (still used until it applies)


class ReceivableKind(StrEnum):
    instalment = "instalment"  # from the policy's quote
    adjustment = "adjustment"  # a mid-term change that raised the premium
    deductible_call = "deductible_call"  # owed by the lawyer on a claim


class ReceivableStatus(StrEnum):
    due = "due"
    paid = "paid"
    failed = "failed"  # an attempt failed: collected again with the next
    cancelled = "cancelled"  # settled by a refund (an exemption's return of premium)


class AttemptStatus(StrEnum):
    pending = "pending"  # written before the processor is asked: a rerun finishes it
    succeeded = "succeeded"
    failed = "failed"


class RefundStatus(StrEnum):
    pending = "pending"  # to be paid out by the next collection run
    succeeded = "succeeded"
    failed = "failed"  # the processor refused it: the money stays a credit of the account


class AccountStatus(StrEnum):
    current = "current"
    delinquent = "delinquent"  # three failed instalment dates: the whole balance is due


class PaymentAuthorization(Base):
    """A payor's authorization to debit an account or charge a card (or pay by cheque)."""

    __tablename__ = "payment_authorization"
    __table_args__ = (
        Index("ix_payment_authorization_policy_id_created_at", "policy_id", "created_at"),
        Index("ix_payment_authorization_created_at_id", "created_at", "id"),
        Index("ix_payment_authorization_updated_at", "updated_at"),
        # one active authorization per policy; collection runs walk them in policy order
        Index(
            "uq_payment_authorization_policy_active",
            "policy_id",
            unique=True,
            postgresql_where=text("status = 'active'"),
        ),
        CheckConstraint(known_values("method", tuple(Method)), name="method_known"),
        CheckConstraint(known_values("plan", tuple(Plan)), name="plan_known"),
        CheckConstraint(known_values("status", tuple(AuthorizationStatus)), name="status_known"),
        CheckConstraint(
            "method <> 'pad' OR (institution_number IS NOT NULL AND transit_number IS NOT NULL"
            " AND account_number_token IS NOT NULL AND account_last4 IS NOT NULL)",
            name="pad_complete",
        ),
        CheckConstraint("method <> 'card' OR card_token IS NOT NULL", name="card_complete"),
        CheckConstraint("method <> 'cheque' OR plan = 'lump_sum'", name="cheque_lump_sum"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    policy_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("policy.id"))
    lawyer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"), index=True)
    method: Mapped[str] = mapped_column(String(16))
    plan: Mapped[str] = mapped_column(String(16))
    payor_name: Mapped[str] = mapped_column(String(200))
    payor_email: Mapped[str | None] = mapped_column(String(320))
    payor_is_lawyer: Mapped[bool] = mapped_column(Boolean)
    # the lawyer's confirmation that a third-party payor consented (RULES.md §2)
    third_party_consent: Mapped[bool] = mapped_column(Boolean, server_default="false")
    institution_number: Mapped[str | None] = mapped_column(String(3))
    transit_number: Mapped[str | None] = mapped_column(String(5))
    # account_crypto token, bound to this row's id; never the number itself
    account_number_token: Mapped[str | None] = mapped_column(Text)
    account_last4: Mapped[str | None] = mapped_column(String(4))
    card_token: Mapped[str | None] = mapped_column(String(200))
    signed_on: Mapped[date] = mapped_column(Date)
    on_application_form: Mapped[bool] = mapped_column(Boolean, server_default="false")
    received_on: Mapped[date] = mapped_column(Date)
    # the first instalment date it reaches by the 10-day rule (None: no instalment left)
    applies_from: Mapped[date | None] = mapped_column(Date)
    notice_days: Mapped[int] = mapped_column(Integer)  # 10, or 30 (changing one on the form)
    status: Mapped[str] = mapped_column(String(16))
    created_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = updated_at_column()


class PaymentAccount(Base):
    """A policy's account, opened once (from its quote's instalments) on first use."""

    __tablename__ = "payment_account"
    __table_args__ = (
        CheckConstraint(known_values("status", tuple(AccountStatus)), name="status_known"),
        Index("ix_payment_account_status", "status"),
    )

    policy_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("policy.id"), primary_key=True)
    lawyer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    delinquent_since: Mapped[date | None] = mapped_column(Date)
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Receivable(Base):
    """What is owed and when: an instalment, an adjustment, a deductible call."""

    __tablename__ = "receivable"
    __table_args__ = (
        CheckConstraint(known_values("kind", tuple(ReceivableKind)), name="kind_known"),
        CheckConstraint(known_values("status", tuple(ReceivableStatus)), name="status_known"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        CheckConstraint(
            "kind = 'deductible_call' OR policy_id IS NOT NULL", name="policy_for_premium"
        ),
        Index("ix_receivable_policy_id_due_on", "policy_id", "due_on"),
        Index("ix_receivable_lawyer_id_due_on", "lawyer_id", "due_on"),
        Index("ix_receivable_status_due_on", "status", "due_on"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    # the policy period it is owed for: the policy's own, or for a deductible call the policy
    # its claim was matched to (None: not matched); arrears of earlier periods are read by it
    for_policy_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("policy.id"))
    # where it comes from, unique, so that opening an account twice (at once) adds nothing:
    # instalment:<policy>:<n>, adjustment:<mid-term change>, deductible_call:<call>
    origin: Mapped[str] = mapped_column(String(100), unique=True)
    policy_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("policy.id"))
    lawyer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))
    kind: Mapped[str] = mapped_column(String(16))
    due_on: Mapped[date] = mapped_column(Date)
    # the schedule's date (due_on moves earlier when the whole balance falls due)
    scheduled_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class LedgerEntry(Base):
    """One line of an account's ledger, never changed nor deleted (a trigger refuses both)."""

    __tablename__ = "ledger_entry"
    __table_args__ = (
        CheckConstraint(known_values("kind", tuple(EntryKind)), name="kind_known"),
        CheckConstraint("(kind = 'adjustment' AND amount <> 0) OR amount > 0", name="amount_sign"),
        Index("ix_ledger_entry_policy_id_seq", "policy_id", "seq"),
        Index("ix_ledger_entry_lawyer_id_seq", "lawyer_id", "seq"),
        Index("ix_ledger_entry_receivable_id", "receivable_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    seq: Mapped[int] = mapped_column(BigInteger, Identity(always=True), unique=True)
    # the account: a policy, or (deductible calls) the lawyer alone
    policy_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("policy.id"))
    lawyer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))
    kind: Mapped[str] = mapped_column(String(16))
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    receivable_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("receivable.id"))
    attempt_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("collection_attempt.id"))
    payor: Mapped[str | None] = mapped_column(String(200))
    processor_reference: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CollectionAttempt(Base):
    """One charge of a payor for receivables: a collection run's or a one-off payment's."""

    __tablename__ = "collection_attempt"
    __table_args__ = (
        CheckConstraint(known_values("status", tuple(AttemptStatus)), name="status_known"),
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("ix_collection_attempt_policy_id_on", "policy_id", "attempted_on"),
        Index("ix_collection_attempt_created_at_id", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    # sha256 of the receivables, the date and the attempt number: a rerun finds it
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    policy_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("policy.id"))
    lawyer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))
    receivable_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(Uuid()))
    attempted_on: Mapped[date] = mapped_column(Date)
    attempt_number: Mapped[int] = mapped_column(Integer)
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    authorization_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("payment_authorization.id")
    )
    # a one-off payment: the processor token given (never a card number), or the kind of receipt
    source: Mapped[str] = mapped_column(String(32))
    payor: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    processor_reference: Mapped[str | None] = mapped_column(String(100))
    failure_reason: Mapped[str | None] = mapped_column(String(64))
    settled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PaymentRefund(Base):
    """Money going back to the payor who paid it (RULES.md §3, §5): one receipt's share of a
    refund, paid out through the processor against that receipt's charge, or to the payee the
    lawyer and the payor named in writing (a `RefundPayeeRequest`)."""

    __tablename__ = "payment_refund"
    __table_args__ = (
        CheckConstraint(known_values("status", tuple(RefundStatus)), name="status_known"),
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("ix_payment_refund_status_created_at", "status", "created_at"),
        Index("ix_payment_refund_policy_id", "policy_id"),
        Index("ix_payment_refund_attempt_id", "attempt_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    # sha256 of the settlement's origin and the receipt: the processor never pays it twice
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    policy_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("policy.id"))
    lawyer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))
    # the receipt it goes back against (a charge through the processor, or a cheque received)
    attempt_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("collection_attempt.id"))
    payor: Mapped[str] = mapped_column(String(200))  # the original payor
    charge_reference: Mapped[str | None] = mapped_column(String(100))
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    reason: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16))
    # paid to another payee at the written request of the lawyer and the payor
    request_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("refund_payee_request.id"))
    payee: Mapped[str | None] = mapped_column(String(200))
    processor_reference: Mapped[str | None] = mapped_column(String(100))
    failure_reason: Mapped[str | None] = mapped_column(String(64))
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    settled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class RefundPayeeRequest(Base):
    """The lawyer's and the original payor's written request that refunds of a policy owed to
    that payor go to someone else (RULES.md §5), recorded by finance."""

    __tablename__ = "refund_payee_request"
    __table_args__ = (
        Index("ix_refund_payee_request_policy_id_created_at", "policy_id", "created_at"),
        Index("ix_refund_payee_request_created_at_id", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    policy_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("policy.id"))
    lawyer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))
    original_payor: Mapped[str] = mapped_column(String(200))
    payee_name: Mapped[str] = mapped_column(String(200))
    # the payee's account or card at the processor, as its token (never a number)
    payee_token: Mapped[str] = mapped_column(String(200))
    lawyer_signed_on: Mapped[date] = mapped_column(Date)
    payor_signed_on: Mapped[date] = mapped_column(Date)
    created_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ProcessorEvent(Base):
    """A processor callback applied: its event id is unique, so each applies once."""

    __tablename__ = "processor_event"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    event_id: Mapped[str] = mapped_column(String(100), unique=True)
    event_type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class SimulatedCharge(Base):
    """The simulator's own record of charges (a processor's, not ours): one per key."""

    __tablename__ = "processor_sim_charge"
    __table_args__ = (Index("ix_processor_sim_charge_reference", "reference"),)

    idempotency_key: Mapped[str] = mapped_column(String(80), primary_key=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    accepted: Mapped[bool] = mapped_column(Boolean)
    reference: Mapped[str | None] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class SimulatedRefund(Base):
    """The simulator's own record of money paid back: a refund of one of its charges (never
    more than the charge), or a payout to a payee's token; one per key."""

    __tablename__ = "processor_sim_refund"
    __table_args__ = (Index("ix_processor_sim_refund_charge_reference", "charge_reference"),)

    idempotency_key: Mapped[str] = mapped_column(String(80), primary_key=True)
    charge_reference: Mapped[str | None] = mapped_column(String(100))
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    accepted: Mapped[bool] = mapped_column(Boolean)
    reference: Mapped[str | None] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class SimulatedCallback(Base):
    """A signed settlement callback the simulator has queued for delivery."""

    __tablename__ = "processor_sim_callback"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    body: Mapped[str] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
