"""The small interface the payments domain uses to read the deductible called (what a lawyer
owes on a claim, and when)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.claims_notices.models import DeductibleCall


@dataclass(frozen=True)
class CallOwed:
    call_id: UUID
    lawyer_id: UUID
    due_on: date
    amount: Decimal


async def deductible_calls_of(db: AsyncSession, lawyer_id: UUID) -> list[CallOwed]:
    """The lawyer's deductible calls, oldest first."""
    stmt = (
        select(
            DeductibleCall.id,
            DeductibleCall.lawyer_id,
            DeductibleCall.due_on,
            DeductibleCall.amount,
        )
        .where(DeductibleCall.lawyer_id == lawyer_id)
        .order_by(DeductibleCall.due_on, DeductibleCall.id)
    )
    return [CallOwed(*row) for row in (await db.execute(stmt)).all()]
