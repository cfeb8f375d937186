"""What other domains use of quotes (the published interface): pricing and keeping a quote,
and reading kept ones back, typed. Applications price their submission here; policies re-rate
from the inputs that priced them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from app.quotes import repository as repo
from app.quotes.rules import Deductible, InnocentPartySublimit, PaymentPlan, QuoteInput
from app.quotes.schemas import QuoteRead
from app.quotes.service import price_and_store, quote_answer, to_read

__all__ = [
    "StoredQuote",
    "price_and_store",
    "quote_answer_of_document",
    "quote_document_sql",
    "quote_from_document",
    "stored_quote",
    "stored_quotes",
]


def quote_document_sql(quote_id: str) -> str:
    """SQL: the quote with the id in column `quote_id` as one JSON document (money as strings),
    for a domain that shows a quote inside its own record in the same statement; read it back
    with `quote_from_document`."""
    return (
        "(SELECT jsonb_build_object('id', q.id, 'owner_id', q.owner_id, 'inputs', q.inputs,"  # noqa: S608 (constants)
        " 'lines', q.lines, 'premium', q.premium::text, 'tax', q.tax::text,"
        " 'total', q.total::text, 'instalments', q.instalments,"
        " 'rate_table_version', q.rate_table_version, 'created_at', q.created_at)"
        f" FROM quote AS q WHERE q.id = {quote_id})"
    )


def quote_from_document(document: dict[str, Any]) -> QuoteRead:
    return to_read(document)


def quote_answer_of_document(document: dict[str, Any]) -> dict[str, Any]:
    """The quote of a `quote_document_sql` document as `QuoteRead` shows it, as plain data for
    an answer built from its row (app/core/responses.py); its time, a string in JSON, read back."""
    return quote_answer({**document, "created_at": datetime.fromisoformat(document["created_at"])})


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
