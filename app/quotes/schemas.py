from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema

from app.quotes.rules import Deductible, InnocentPartySublimit, PaymentPlan


def money_text(value: Decimal) -> str:
    """Money as the API writes it: a string with two places ("1755.00"), never a JSON number."""
    return f"{value:.2f}"


MoneyOut = Annotated[Decimal, PlainSerializer(money_text, return_type=str)]
# Money in: documented as a decimal string ("1755.00"); a JSON number is read exactly too.
MONEY_STRING = WithJsonSchema(
    {"type": "string", "pattern": r"^\d{1,12}(\.\d{1,2})?$", "examples": ["1755.00"]}
)


class QuoteCreate(BaseModel):
    """Omitted fields take the standard program's values."""

    model_config = ConfigDict(extra="forbid")

    program_year: int = Field(ge=2000, le=2100)
    effective_date: date
    years_in_practice: int = Field(
        default=0, ge=0, le=80, description="Full years (200+ days each)"
    )
    deductible: Deductible = Deductible("5000_combined")
    restricted_practice: bool = False
    part_time: bool = False
    real_estate: bool = False
    innocent_party_sublimit: InnocentPartySublimit = InnocentPartySublimit("250000")
    risk_management_programs: int = Field(default=0, ge=0, le=20)
    indian_status_certificate: bool = False
    payment_plan: PaymentPlan = PaymentPlan("lump_sum")
    lawyer_id: UUID | None = Field(
        default=None, description="Firm admins and integrations: the lawyer of the firm quoted for"
    )


# A line's and an instalment's fields in the order PostgreSQL keeps a jsonb object's keys
# (shorter first), so that a stored quote is answered as stored (quotes/service.quote_answer).
class QuoteLineRead(BaseModel):
    code: str
    amount: MoneyOut
    description: str


class InstalmentRead(BaseModel):
    amount: MoneyOut
    due_date: date


class QuoteRead(BaseModel):
    id: UUID
    lawyer_id: UUID
    program_year: int
    effective_date: date
    years_in_practice: int
    deductible: Deductible
    restricted_practice: bool
    part_time: bool
    real_estate: bool
    innocent_party_sublimit: InnocentPartySublimit
    risk_management_programs: int
    indian_status_certificate: bool
    payment_plan: PaymentPlan
    lines: list[QuoteLineRead]
    premium: MoneyOut
    tax: MoneyOut
    total: MoneyOut
    instalments: list[InstalmentRead]
    rate_table_version: str
    created_at: datetime


class RateTableRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    program_year: int
    version: str
    status: Literal["draft", "active", "retired"] = Field(
        description="`active` tables can be quoted"
    )
    activated_on: date | None = Field(description="When it was published active (shipped: none)")
    digest: str = Field(description="SHA-256 of the table; a quote names the one that priced it")
    shipped: bool = Field(description="Shipped with the service rather than published as data")
