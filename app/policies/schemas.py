from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from app.core.pagination import UPDATED_AT
from app.policies.models import RealEstateStatus
from app.quotes.rules import Deductible
from app.quotes.schemas import MoneyOut
from app.users.whose import LawyerSummary


class PolicyDetail(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    application_id: UUID
    lawyer_id: UUID
    lawyer: LawyerSummary
    firm_id: UUID | None
    program_year: int
    effective_date: date
    deductible: Deductible
    part_time: bool
    real_estate_status: RealEstateStatus
    real_estate_since: date | None
    cover_ends: date | None = Field(
        description="The last day of cover when an exemption ended it early (else 31 December)"
    )
    premium: MoneyOut
    tax: MoneyOut
    total: MoneyOut
    issued_at: datetime
    updated_at: datetime = Field(description=UPDATED_AT)


class ChangeKind(StrEnum):
    add_real_estate = "add_real_estate"
    remove_real_estate = "remove_real_estate"
    lose_part_time = "lose_part_time"


class AdjustmentKind(StrEnum):
    """What changed a policy's premium: a mid-term change, or an exemption's return of premium."""

    add_real_estate = "add_real_estate"
    remove_real_estate = "remove_real_estate"
    lose_part_time = "lose_part_time"
    exemption_refund = "exemption_refund"


class ChangeCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: ChangeKind
    requested_date: date | None = Field(
        default=None, description="When the change should take effect (never before it is received)"
    )
    received_on: date | None = Field(
        default=None,
        description="Staff recording a paper form: the date it was received (others: today)",
    )


class ChangeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    policy_id: UUID
    kind: AdjustmentKind
    received_on: date
    requested_date: date | None
    effective_date: date
    premium_adjustment: MoneyOut
    tax_adjustment: MoneyOut
    total_adjustment: MoneyOut
    pro_rated: bool
    created_at: datetime


class ReviewOutcome(StrEnum):
    cleared = "cleared"
    refused = "refused"


class RealEstateReview(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: ReviewOutcome = Field(description="The due diligence's outcome")
    note: str | None = Field(default=None, max_length=2000)
