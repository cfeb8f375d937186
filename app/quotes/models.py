from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base

Money = Numeric(12, 2)


class RateTableRecord(Base):
    """A program year's rate table published as data: the file's exact text, so that its
    SHA-256 is the one a quote priced with it names."""

    __tablename__ = "rate_table"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'active', 'retired')", name="status_known"),
    )

    program_year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text)
    digest: Mapped[str] = mapped_column(String(64))
    activated_on: Mapped[date | None] = mapped_column(Date)
    published_by: Mapped[str] = mapped_column(String(200))
    published_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class Quote(Base):
    """A priced quote, frozen: its inputs, the rate table that priced it, and the result."""

    __tablename__ = "quote"
    __table_args__ = (
        Index("ix_quote_owner_id_created_at", "owner_id", "created_at"),
        Index("ix_quote_firm_id_created_at", "firm_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))
    firm_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("firm.id"))
    created_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))
    program_year: Mapped[int] = mapped_column(Integer)
    rate_table_version: Mapped[str] = mapped_column(String(32))
    rate_table_digest: Mapped[str] = mapped_column(String(64))
    effective_date: Mapped[date] = mapped_column(Date)
    inputs: Mapped[dict[str, Any]] = mapped_column(JSONB)
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    premium: Mapped[Decimal] = mapped_column(Money)
    tax: Mapped[Decimal] = mapped_column(Money)
    total: Mapped[Decimal] = mapped_column(Money)
    instalments: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
