"""The small interface other domains use to read a lawyer's claims history."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.applications.rules import ClaimRecord
from app.claims_notices.models import ClaimNotice


async def claims_history(db: AsyncSession, lawyer_id: UUID) -> tuple[ClaimRecord, ...]:
    stmt = (
        select(ClaimNotice.kind, ClaimNotice.reported_on, ClaimNotice.with_payment)
        .where(ClaimNotice.lawyer_id == lawyer_id)
        .order_by(ClaimNotice.reported_on)
    )
    rows = (await db.execute(stmt)).all()
    return tuple(ClaimRecord(kind=k, reported_on=d, with_payment=p) for k, d, p in rows)
