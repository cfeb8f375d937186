"""Issuing a policy and reading what an application issued (the published interface of
policies for the applications domain)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from app.core.unit_of_work import Unit
from app.policies.models import Policy, RealEstateStatus

__all__ = [
    "PolicyTerms",
    "RealEstateStatus",
    "issue_policy",
    "issued_policy_answer",
    "issued_policy_sql",
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


def issued_policy_sql(application_id: str) -> str:
    """SQL: the policy the application with the id in column `application_id` issued, as one
    JSON document (money as strings), or NULL; answered by `issued_policy_answer`."""
    return (
        "(SELECT jsonb_build_object('id', p.id, 'program_year', p.program_year,"  # noqa: S608 (constants)
        " 'effective_date', p.effective_date, 'deductible', p.deductible,"
        " 'real_estate_status', p.real_estate_status, 'premium', p.premium::text,"
        " 'tax', p.tax::text, 'total', p.total::text, 'issued_at', p.issued_at)"
        f" FROM policy AS p WHERE p.application_id = {application_id})"
    )


def issued_policy_answer(document: dict[str, Any]) -> dict[str, Any]:
    """An `issued_policy_sql` document as the applications' `PolicyRead` shows it, as plain data
    (app/core/responses.py), its fields in the model's order: the id, date and money (numeric
    text with its two places) as written in JSON, which is how the model writes them; the time
    read back, so that it is written in UTC with `Z` as the model writes it."""
    return {
        "id": document["id"],
        "program_year": document["program_year"],
        "effective_date": document["effective_date"],
        "deductible": document["deductible"],
        "real_estate_status": document["real_estate_status"],
        "premium": document["premium"],
        "tax": document["tax"],
        "total": document["total"],
        "issued_at": datetime.fromisoformat(document["issued_at"]),
    }
