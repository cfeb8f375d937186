"""Pydantic in/out models of claims notices."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.claims_notices.models import Channel, NoticeKind, NoticeStatus
from app.claims_notices.rules import CostKind, DeductibleBasis, Milestone, SocialEngineeringStep
from app.core.pagination import UPDATED_AT
from app.quotes.rules import Deductible
from app.quotes.schemas import MONEY_STRING, MoneyOut
from app.users.whose import LawyerSummary

Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Paragraph = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]
MoneyIn = Annotated[
    Decimal,
    Field(ge=0, max_digits=14, decimal_places=2, allow_inf_nan=False),
    MONEY_STRING,
]
PositiveMoney = Annotated[
    Decimal,
    Field(gt=0, max_digits=14, decimal_places=2, allow_inf_nan=False),
    MONEY_STRING,
]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChronologyEntry(_In):
    """One dated event of the matter, in the order they happened."""

    date: date
    event: Paragraph


class NoticeFacts(_In):
    """Facts of the claim that change its deductible (RULES.md §4) or bring a sublimit."""

    counterfeit_instrument: bool = Field(
        default=False, description="A counterfeit certified cheque or bank draft is involved"
    )
    title_insured_no_levy: bool = Field(
        default=False,
        description="Arises from a title-insured transaction on which no levy was payable",
    )
    conflict_of_interest: bool = Field(
        default=False,
        description="Acted for more than one party with an apparent or alleged conflict",
    )
    administrative_dismissal: bool = Field(
        default=False, description="An administrative dismissal that was not set aside"
    )
    innocent_party: bool = Field(
        default=False,
        description="Arises from a dishonest act of a partner, associate, employee or lawyer "
        "of the firm (innocent party coverage)",
    )
    real_estate: bool = Field(default=False, description="A real estate matter")
    social_engineering: bool = Field(
        default=False, description="Funds or information transferred through deception"
    )
    social_engineering_steps: list[SocialEngineeringStep] = Field(
        default_factory=list,
        max_length=5,
        description="Which of the five protective steps were taken (all five: no sublimit)",
    )
    cybercrime: bool = False


class _NoticeFields(_In):
    kind: NoticeKind | None = Field(
        default=None,
        description="`claim`: a demand or allegation; `circumstance`: something that could "
        "give rise to one",
    )
    awareness_date: date | None = Field(
        default=None, description="The day the lawyer became aware of the claim or circumstance"
    )
    client_name: Line | None = None
    matter_description: Paragraph | None = None
    retainer_date: date | None = None
    claimant: Line | None = Field(default=None, description="Who makes the claim, if anyone")
    alleged_error: Paragraph | None = None
    potential_damages: MoneyIn | None = None
    chronology: list[ChronologyEntry] | None = Field(default=None, max_length=200)
    reported_on_section_d: bool | None = Field(
        default=None, description="Reported on an application's Section D"
    )
    facts: NoticeFacts | None = None


class ClaimsNoticeCreate(_NoticeFields):
    """File a notice (complete at once), or save a draft (`draft: true`) to submit later."""

    lawyer_id: UUID | None = Field(
        default=None,
        description="The lawyer the notice concerns; lawyers leave it out (their own), firm "
        "admins, integrations and claims staff name one",
    )
    draft: bool = Field(
        default=False, description="Save as a draft (nothing is checked but the fields given)"
    )
    channel: Channel = Field(
        default=Channel.portal, description="Claims staff: `paper` or `telephone` notices"
    )
    received_on: date | None = Field(
        default=None,
        description="Claims staff entering a paper or telephone notice: the day it was received",
    )


class ClaimsNoticeUpdate(_NoticeFields):
    """The fields given replace the notice's (a draft, by whoever filed it; the facts, by
    claims staff until the file is closed)."""

    received_on: date | None = Field(
        default=None, description="Claims staff, on a draft they entered: the day received"
    )


class CounselAssign(_In):
    counsel_id: UUID = Field(description="A user with the `claims` role")


class MilestoneCreate(_In):
    milestone: Milestone
    occurred_on: date
    note: Line | None = None


class CostCreate(_In):
    kind: CostKind = Field(
        description="`investigation`, `repair`, `loss_prevention`, `defence` (claim expenses) "
        "or `indemnity` (a judgment, award or settlement paid)"
    )
    amount: PositiveMoney
    occurred_on: date
    note: Line | None = None


class FileEntryRead(BaseModel):
    id: UUID
    entry_type: str
    milestone: str | None
    kind: str | None
    amount: MoneyOut | None
    occurred_on: date
    note: str | None
    recorded_by_id: UUID
    created_at: datetime


class DeductibleRead(BaseModel):
    option: Deductible = Field(description="The option of the policy in force on the day received")
    amount: MoneyOut
    basis: DeductibleBasis
    adjustments: list[str] = Field(description="The facts that changed it, in the order applied")


class CallRead(BaseModel):
    id: UUID
    due_on: date
    amount: MoneyOut
    cumulative: MoneyOut
    trigger: str


class SublimitRead(BaseModel):
    code: str
    per_claim: MoneyOut
    aggregate: MoneyOut | None
    note: str


class ClaimsNoticeRead(BaseModel):
    id: UUID
    reference: str | None = Field(description="The claims unit's file number, once acknowledged")
    lawyer_id: UUID
    lawyer: LawyerSummary
    firm_id: UUID | None
    filed_by_id: UUID
    status: NoticeStatus
    channel: Channel
    kind: NoticeKind | None
    received_on: date | None
    awareness_date: date | None
    client_name: str | None
    matter_description: str | None
    retainer_date: date | None
    claimant: str | None
    alleged_error: str | None
    potential_damages: MoneyOut | None
    chronology: list[ChronologyEntry]
    reported_on_section_d: bool
    facts: NoticeFacts
    policy_id: UUID | None = Field(description="The policy in force on the day received")
    deductible: DeductibleRead | None
    sublimits: list[SublimitRead]
    counsel_id: UUID | None
    acknowledged_at: datetime | None
    file: list[FileEntryRead] = Field(description="Milestones and costs, in the order recorded")
    calls: list[CallRead] = Field(description="The deductible called, each a dated amount owed")
    costs_total: MoneyOut
    called_total: MoneyOut
    submitted_at: datetime | None
    closed_at: datetime | None
    created_at: datetime
    updated_at: datetime = Field(
        description=f"{UPDATED_AT}; a milestone, cost or call added to its file changes it too"
    )
    version: int


class ClaimsHistoryItem(BaseModel):
    """What an underwriter sees of a notice: never the matter."""

    notice_id: UUID
    kind: NoticeKind
    received_on: date
    status: NoticeStatus
    paid: bool = Field(
        description="An investigation, repair, loss-prevention or indemnity payment was made"
    )


class ClaimsHistoryRead(BaseModel):
    lawyer_id: UUID
    items: list[ClaimsHistoryItem]
