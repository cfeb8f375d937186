"""What other domains read of firms (the published interface of firms)."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.firms.models import Firm


async def firm_exists(db: AsyncSession, firm_id: UUID) -> bool:
    return (await db.execute(select(Firm.id).where(Firm.id == firm_id))).first() is not None


async def lock_firm(db: AsyncSession, firm_id: UUID) -> None:
    """Serialize work that must see every other change of one firm (its lawyers' submissions
    against firm-wide choices) by locking the firm's row until the transaction ends."""
    await db.execute(select(Firm.id).where(Firm.id == firm_id).with_for_update())
