"""Quotes: price with the program year's rate table, persist with inputs and lines, read back."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date
from enum import Enum
from typing import Any
from uuid import UUID

from app.auth.principal import Principal
from app.core.audited import conditions, read_page, read_record
from app.core.errors import FieldError, InvalidInput
from app.core.responses import page_of
from app.core.unit_of_work import Unit
from app.quotes import repository as repo
from app.quotes.publishing import RateTableSummary, rate_tables, refresh_published
from app.quotes.rate_tables import available_years, load_rate_table
from app.quotes.rules import QuoteInput, QuoteInputError, compute_quote
from app.quotes.schemas import QuoteCreate, QuoteRead, money_text
from app.users.acting_for import lawyer_acted_for

INPUT_FIELDS = (
    "program_year",
    "effective_date",
    "years_in_practice",
    "deductible",
    "restricted_practice",
    "part_time",
    "real_estate",
    "innocent_party_sublimit",
    "risk_management_programs",
    "indian_status_certificate",
    "payment_plan",
)


def _json_value(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    return value.isoformat() if isinstance(value, date) else value


# The columns a quote is answered from (`quote_answer`).
QUOTE_ANSWERED = (
    "id",
    "owner_id",
    "inputs",
    "lines",
    "premium",
    "tax",
    "total",
    "instalments",
    "rate_table_version",
    "created_at",
)


def quote_answer(row: Mapping[Any, Any]) -> dict[str, Any]:
    """A stored quote as `QuoteRead` shows it, from its row (`QUOTES`), without validating again
    what was validated when it was priced (see app/core/responses.py): the same fields in the
    same order, money kept as stored (numeric(12,2) columns, or their text), the lines and
    instalments as stored (their fields in jsonb's order, see schemas.py)."""
    return quote_answer_of(
        row["id"],
        row["owner_id"],
        row["inputs"],
        row["lines"],
        row["premium"],
        row["tax"],
        row["total"],
        row["instalments"],
        row["rate_table_version"],
        row["created_at"],
    )


def quote_answer_of(
    id_: Any,
    owner_id: Any,
    inputs: Mapping[str, Any],
    lines: Any,
    premium: Any,
    tax: Any,
    total: Any,
    instalments: Any,
    rate_table_version: str,
    created_at: Any,
) -> dict[str, Any]:
    """`quote_answer` of the `QUOTE_ANSWERED` columns' values, in that order."""
    return {
        "id": id_,
        "lawyer_id": owner_id,
        **{name: inputs[name] for name in INPUT_FIELDS},
        "lines": lines,
        "premium": premium,
        "tax": tax,
        "total": total,
        "instalments": instalments,
        "rate_table_version": rate_table_version,
        "created_at": created_at,
    }


def to_read(row: Mapping[Any, Any]) -> QuoteRead:
    """The stored quote as a validated `QuoteRead` (for the domains that hold one)."""
    return QuoteRead.model_validate(quote_answer(row))


async def create_quote(unit: Unit, principal: Principal, body: QuoteCreate) -> QuoteRead:
    owner_id, firm_id = await lawyer_acted_for(unit.db, principal, body.lawyer_id, what="Quotes")
    inp = QuoteInput(**{f: getattr(body, f) for f in INPUT_FIELDS})
    return await price_and_store(
        unit, inp, owner_id=owner_id, firm_id=firm_id, created_by_id=principal.user_id
    )


async def price_and_store(
    unit: Unit, inp: QuoteInput, *, owner_id: UUID, firm_id: UUID | None, created_by_id: UUID
) -> QuoteRead:
    """Price `inp` with its program year's rate table and keep the quote (also used when an
    application is submitted). Raises 422 naming the input that cannot be priced."""
    await refresh_published(unit.db)
    if inp.program_year not in available_years():
        years = ", ".join(str(y) for y in sorted(available_years()))
        raise InvalidInput(
            errors=[
                FieldError(
                    "program_year",
                    "no_rate_table",
                    f"No rates are published for {inp.program_year}; "
                    f"the years that can be quoted: {years}.",
                )
            ]
        )
    table = load_rate_table(inp.program_year)
    try:
        result = compute_quote(inp, table)
    except QuoteInputError as exc:
        raise InvalidInput(
            errors=[FieldError(v.field, v.code, v.message) for v in exc.violations]
        ) from exc
    inputs = {f: _json_value(getattr(inp, f)) for f in INPUT_FIELDS}
    quote_id = uuid.uuid4()
    values: dict[str, Any] = {
        "id": quote_id,
        "owner_id": owner_id,
        "firm_id": firm_id,
        "created_by_id": created_by_id,
        "program_year": inp.program_year,
        "rate_table_version": table.version,
        "rate_table_digest": table.digest,
        "effective_date": inp.effective_date,
        "inputs": inputs,
        "lines": [
            {"code": ln.code, "description": ln.description, "amount": money_text(ln.amount)}
            for ln in result.lines
        ],
        "premium": result.premium,
        "tax": result.tax,
        "total": result.total,
        "instalments": [
            {"due_date": i.due_date.isoformat(), "amount": money_text(i.amount)}
            for i in result.instalments
        ],
    }
    values["created_at"] = await repo.insert_quote(unit.db, values)
    unit.audit.record(
        "quote.create",
        resource_type="quote",
        resource_id=quote_id,
        subjects=[owner_id],
        details={"after": {**inputs, "lawyer_id": owner_id, "total": money_text(result.total)}},
    )
    return to_read(values)


async def read_quote(unit: Unit, principal: Principal, quote_id: UUID) -> dict[str, Any]:
    """The quote as `QuoteRead` shows it (`quote_answer`)."""
    row = await read_record(
        unit, repo.QUOTES, quote_id, repo.visible_to(principal), action="quote.read"
    )
    return quote_answer(row)


async def list_quotes(
    unit: Unit,
    principal: Principal,
    *,
    lawyer_id: UUID | None,
    program_year: int | None = None,
    cursor: str | None,
    limit: int,
) -> dict[str, Any]:
    """A page of quotes as `Page[QuoteRead]` shows it (`quote_answer`)."""
    rows, next_cursor = await read_page(
        unit,
        repo.QUOTES,
        repo.visible_to(principal),
        action="quote.list",
        cursor=cursor,
        limit=limit,
        where=conditions(
            lawyer_id=("r.owner_id = :v", lawyer_id),
            program_year=("r.program_year = :v", program_year),
        ),
        filters={"lawyer_id": lawyer_id, "program_year": program_year},
    )
    return page_of([quote_answer(r) for r in rows], next_cursor)


async def list_rate_tables(unit: Unit) -> list[RateTableSummary]:
    tables = await rate_tables(unit.db)
    unit.audit.record(
        "rate_table.list",
        resource_type="rate_table",
        resource_ids=[t.program_year for t in tables],
    )
    return tables
