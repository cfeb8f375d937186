"""The small interface other domains use to read a lawyer's claims history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from app.claims_notices import repository as repo


@dataclass(frozen=True)
class ClaimRecord:
    """A notice the insurer received for the lawyer (drafts are not notice), as the rules of
    other domains read it."""

    kind: str  # "claim" or "circumstance"; for the rules a claim includes a circumstance
    reported_on: date  # the day the insurer received it
    with_payment: bool  # an investigation, repair, loss-prevention or indemnity payment


async def claims_history(db: AsyncSession, lawyer_id: UUID) -> tuple[ClaimRecord, ...]:
    return tuple(
        ClaimRecord(kind=kind, reported_on=received, with_payment=paid)
        for _, kind, received, _, paid in await repo.history_rows(db, lawyer_id)
    )
