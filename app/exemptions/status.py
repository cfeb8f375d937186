"""The small interface other domains use: is a lawyer exempt on a day?"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from app.exemptions import repository as repo


@dataclass(frozen=True)
class ExemptionInForce:
    exemption_id: UUID
    reason: str
    effective_date: date
    ended_on: date | None


async def exemption_in_force(
    db: AsyncSession, lawyer_id: UUID, on: date
) -> ExemptionInForce | None:
    found = await repo.accepted_on(db, lawyer_id, on)
    if found is None or found.effective_date is None:
        return None
    return ExemptionInForce(
        exemption_id=found.id,
        reason=str(found.form.get("reason")),
        effective_date=found.effective_date,
        ended_on=found.ended_on,
    )
