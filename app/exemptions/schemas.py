"""Pydantic in/out models of exemptions."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from app.core.pagination import UPDATED_AT
from app.exemptions.form import ExemptionForm
from app.exemptions.models import ExemptionStatus
from app.exemptions.rules import CoverageKind
from app.quotes.schemas import MoneyOut
from app.users.whose import LawyerSummary


class Channel(StrEnum):
    portal = "portal"
    paper = "paper"  # a paper form entered by staff


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ExemptionCreate(_In):
    """A draft from whatever is known (the SPA saves as the lawyer types)."""

    lawyer_id: UUID | None = Field(
        default=None, description="Staff entering a paper form: the lawyer it is for"
    )
    form: ExemptionForm = Field(default_factory=ExemptionForm)
    channel: Channel = Field(default=Channel.portal, description="Staff: `paper`")
    received_on: date | None = Field(
        default=None, description="Staff entering a paper form: the day it was received"
    )


class ExemptionUpdate(_In):
    form: dict[str, Any] = Field(
        description="Fields of the form to change; a section (b-h, an address) is merged field "
        "by field"
    )


class Decision(StrEnum):
    accept = "accept"
    refuse = "refuse"


class ReviewCreate(_In):
    decision: Decision
    reason: str | None = Field(
        default=None, min_length=1, max_length=2000, description="Required to refuse"
    )


class ExemptionEnd(_In):
    practice_status_changed_on: date = Field(
        description="The day the lawyer's practice status changes (the exemption ends the day "
        "before)"
    )


class CoverageRead(BaseModel):
    kind: CoverageKind
    per_claim: MoneyOut | None
    aggregate: MoneyOut | None
    deductible: MoneyOut | None
    aggregate_reinstated_annually: bool
    note: str
    services_still_covered: list[str]


class RefundRead(BaseModel):
    policy_id: UUID
    start: date = Field(description="The first day refunded")
    days: int
    policy_days: int
    premium: MoneyOut
    tax: MoneyOut
    total: MoneyOut
    cover_ends: date = Field(description="The policy's last day of premium-bearing cover")


class ExemptionRead(BaseModel):
    id: UUID
    lawyer_id: UUID
    lawyer: LawyerSummary
    filed_by_id: UUID
    status: ExemptionStatus
    channel: Channel
    form: ExemptionForm
    received_on: date | None
    needs_review: bool = Field(description="Proof of coverage or pro bono to be checked by staff")
    coverage: CoverageRead | None = Field(
        description="The coverage while exempt (once the reason and effective date are given)"
    )
    refund: RefundRead | None = Field(description="The return of premium, once accepted")
    review_note: str | None
    reviewed_at: datetime | None
    ended_on: date | None
    submitted_at: datetime | None
    created_at: datetime
    updated_at: datetime = Field(description=UPDATED_AT)
    version: int
