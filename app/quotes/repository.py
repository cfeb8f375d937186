"""Queries for quotes. The access rule (owner, the owner's firm, or staff with need to know)
is part of each query, so a quote that is not the caller's is simply not found."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, cast
from uuid import UUID

from sqlalchemy import Table, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.roles import Role
from app.auth.principal import Principal
from app.core.audited import Source
from app.core.sql import Bound
from app.quotes.models import Quote
from app.users.acting_for import lawyer_records_visible

QUOTE_READERS = frozenset({Role.customer_service, Role.underwriter, Role.finance})
# the columns `service.quote_answer` answers, not `r.*` (see app/core/responses.py)
QUOTES = Source(
    "quote",
    "quote AS r",
    columns="r.id, r.owner_id, r.inputs, r.lines, r.premium, r.tax, r.total, r.instalments,"
    " r.rate_table_version, r.created_at",
)
_quote = cast(Table, Quote.__table__)


def visible_to(principal: Principal) -> Bound:
    """The one rule for who sees a quote: the lawyer's own, their current firm's, or staff."""
    return lawyer_records_visible(principal, readers=QUOTE_READERS)


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


async def get_quote_rows(db: AsyncSession, quote_ids: list[UUID]) -> dict[UUID, dict[str, Any]]:
    if not quote_ids:
        return {}
    rows = (await db.execute(select(_quote).where(_quote.c.id.in_(quote_ids)))).mappings()
    return {row["id"]: dict(row) for row in rows}
