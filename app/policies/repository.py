"""Queries for policies and their mid-term changes."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.roles import Role
from app.auth.principal import Principal
from app.core.audited import Source
from app.core.pagination import TimeKeyset
from app.core.responses import answered_columns
from app.core.sql import Bound, as_clause
from app.policies.models import MidTermChange, Policy
from app.policies.schemas import PolicyDetail
from app.users.acting_for import lawyer_records_visible
from app.users.whose import LAWYER_COLUMNS, lawyer_join

POLICY_READERS = frozenset({Role.customer_service, Role.underwriter, Role.finance})
# A policy is read with its lawyer's name and Law Society number: one statement.
POLICIES = Source(
    "policy",
    f"policy AS r {lawyer_join('r.lawyer_id')}",
    columns=f"{answered_columns(PolicyDetail, besides=('lawyer',))}, {LAWYER_COLUMNS}",
    subject="lawyer_id",
    keyset=TimeKeyset("issued_at"),
)


def visible_to(principal: Principal, *, owner: str = "r.lawyer_id") -> Bound:
    """The one rule for who sees a policy: the lawyer's own, their current firm's, or staff."""
    return lawyer_records_visible(principal, readers=POLICY_READERS, owner=owner)


async def get_visible(
    db: AsyncSession, principal: Principal, policy_id: UUID, *, for_update: bool = False
) -> Policy | None:
    visible = as_clause(visible_to(principal, owner="policy.lawyer_id"))
    stmt = select(Policy).where(Policy.id == policy_id, visible)
    if for_update:
        stmt = stmt.with_for_update()
    return (await db.execute(stmt)).scalar_one_or_none()


async def changes_of(db: AsyncSession, policy_id: UUID) -> list[MidTermChange]:
    stmt = (
        select(MidTermChange)
        .where(MidTermChange.policy_id == policy_id)
        .order_by(MidTermChange.created_at, MidTermChange.id)
    )
    return list((await db.execute(stmt)).scalars())
