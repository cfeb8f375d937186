from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.firms.models import Firm


async def firm_number_taken(db: AsyncSession, firm_number: str) -> bool:
    stmt = select(Firm.id).where(Firm.firm_number == firm_number)
    return (await db.execute(stmt)).first() is not None
