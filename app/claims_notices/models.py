"""Tables of the claims-notices domain: the notice, its claims file (milestones and costs, in
the order recorded) and the deductible calls they produced."""

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
    Sequence,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, known_values, updated_at_column


class NoticeKind(StrEnum):
    claim = "claim"  # a demand or an allegation
    circumstance = "circumstance"  # something that could give rise to a claim


class NoticeStatus(StrEnum):
    draft = "draft"  # saved as the lawyer types; not yet notice to the insurer
    submitted = "submitted"  # received by the insurer
    acknowledged = "acknowledged"  # the claims unit opened a file and gave its reference
    closed = "closed"


class Channel(StrEnum):
    """How the insurer received the notice."""

    portal = "portal"
    paper = "paper"  # entered by claims staff
    telephone = "telephone"  # entered by claims staff


class FileEntryType(StrEnum):
    milestone = "milestone"
    cost = "cost"


class ClaimNotice(Base):
    """A notice of a claim or circumstance, and the claims file staff work on it."""

    __tablename__ = "claim_notice"
    __table_args__ = (
        Index("ix_claim_notice_lawyer_id_reported_on", "lawyer_id", "reported_on"),
        Index("ix_claim_notice_created_at_id", "created_at", "id"),
        Index("ix_claim_notice_status_created_at", "status", "created_at"),
        Index("ix_claim_notice_counsel_id", "counsel_id"),
        Index("ix_claim_notice_updated_at", "updated_at"),
        CheckConstraint(known_values("kind", tuple(NoticeKind)), name="kind_known"),
        CheckConstraint(known_values("status", tuple(NoticeStatus)), name="status_known"),
        CheckConstraint(known_values("channel", tuple(Channel)), name="channel_known"),
        CheckConstraint("potential_damages >= 0", name="potential_damages_not_negative"),
        CheckConstraint(
            "status = 'draft' OR (kind IS NOT NULL AND reported_on IS NOT NULL"
            " AND awareness_date IS NOT NULL)",
            name="filed_notice_complete",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    # the file number the claims unit gives on acknowledgement (CN-2026-000001)
    reference: Mapped[str | None] = mapped_column(String(20), unique=True)
    lawyer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))
    # the lawyer's firm when the notice was started (the firm's people see what they filed)
    firm_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("firm.id"))
    filed_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str | None] = mapped_column(String(16))
    # the day the insurer received the notice: what the rules that read the history count
    reported_on: Mapped[date | None] = mapped_column(Date)
    awareness_date: Mapped[date | None] = mapped_column(Date)
    client_name: Mapped[str | None] = mapped_column(String(200))
    matter_description: Mapped[str | None] = mapped_column(Text)
    retainer_date: Mapped[date | None] = mapped_column(Date)
    claimant: Mapped[str | None] = mapped_column(String(200))
    alleged_error: Mapped[str | None] = mapped_column(Text)
    potential_damages: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    chronology: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default="[]")
    reported_on_section_d: Mapped[bool] = mapped_column(Boolean, server_default="false")
    # facts that change the deductible (RULES.md §4) and the sublimits reported on a claim
    facts: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    social_engineering_steps: Mapped[list[str]] = mapped_column(
        ARRAY(String(40)), server_default="{}"
    )
    # the policy in force on the day the notice was received, when there is one
    policy_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("policy.id"))
    counsel_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id"))
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # a milestone, cost or deductible call added to the notice's file moves it too (a trigger)
    updated_at: Mapped[datetime] = updated_at_column()
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class ClaimFileEntry(Base):
    """A milestone or a cost on a claims file, appended in the order recorded."""

    __tablename__ = "claim_file_entry"
    __table_args__ = (
        UniqueConstraint("notice_id", "position"),
        CheckConstraint(known_values("entry_type", tuple(FileEntryType)), name="type_known"),
        CheckConstraint(
            "(entry_type = 'milestone' AND milestone IS NOT NULL AND amount IS NULL)"
            " OR (entry_type = 'cost' AND cost_kind IS NOT NULL AND amount > 0)",
            name="entry_shape",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    notice_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("claim_notice.id"))
    position: Mapped[int] = mapped_column(Integer)
    entry_type: Mapped[str] = mapped_column(String(16))
    milestone: Mapped[str | None] = mapped_column(String(32))
    cost_kind: Mapped[str | None] = mapped_column(String(32))
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    occurred_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(String(500))
    recorded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class DeductibleCall(Base):
    """A dated amount of the deductible owed by the insured, for the payments domain to
    collect."""

    __tablename__ = "deductible_call"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("ix_deductible_call_lawyer_id_due_on", "lawyer_id", "due_on"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    notice_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("claim_notice.id"), index=True)
    lawyer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))
    # the milestone or cost that raised what is owed (none: the deductible itself was raised)
    entry_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("claim_file_entry.id"))
    due_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    cumulative: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    trigger: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


# The claims unit's file numbers (CN-2026-000001): one sequence, never reused.
REFERENCE_SEQUENCE = Sequence("claim_notice_reference_seq", metadata=Base.metadata)
