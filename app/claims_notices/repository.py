"""Queries for claims notices and their claims files."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID

from sqlalchemy import RowMapping, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.roles import FIRM_ROLES, Role
from app.auth.principal import Principal
from app.claims_notices.models import (
    REFERENCE_SEQUENCE,
    ClaimFileEntry,
    ClaimNotice,
    DeductibleCall,
    NoticeStatus,
)
from app.core.audited import Source
from app.core.sql import Bound, as_clause, compose, statement
from app.policies.cover import policy_cover_sql
from app.users.acting_for import lawyer_records_visible
from app.users.whose import LAWYER_COLUMNS, lawyer_join

# A notice is read with its claims file, its calls, its policy's cover and its lawyer: one
# statement.
_FILE_SQL = (
    "(SELECT coalesce(jsonb_agg(to_jsonb(e) ORDER BY e.position), '[]'::jsonb)"
    " FROM claim_file_entry AS e WHERE e.notice_id = r.id)"
)
_CALLS_SQL = (
    "(SELECT coalesce(jsonb_agg(to_jsonb(c) ORDER BY c.cumulative), '[]'::jsonb)"
    " FROM deductible_call AS c WHERE c.notice_id = r.id)"
)
NOTICES = Source(
    "claims_notice",
    f"claim_notice AS r {lawyer_join('r.lawyer_id')}",
    columns=f"r.*, {_FILE_SQL} AS file__, {_CALLS_SQL} AS calls__,"
    f" {policy_cover_sql('r.policy_id')} AS cover__, {LAWYER_COLUMNS}",
    subject="lawyer_id",
)


def visible_to(principal: Principal, *, prefix: str = "r") -> Bound:
    """Need to know: the lawyer their own notices; a firm admin or integration the notices it
    filed for a lawyer of its firm now; claims staff every notice filed (and the drafts they
    started themselves); nobody else any."""
    me = {"me": principal.user_id}
    if principal.role is Role.claims:
        return Bound(
            f"({prefix}.status <> 'draft' OR {prefix}.filed_by_id = CAST(:me AS uuid))", me
        )
    owner = f"{prefix}.lawyer_id"
    if principal.role is Role.lawyer:
        return lawyer_records_visible(principal, readers=frozenset(), owner=owner)
    if principal.role in FIRM_ROLES:
        return compose(
            "{firm} AND {filer}",
            firm=lawyer_records_visible(principal, readers=frozenset(), owner=owner),
            filer=Bound(f"{prefix}.filed_by_id = CAST(:me AS uuid)", me),
        )
    return Bound("FALSE", {})


async def get_visible(
    db: AsyncSession, principal: Principal, notice_id: UUID, *, for_update: bool = False
) -> ClaimNotice | None:
    stmt = select(ClaimNotice).where(
        ClaimNotice.id == notice_id, as_clause(visible_to(principal, prefix="claim_notice"))
    )
    if for_update:
        stmt = stmt.with_for_update()
    return (await db.execute(stmt)).scalar_one_or_none()


async def notice_row(db: AsyncSession, notice_id: UUID) -> RowMapping:
    """The notice as `NOTICES` reads it, inside the request's transaction (after a change)."""
    stmt, params = statement(
        compose(f"{NOTICES.select} WHERE r.id = {{id}}", id=Bound(":v", {"v": notice_id}))
    )
    return (await db.execute(stmt, params)).mappings().one()


async def file_entries(db: AsyncSession, notice_id: UUID) -> list[ClaimFileEntry]:
    stmt = (
        select(ClaimFileEntry)
        .where(ClaimFileEntry.notice_id == notice_id)
        .order_by(ClaimFileEntry.position)
    )
    return list((await db.execute(stmt)).scalars())


async def called_total(db: AsyncSession, notice_id: UUID) -> Decimal:
    stmt = select(func.coalesce(func.sum(DeductibleCall.amount), 0)).where(
        DeductibleCall.notice_id == notice_id
    )
    return Decimal((await db.execute(stmt)).scalar_one())


async def next_reference(db: AsyncSession, year: int) -> str:
    number = (await db.execute(select(REFERENCE_SEQUENCE.next_value()))).scalar_one()
    return f"CN-{year}-{number:06d}"


# The lawyer's notices as an underwriter may see them: never the matter.
_HISTORY = text(
    "SELECT r.id, r.kind, r.reported_on, r.status, EXISTS ("
    " SELECT 1 FROM claim_file_entry AS e WHERE e.notice_id = r.id AND e.entry_type = 'cost'"
    " AND e.cost_kind IN ('investigation', 'repair', 'loss_prevention', 'indemnity')) AS paid"
    " FROM claim_notice AS r WHERE r.lawyer_id = :lawyer_id AND r.status <> :draft"
    " ORDER BY r.reported_on, r.id"
)


async def history_rows(
    db: AsyncSession, lawyer_id: UUID
) -> list[tuple[UUID, str, date, str, bool]]:
    """The lawyer's notices received (no drafts): id, kind, day received, status, paid."""
    rows = await db.execute(_HISTORY, {"lawyer_id": lawyer_id, "draft": NoticeStatus.draft})
    return [(r.id, r.kind, r.reported_on, r.status, r.paid) for r in rows]
