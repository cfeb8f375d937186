"""Queries for quotes. The access rule (owner, the owner's firm, or staff with need to know)
is part of each query, so a quote that is not the caller's is simply not found."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, cast
from uuid import UUID

from sqlalchemy import ColumnElement, Table, and_, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.quotes.models import Quote
from app.users.acting_for import lawyer_record_visible
from app.users.roles import FIRM_ROLES, Role

QUOTE_READERS = frozenset({Role.customer_service, Role.underwriter, Role.finance})
_quote = cast(Table, Quote.__table__)


# One statement for every role: the caller's own quote, their firm's (firm roles), or any
# (staff with need to know). GET /quotes/{id} is the hottest read.
GET_VISIBLE_SQL = (
    "SELECT * FROM quote WHERE id = :quote_id AND (owner_id = :user_id"
    " OR firm_id = CAST(:firm_id AS uuid) OR CAST(:any_quote AS boolean))"
)


def visibility_params(principal: Principal) -> dict[str, Any]:
    firm_wide = principal.role in FIRM_ROLES and principal.firm_id is not None
    return {
        "user_id": principal.user_id if principal.role is Role.lawyer else None,
        "firm_id": principal.firm_id if firm_wide else None,
        "any_quote": principal.role in QUOTE_READERS,
    }


def visible_to(principal: Principal) -> ColumnElement[bool]:
    """The same rule as GET_VISIBLE_SQL, as an expression for list queries."""
    return lawyer_record_visible(
        principal, owner=_quote.c.owner_id, firm=_quote.c.firm_id, readers=QUOTE_READERS
    )


_JSON_COLUMNS = ("inputs", "lines", "instalments")
# Written out once: built per request, the INSERT cost more than pricing the quote.
_INSERT_QUOTE = text(
    "INSERT INTO quote (id, owner_id, firm_id, created_by_id, program_year, rate_table_version,"
    " rate_table_digest, effective_date, inputs, lines, premium, tax, total, instalments)"
    " VALUES (:id, :owner_id, :firm_id, :created_by_id, :program_year, :rate_table_version,"
    " :rate_table_digest, :effective_date, CAST(:inputs AS jsonb), CAST(:lines AS jsonb),"
    " :premium, :tax, :total, CAST(:instalments AS jsonb)) RETURNING created_at"
)


async def insert_quote(db: AsyncSession, values: dict[str, Any]) -> datetime:
    params = {**values, **{c: json.dumps(values[c]) for c in _JSON_COLUMNS}}
    conn = await db.connection()
    created: datetime = (await conn.execute(_INSERT_QUOTE, params)).scalar_one()
    return created


async def list_visible(
    db: AsyncSession,
    principal: Principal,
    *,
    lawyer_id: UUID | None,
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> list[dict[str, Any]]:
    stmt = (
        select(_quote)
        .where(visible_to(principal))
        .order_by(_quote.c.created_at.desc(), _quote.c.id.desc())
        .limit(limit)
    )
    if lawyer_id is not None:
        stmt = stmt.where(_quote.c.owner_id == lawyer_id)
    if after is not None:
        created, last_id = after
        stmt = stmt.where(
            or_(
                _quote.c.created_at < created,
                and_(_quote.c.created_at == created, _quote.c.id < last_id),
            )
        )
    return [dict(r) for r in (await db.execute(stmt)).mappings()]


async def get_quote_row(db: AsyncSession, quote_id: UUID) -> dict[str, Any] | None:
    row = (await db.execute(select(_quote).where(_quote.c.id == quote_id))).mappings().first()
    return dict(row) if row else None


async def get_quote_rows(db: AsyncSession, quote_ids: list[UUID]) -> dict[UUID, dict[str, Any]]:
    if not quote_ids:
        return {}
    rows = (await db.execute(select(_quote).where(_quote.c.id.in_(quote_ids)))).mappings()
    return {row["id"]: dict(row) for row in rows}
