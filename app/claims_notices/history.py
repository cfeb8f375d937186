"""The small interface other domains use to read a lawyer's claims history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.claims_notices.models import ClaimNotice


@dataclass(frozen=True)
class ClaimRecord:
    """A claims notice for the lawyer, as the rules of other domains read it."""

    kind: str  # "claim" or "circumstance"; for the rules a claim includes a circumstance
    reported_on: date
    with_payment: bool  # an investigation, repair, loss-prevention or indemnity payment


async def claims_history(db: AsyncSession, lawyer_id: UUID) -> tuple[ClaimRecord, ...]:
    stmt = (
        select(ClaimNotice.kind, ClaimNotice.reported_on, ClaimNotice.with_payment)
        .where(ClaimNotice.lawyer_id == lawyer_id)
        .order_by(ClaimNotice.reported_on)
    )
    rows = (await db.execute(stmt)).all()
    return tuple(ClaimRecord(kind=k, reported_on=d, with_payment=p) for k, d, p in rows)
