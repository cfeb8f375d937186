"""The small interface other domains use to read a lawyer's policy history."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.policies.models import MidTermChange, Policy
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


async def new_lawyer_tier_years(
    db: AsyncSession, lawyer_id: UUID, before_year: int
) -> dict[int, int]:
    """How many of the lawyer's earlier policy years granted each new-lawyer tier."""
    stmt = (
        select(Policy.new_lawyer_tier, func.count())
        .where(
            Policy.lawyer_id == lawyer_id,
            Policy.program_year < before_year,
            Policy.new_lawyer_tier.is_not(None),
        )
        .group_by(Policy.new_lawyer_tier)
    )
    return {int(tier): int(n) for tier, n in (await db.execute(stmt)).all() if tier is not None}
