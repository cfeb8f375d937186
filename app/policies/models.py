from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, Date, DateTime, ForeignKey, Numeric, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base

CHANGE_KINDS = ("add_real_estate", "remove_real_estate", "lose_part_time")


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
