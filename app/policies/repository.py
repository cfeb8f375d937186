"""Queries for policies and their mid-term changes."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.applications.models import Policy
from app.auth.principal import Principal
from app.policies.models import MidTermChange
from app.users.acting_for import lawyer_record_visible
from app.users.roles import Role

POLICY_READERS = frozenset({Role.customer_service, Role.underwriter, Role.finance})


def visible_to(principal: Principal) -> ColumnElement[bool]:
    return lawyer_record_visible(
        principal, owner=Policy.lawyer_id, firm=Policy.firm_id, readers=POLICY_READERS
    )


async def get_visible(
    db: AsyncSession, principal: Principal, policy_id: UUID, *, for_update: bool = False
) -> Policy | None:
    stmt = select(Policy).where(Policy.id == policy_id, visible_to(principal))
    if for_update:
        stmt = stmt.with_for_update()
    return (await db.execute(stmt)).scalar_one_or_none()


async def list_visible(
    db: AsyncSession, principal: Principal, *, after: tuple[datetime, UUID] | None, limit: int
) -> list[Policy]:
    stmt = (
        select(Policy)
        .where(visible_to(principal))
        .order_by(Policy.issued_at.desc(), Policy.id.desc())
        .limit(limit)
    )
    if after is not None:
        issued, last_id = after
        stmt = stmt.where(
            (Policy.issued_at < issued) | ((Policy.issued_at == issued) & (Policy.id < last_id))
        )
    return list((await db.execute(stmt)).scalars())


async def changes_of(db: AsyncSession, policy_id: UUID) -> list[MidTermChange]:
    stmt = (
        select(MidTermChange)
        .where(MidTermChange.policy_id == policy_id)
        .order_by(MidTermChange.created_at, MidTermChange.id)
    )
    return list((await db.execute(stmt)).scalars())
