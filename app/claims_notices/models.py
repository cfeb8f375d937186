from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, DateTime, ForeignKey, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base


class ClaimNotice(Base):
    """A notice of a claim or circumstance. The claims-notices domain will own this table and
    its API; for now the application rules read a lawyer's history from it."""

    __tablename__ = "claim_notice"
    __table_args__ = (
        Index("ix_claim_notice_lawyer_id_reported_on", "lawyer_id", "reported_on"),
        CheckConstraint("kind IN ('claim', 'circumstance')", name="kind_known"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    lawyer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))
    kind: Mapped[str] = mapped_column(String(16))
    reported_on: Mapped[date] = mapped_column(Date)
    # an investigation, repair, loss-prevention or indemnity payment was made on it
    with_payment: Mapped[bool] = mapped_column(Boolean, server_default="false")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
