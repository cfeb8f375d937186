"""Queries for policies and their mid-term changes."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import ColumnElement, false, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from app.applications.models import Policy
from app.auth.principal import Principal
from app.policies.models import MidTermChange
from app.users.roles import FIRM_ROLES, Role

POLICY_READERS = frozenset({Role.customer_service, Role.underwriter, Role.finance})


def visible_to(principal: Principal) -> ColumnElement[bool]:
    if principal.role in POLICY_READERS:
        return true()
    if principal.role in FIRM_ROLES and principal.firm_id is not None:
        return Policy.firm_id == principal.firm_id
    if principal.role is Role.lawyer:
        return Policy.lawyer_id == principal.user_id
    return false()


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
