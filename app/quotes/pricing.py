"""What other domains use of quotes (the published interface): pricing and keeping a quote,
and reading kept ones back, typed. Applications price their submission here; policies re-rate
from the inputs that priced them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from operator import itemgetter
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from app.quotes import repository as repo
from app.quotes.rules import Deductible, InnocentPartySublimit, PaymentPlan, QuoteInput
from app.quotes.schemas import QuoteRead
from app.quotes.service import QUOTE_ANSWERED, price_and_store, quote_answer_of, to_read

__all__ = [
    "QUOTE_COLUMNS",
    "StoredQuote",
    "joined_quote_answer",
    "price_and_store",
    "quote_join",
    "stored_quote",
    "stored_quotes",
]

# For a domain that shows a quote inside its own record, read in the same statement: the quote
# joined (`quote_join`), its columns named `quote__<column>`, answered by `joined_quote_answer`.
# Columns, not one JSON document built by the statement: building the documents of a page of
# 50 applications (quote and policy) took PostgreSQL about 1.2 ms of a page's 2.3 ms. Ids and
# money as their text, which the answer shows as it is.
_AS_TEXT = {"id", "owner_id", "premium", "tax", "total"}
QUOTE_COLUMNS = ", ".join(
    f"q.{name}{'::text' if name in _AS_TEXT else ''} AS quote__{name}" for name in QUOTE_ANSWERED
)


_JOINED = itemgetter(*(f"quote__{name}" for name in QUOTE_ANSWERED))


def quote_join(quote_id: str) -> str:
    """SQL: the quote with the id in column `quote_id` joined as `q` (its columns NULL when
    there is none)."""
    return f"LEFT JOIN quote AS q ON q.id = {quote_id}"


def joined_quote_answer(row: Mapping[str, Any]) -> dict[str, Any] | None:
    """The joined quote (`QUOTE_COLUMNS`) of a row as `QuoteRead` shows it, as plain data for
    an answer built from its row (app/core/responses.py); None when there is none."""
    if row["quote__id"] is None:
        return None
    return quote_answer_of(*_JOINED(row))


@dataclass(frozen=True)
class StoredQuote:
    id: UUID
    read: QuoteRead  # as the API shows it
    inputs: QuoteInput  # what priced it
    rate_table_digest: str  # the exact rate table file that priced it
    premium: Decimal
    tax: Decimal
    total: Decimal

    def line_amount(self, code: str) -> Decimal:
        """The amount of one line (0.00 when the quote has no such line)."""
        return next((ln.amount for ln in self.read.lines if ln.code == code), Decimal("0.00"))


def _inputs(i: dict[str, Any]) -> QuoteInput:
    return QuoteInput(
        program_year=i["program_year"],
        effective_date=date.fromisoformat(i["effective_date"]),
        years_in_practice=i["years_in_practice"],
        deductible=Deductible(i["deductible"]),
        restricted_practice=i["restricted_practice"],
        part_time=i["part_time"],
        real_estate=i["real_estate"],
        innocent_party_sublimit=InnocentPartySublimit(i["innocent_party_sublimit"]),
        risk_management_programs=i["risk_management_programs"],
        indian_status_certificate=i["indian_status_certificate"],
        payment_plan=PaymentPlan(i["payment_plan"]),
    )


def _stored(row: dict[str, Any]) -> StoredQuote:
    return StoredQuote(
        id=row["id"],
        read=to_read(row),
        inputs=_inputs(row["inputs"]),
        rate_table_digest=row["rate_table_digest"],
        premium=row["premium"],
        tax=row["tax"],
        total=row["total"],
    )


async def stored_quotes(db: AsyncSession, quote_ids: list[UUID]) -> dict[UUID, StoredQuote]:
    rows = await repo.get_quote_rows(db, quote_ids)
    return {quote_id: _stored(row) for quote_id, row in rows.items()}


async def stored_quote(db: AsyncSession, quote_id: UUID) -> StoredQuote:
    quote = (await stored_quotes(db, [quote_id])).get(quote_id)
    if quote is None:
        raise LookupError(f"quote {quote_id} is gone")  # a foreign key keeps it: cannot happen
    return quote
