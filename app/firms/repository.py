from __future__ import annotations

from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.firms.models import Firm


async def get_firm(db: AsyncSession, firm_id: UUID) -> Firm | None:
    return await db.get(Firm, firm_id)


async def firm_number_taken(db: AsyncSession, firm_number: str) -> bool:
    stmt = select(Firm.id).where(Firm.firm_number == firm_number)
    return (await db.execute(stmt)).first() is not None
