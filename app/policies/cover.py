"""The cover a lawyer's policy gives on a day (the published interface of policies for the
claims-notices domain): the deductible option and the sublimits a claim is measured against."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.policies.models import Policy, RealEstateStatus

INCLUDED_INNOCENT_PARTY = Decimal("250000.00")


@dataclass(frozen=True)
class PolicyCover:
    policy_id: UUID
    program_year: int
    deductible: str  # the option: nil, 2500_combined, ..., 25000_combined
    innocent_party_limit: Decimal
    real_estate_option: bool  # the Real Estate option is in force


def _cover(
    policy_id: UUID, program_year: int, deductible: str, options: dict[str, Any], real_estate: str
) -> PolicyCover:
    buy_up = (options or {}).get("innocent_party_sublimit")
    return PolicyCover(
        policy_id=policy_id,
        program_year=program_year,
        deductible=deductible,
        innocent_party_limit=Decimal(buy_up).quantize(Decimal("0.01"))
        if buy_up
        else INCLUDED_INNOCENT_PARTY,
        real_estate_option=real_estate == RealEstateStatus.in_force,
    )


async def policy_in_force(db: AsyncSession, lawyer_id: UUID, on: date) -> PolicyCover | None:
    """The lawyer's policy for the program year of `on`, if it had begun by then."""
    stmt = select(
        Policy.id, Policy.program_year, Policy.deductible, Policy.options, Policy.real_estate_status
    ).where(
        Policy.lawyer_id == lawyer_id,
        Policy.program_year == on.year,
        Policy.effective_date <= on,
    )
    row = (await db.execute(stmt)).first()
    return _cover(*row) if row else None


def policy_cover_sql(policy_id: str) -> str:
    """SQL: the cover of the policy whose id is in column `policy_id`, as one JSON document,
    or NULL; read it back with `cover_from_document`."""
    return (
        "(SELECT jsonb_build_object('id', p.id, 'program_year', p.program_year,"  # noqa: S608 (constants)
        " 'deductible', p.deductible, 'options', p.options,"
        " 'real_estate_status', p.real_estate_status)"
        f" FROM policy AS p WHERE p.id = {policy_id})"
    )


def cover_from_document(document: dict[str, Any]) -> PolicyCover:
    return _cover(
        UUID(document["id"]),
        int(document["program_year"]),
        document["deductible"],
        document["options"],
        document["real_estate_status"],
    )
