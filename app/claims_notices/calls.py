"""The small interface the payments domain uses to read the deductible called (what a lawyer
owes on a claim, and when)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.claims_notices.models import ClaimNotice, DeductibleCall


@dataclass(frozen=True)
class CallOwed:
    call_id: UUID
    lawyer_id: UUID
    due_on: date
    amount: Decimal
    policy_id: UUID | None  # the policy the claim was matched to: the period it is owed for


_COLUMNS = (
    DeductibleCall.id,
    DeductibleCall.lawyer_id,
    DeductibleCall.due_on,
    DeductibleCall.amount,
    ClaimNotice.policy_id,
)


def calls_of_sql(lawyer: str) -> str:
    """SQL: the ids (`id`) of the deductible calls of the lawyer whose id is the SQL expression
    `lawyer` (as `deductible_calls_of` lists them)."""
    return (
        "SELECT c.id FROM deductible_call AS c"  # noqa: S608 (an expression, not a value)
        f" JOIN claim_notice AS n ON n.id = c.notice_id WHERE c.lawyer_id = {lawyer}"
    )


async def deductible_calls_of(db: AsyncSession, lawyer_id: UUID) -> list[CallOwed]:
    """The lawyer's deductible calls, oldest first."""
    stmt = (
        select(*_COLUMNS)
        .join(ClaimNotice, ClaimNotice.id == DeductibleCall.notice_id)
        .where(DeductibleCall.lawyer_id == lawyer_id)
        .order_by(DeductibleCall.due_on, DeductibleCall.id)
    )
    return [CallOwed(*row) for row in (await db.execute(stmt)).all()]


async def deductible_calls_page(
    db: AsyncSession, *, after: UUID | None, limit: int
) -> list[CallOwed]:
    """Every lawyer's deductible calls, a page at a time in id order (for a collection run)."""
    stmt = select(*_COLUMNS).join(ClaimNotice, ClaimNotice.id == DeductibleCall.notice_id)
    if after is not None:
        stmt = stmt.where(DeductibleCall.id > after)
    stmt = stmt.order_by(DeductibleCall.id).limit(limit)
    return [CallOwed(*row) for row in (await db.execute(stmt)).all()]
