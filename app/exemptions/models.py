"""The exemption table: the form as the lawyer (or staff, from paper) filled it, its review,
and the return of premium it produced."""

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
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, known_values, updated_at_column


class ExemptionStatus(StrEnum):
    draft = "draft"
    pending_review = "pending_review"  # proof of coverage, or pro bono, to be checked by staff
    accepted = "accepted"  # in force from its effective date until the lawyer ends it
    refused = "refused"
    ended = "ended"


# The statuses in which an exemption stands for its lawyer (at most one at a time).
LIVE = (ExemptionStatus.pending_review, ExemptionStatus.accepted)


class Exemption(Base):
    __tablename__ = "exemption"
    __table_args__ = (
        CheckConstraint(known_values("status", tuple(ExemptionStatus)), name="status_known"),
        CheckConstraint("channel IN ('portal', 'paper')", name="channel_known"),
        Index("ix_exemption_owner_id_created_at", "owner_id", "created_at"),
        Index("ix_exemption_created_at_id", "created_at", "id"),
        Index("ix_exemption_updated_at", "updated_at"),
        Index(
            "uq_exemption_owner_live",
            "owner_id",
            unique=True,
            postgresql_where=text("status IN ('pending_review', 'accepted')"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))
    filed_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))
    status: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))
    form: Mapped[dict[str, Any]] = mapped_column(JSONB)
    # the version of the form's model that wrote `form` (its schema's fingerprint); a form
    # written by the current version is answered as stored (app/core/responses.py)
    form_schema: Mapped[str | None] = mapped_column(String(16))
    # from the form, kept once submitted: what "in force on a day" reads
    effective_date: Mapped[date | None] = mapped_column(Date)
    # what the coverage while exempt depends on besides the form, gathered when it was saved:
    # {"previously_covered": bool, "current_deductible": "5000_combined" | None}
    facts: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    # the day the insurer received the form (submission, or the paper form's date)
    received_on: Mapped[date | None] = mapped_column(Date)
    needs_review: Mapped[bool] = mapped_column(Boolean, server_default="false")
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reviewed_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id"))
    review_note: Mapped[str | None] = mapped_column(String(2000))
    # the policy whose premium-bearing cover the exemption ended, and what it returned
    policy_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("policy.id"))
    refund: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    refund_total: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    ended_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = updated_at_column()
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}
