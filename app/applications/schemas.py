from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from app.applications.form import (
    ApplicationForm,
    SectionA,
    SectionB,
    SectionC,
    SectionD,
    SectionE,
    SectionF,
)
from app.applications.models import ApplicationStatus
from app.core.pagination import UPDATED_AT
from app.policies.issuance import RealEstateStatus
from app.quotes.rules import Deductible
from app.quotes.schemas import MoneyOut, QuoteRead
from app.users.whose import LawyerSummary


class ApplicationCreate(BaseModel):
    """A draft from whatever is known so far (the web app saves as the lawyer types)."""

    model_config = ConfigDict(extra="forbid")

    program_year: int = Field(ge=2000, le=2100)
    lawyer_id: UUID | None = Field(
        default=None, description="Firm admins and integrations: the lawyer of the firm applying"
    )
    form: ApplicationForm = Field(default_factory=ApplicationForm)


class ApplicationFormChanges(BaseModel):
    """Sections of the form to change: each field given replaces the draft's (typed as in the
    form); the fields and sections left out stay as they are."""

    model_config = ConfigDict(extra="forbid")

    a: SectionA | None = None
    b: SectionB | None = None
    c: SectionC | None = None
    d: SectionD | None = None
    e: SectionE | None = None
    f: SectionF | None = None

    def given(self) -> dict[str, dict[str, Any]]:
        """Only what the client sent, section by section."""
        return {
            name: section
            for name, section in self.model_dump(mode="json", exclude_unset=True).items()
            if section is not None
        }


class ApplicationUpdate(BaseModel):
    """Sections and fields to change; what is not named stays as it is."""

    model_config = ConfigDict(extra="forbid")

    form: ApplicationFormChanges = Field(
        description='The sections and fields to set, e.g. {"c": {"deductible": "nil"}}',
    )


class PolicyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    program_year: int
    effective_date: date
    deductible: Deductible
    real_estate_status: RealEstateStatus
    premium: MoneyOut
    tax: MoneyOut
    total: MoneyOut
    issued_at: datetime


class ApplicationRead(BaseModel):
    id: UUID
    lawyer_id: UUID
    lawyer: LawyerSummary
    firm_id: UUID | None
    program_year: int
    status: ApplicationStatus
    form: ApplicationForm
    quote: QuoteRead | None
    policy: PolicyRead | None
    submitted_at: datetime | None
    decided_at: datetime | None
    decision_note: str | None
    tax_certificate_on_file: bool = Field(
        description="Staff confirmed a copy of the Certificate of Indian Status or TCRD is on file"
    )
    created_at: datetime
    updated_at: datetime = Field(description=UPDATED_AT)
    version: int


class Decision(StrEnum):
    approve = "approve"
    decline = "decline"
    request_information = "request_information"


class DecisionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Decision
    note: str | None = Field(default=None, max_length=4000)


class TaxCertificateRead(BaseModel):
    """Staff confirmed a copy of the Certificate of Indian Status or TCRD is on file: the
    application's submission is priced without sales tax."""

    application_id: UUID
    confirmed_at: datetime
    confirmed_by_id: UUID | None
    version: int
