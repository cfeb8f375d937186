"""Queries for exemptions."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.roles import FIRM_ROLES, Role
from app.auth.principal import Principal
from app.core.audited import Source
from app.core.sql import Bound, as_clause
from app.exemptions.models import Exemption, ExemptionStatus
from app.users.acting_for import lawyer_records_visible
from app.users.whose import LAWYER_COLUMNS, lawyer_join

# Staff who read exemptions: customer service and underwriting work them, finance the refund.
EXEMPTION_READERS = frozenset({Role.customer_service, Role.underwriter, Role.finance})
# An exemption is read with its lawyer's name and Law Society number: one statement.
EXEMPTIONS = Source(
    "exemption", f"exemption AS r {lawyer_join('r.owner_id')}", columns=f"r.*, {LAWYER_COLUMNS}"
)


def visible_to(principal: Principal, *, owner: str = "r.owner_id") -> Bound:
    """The lawyer's own; staff with need to know; never a firm's people (the decision to be
    exempt is the lawyer's own)."""
    if principal.role in FIRM_ROLES:
        return Bound("FALSE", {})
    return lawyer_records_visible(principal, readers=EXEMPTION_READERS, owner=owner)


async def get_visible(
    db: AsyncSession, principal: Principal, exemption_id: UUID, *, for_update: bool = True
) -> Exemption | None:
    visible = as_clause(visible_to(principal, owner="exemption.owner_id"))
    stmt = select(Exemption).where(Exemption.id == exemption_id, visible)
    if for_update:
        stmt = stmt.with_for_update()
    return (await db.execute(stmt)).scalar_one_or_none()


async def accepted_on(db: AsyncSession, lawyer_id: UUID, on: date) -> Exemption | None:
    """The lawyer's accepted exemption in force on `on`, if any."""
    stmt = select(Exemption).where(
        Exemption.owner_id == lawyer_id,
        Exemption.status.in_((ExemptionStatus.accepted, ExemptionStatus.ended)),
        Exemption.effective_date <= on,
        or_(Exemption.ended_on.is_(None), Exemption.ended_on > on),
    )
    return (await db.execute(stmt)).scalars().first()
