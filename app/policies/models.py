from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, known_values, updated_at_column


class RealEstateStatus(StrEnum):
    """The Real Estate option on a policy: it waits for due diligence before it is in force."""

    not_taken = "not_taken"
    pending_due_diligence = "pending_due_diligence"
    in_force = "in_force"


CHANGE_KINDS = ("add_real_estate", "remove_real_estate", "lose_part_time", "exemption_refund")


class MidTermChange(Base):
    """A change to a policy during its year, with the premium adjustment it produced."""

    __tablename__ = "mid_term_change"
    __table_args__ = (
        CheckConstraint(
            "kind IN ({})".format(", ".join(f"'{k}'" for k in CHANGE_KINDS)), name="kind_known"
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    policy_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("policy.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    received_on: Mapped[date] = mapped_column(Date)
    requested_date: Mapped[date | None] = mapped_column(Date)
    effective_date: Mapped[date] = mapped_column(Date)
    premium_adjustment: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    tax_adjustment: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    total_adjustment: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    pro_rated: Mapped[bool] = mapped_column(Boolean)
    details: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Policy(Base):
    """The policy an approved application issues for its program year."""

    __tablename__ = "policy"
    __table_args__ = (
        CheckConstraint(
            known_values("real_estate_status", tuple(RealEstateStatus)),
            name="real_estate_status_known",
        ),
        Index("ix_policy_lawyer_id_program_year", "lawyer_id", "program_year"),
        Index("ix_policy_updated_at", "updated_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    application_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("application.id"), unique=True)
    lawyer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))
    firm_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("firm.id"))
    program_year: Mapped[int] = mapped_column(Integer)
    effective_date: Mapped[date] = mapped_column(Date)
    deductible: Mapped[str] = mapped_column(String(32))
    new_lawyer_tier: Mapped[int | None] = mapped_column(Integer)
    options: Mapped[dict[str, Any]] = mapped_column(JSONB)
    real_estate_status: Mapped[str] = mapped_column(String(32))
    # the day the Real Estate option started (its fee is returned pro rata if it is removed)
    real_estate_since: Mapped[date | None] = mapped_column(Date)
    real_estate_fee_paid: Mapped[Decimal] = mapped_column(Numeric(12, 2), server_default="0")
    part_time: Mapped[bool] = mapped_column(Boolean, server_default="false")
    # the last day of premium-bearing cover, when an exemption ended it before 31 December
    cover_ends: Mapped[date | None] = mapped_column(Date)
    premium: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    tax: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    total: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    quote_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("quote.id"))
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = updated_at_column()
