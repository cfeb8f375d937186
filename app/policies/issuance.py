"""Issuing a policy and reading what an application issued (the published interface of
policies for the applications domain)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from app.core.unit_of_work import Unit
from app.policies.models import Policy, RealEstateStatus

__all__ = [
    "ISSUED_POLICY_COLUMNS",
    "PolicyTerms",
    "RealEstateStatus",
    "issue_policy",
    "issued_policy_answer",
    "issued_policy_join",
]
from app.quotes.pricing import StoredQuote


@dataclass(frozen=True)
class PolicyTerms:
    """What an approved application and its quote fix for the policy year."""

    application_id: UUID
    lawyer_id: UUID
    firm_id: UUID | None
    program_year: int
    effective_date: date
    deductible: str
    new_lawyer_tier: int | None
    options: dict[str, Any]  # the application's coverage options, as submitted
    real_estate: bool
    part_time: bool
    quote: StoredQuote


async def issue_policy(unit: Unit, terms: PolicyTerms) -> UUID:
    """Issue the policy (its Real Estate option waits for underwriting's due diligence before
    it is in force), recorded in the audit trail."""
    policy = Policy(
        application_id=terms.application_id,
        lawyer_id=terms.lawyer_id,
        firm_id=terms.firm_id,
        program_year=terms.program_year,
        effective_date=terms.effective_date,
        deductible=terms.deductible,
        new_lawyer_tier=terms.new_lawyer_tier,
        options=terms.options,
        real_estate_status=(
            RealEstateStatus.pending_due_diligence
            if terms.real_estate
            else RealEstateStatus.not_taken
        ),
        real_estate_since=terms.effective_date if terms.real_estate else None,
        real_estate_fee_paid=terms.quote.line_amount("real_estate_option"),
        part_time=terms.part_time,
        premium=terms.quote.premium,
        tax=terms.quote.tax,
        total=terms.quote.total,
        quote_id=terms.quote.id,
    )
    unit.db.add(policy)
    await unit.db.flush()
    unit.audit.record(
        "policy.issue",
        resource_type="policy",
        resource_id=policy.id,
        subjects=[policy.lawyer_id],
        details={
            "application_id": terms.application_id,
            "real_estate_status": policy.real_estate_status,
        },
    )
    return policy.id


def issued_policy_join(application_id: str) -> str:
    """SQL: the policy the application with the id in column `application_id` issued, joined
    as `p` (at most one: `uq_policy_application_id`; its columns NULL when there is none), its
    columns `ISSUED_POLICY_COLUMNS` (its id and money as their text, which the answer shows as
    it is), answered by `issued_policy_answer`. Columns, not a JSON document built by the
    statement (see app/quotes/pricing.py `QUOTE_COLUMNS`)."""
    return f"LEFT JOIN policy AS p ON p.application_id = {application_id}"


ISSUED_POLICY_COLUMNS = (
    "p.id::text AS policy__id, p.program_year AS policy__program_year,"
    " p.effective_date AS policy__effective_date, p.deductible AS policy__deductible,"
    " p.real_estate_status AS policy__real_estate_status, p.premium::text AS policy__premium,"
    " p.tax::text AS policy__tax, p.total::text AS policy__total,"
    " p.issued_at AS policy__issued_at"
)


def issued_policy_answer(row: Mapping[str, Any]) -> dict[str, Any] | None:
    """The issued policy joined to a row (`issued_policy_join`) as the applications'
    `PolicyRead` shows it, as plain data (app/core/responses.py), its fields in the model's
    order; None when the application issued none."""
    if row["policy__id"] is None:
        return None
    return {
        "id": row["policy__id"],
        "program_year": row["policy__program_year"],
        "effective_date": row["policy__effective_date"],
        "deductible": row["policy__deductible"],
        "real_estate_status": row["policy__real_estate_status"],
        "premium": row["policy__premium"],
        "tax": row["policy__tax"],
        "total": row["policy__total"],
        "issued_at": row["policy__issued_at"],
    }
