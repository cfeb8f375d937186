"""The small interface other domains use to read a lawyer's policy history."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.applications.models import Policy
from app.policies.models import MidTermChange
from app.policies.schemas import ChangeKind


async def years_part_time_lost(db: AsyncSession, lawyer_id: UUID) -> frozenset[int]:
    """Program years in which a policy of the lawyer lost Part-Time eligibility mid-term."""
    stmt = (
        select(Policy.program_year)
        .join(MidTermChange, MidTermChange.policy_id == Policy.id)
        .where(Policy.lawyer_id == lawyer_id, MidTermChange.kind == ChangeKind.lose_part_time)
        .distinct()
    )
    return frozenset(int(year) for year in (await db.execute(stmt)).scalars())
