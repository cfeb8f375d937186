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

from app.core.unit_of_work import Unit
from app.policies.models import MidTermChange, Policy, RealEstateStatus

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
    limit, real_estate_option = cover_terms(options, real_estate)
    return PolicyCover(
        policy_id=policy_id,
        program_year=program_year,
        deductible=deductible,
        innocent_party_limit=limit,
        real_estate_option=real_estate_option,
    )


def cover_terms(options: dict[str, Any] | None, real_estate: str) -> tuple[Decimal, bool]:
    """A policy's Innocent Party limit (the included one, or the buy-up it chose) and whether
    its Real Estate option is in force, from its options and Real Estate status."""
    buy_up = (options or {}).get("innocent_party_sublimit")
    limit = Decimal(buy_up).quantize(Decimal("0.01")) if buy_up else INCLUDED_INNOCENT_PARTY
    return limit, real_estate == RealEstateStatus.in_force


_COVER_COLUMNS = (
    Policy.id,
    Policy.program_year,
    Policy.deductible,
    Policy.options,
    Policy.real_estate_status,
)


async def policy_in_force(db: AsyncSession, lawyer_id: UUID, on: date) -> PolicyCover | None:
    """The lawyer's policy for the program year of `on`, if it had begun by then."""
    stmt = select(*_COVER_COLUMNS).where(
        Policy.lawyer_id == lawyer_id,
        Policy.program_year == on.year,
        Policy.effective_date <= on,
    )
    row = (await db.execute(stmt)).first()
    return _cover(*row) if row else None


async def policy_cover(db: AsyncSession, policy_id: UUID) -> PolicyCover | None:
    """The cover of the policy with this id."""
    stmt = select(*_COVER_COLUMNS).where(Policy.id == policy_id)
    row = (await db.execute(stmt)).first()
    return _cover(*row) if row else None


def policy_cover_sql(policy_id: str) -> str:
    """SQL: the cover of the policy whose id is in column `policy_id`, as one JSON document,
    or NULL; its terms read back with `cover_terms`."""
    return (
        "(SELECT jsonb_build_object('id', p.id, 'program_year', p.program_year,"  # noqa: S608 (constants)
        " 'deductible', p.deductible, 'options', p.options,"
        " 'real_estate_status', p.real_estate_status)"
        f" FROM policy AS p WHERE p.id = {policy_id})"
    )


@dataclass(frozen=True)
class PolicyCharge:
    """A lawyer's policy for a program year, as an exemption's return of premium reads it."""

    policy_id: UUID
    program_year: int
    effective_date: date
    deductible: str
    premium: Decimal  # as charged, after any mid-term changes
    tax: Decimal
    total: Decimal
    real_estate: bool  # carries the Real Estate option (in force or awaiting due diligence)
    cover_ends: date | None  # already ended early by an exemption


async def policy_of_year(db: AsyncSession, lawyer_id: UUID, year: int) -> PolicyCharge | None:
    stmt = select(Policy).where(Policy.lawyer_id == lawyer_id, Policy.program_year == year)
    policy = (await db.execute(stmt)).scalars().first()
    if policy is None:
        return None
    return PolicyCharge(
        policy_id=policy.id,
        program_year=policy.program_year,
        effective_date=policy.effective_date,
        deductible=policy.deductible,
        premium=policy.premium,
        tax=policy.tax,
        total=policy.total,
        real_estate=policy.real_estate_status != RealEstateStatus.not_taken,
        cover_ends=policy.cover_ends,
    )


async def held_policy_before(db: AsyncSession, lawyer_id: UUID, year: int) -> bool:
    """Whether the lawyer held a policy under the program in a year before `year`."""
    stmt = select(Policy.id).where(Policy.lawyer_id == lawyer_id, Policy.program_year < year)
    return (await db.execute(stmt.limit(1))).first() is not None


@dataclass(frozen=True)
class EarlyEnd:
    """An exemption's return of premium, to record against the policy."""

    received_on: date
    starts_on: date  # the first day refunded
    cover_ends: date
    premium: Decimal  # refunded (positive)
    tax: Decimal
    exemption_id: UUID


async def end_cover_early(
    unit: Unit, policy_id: UUID, end: EarlyEnd, *, recorded_by_id: UUID
) -> UUID:
    """End the policy's premium-bearing cover and record the refund as an adjustment (negative)
    that the payments domain settles; the policy's figures are reduced by it."""
    policy = (
        await unit.db.execute(select(Policy).where(Policy.id == policy_id).with_for_update())
    ).scalar_one()
    change = MidTermChange(
        policy_id=policy.id,
        kind="exemption_refund",
        received_on=end.received_on,
        requested_date=None,
        effective_date=end.starts_on,
        premium_adjustment=-end.premium,
        tax_adjustment=-end.tax,
        total_adjustment=-(end.premium + end.tax),
        pro_rated=True,
        details={"exemption_id": str(end.exemption_id), "cover_ends": end.cover_ends.isoformat()},
        created_by_id=recorded_by_id,
    )
    unit.db.add(change)
    before = {"premium": policy.premium, "total": policy.total, "cover_ends": policy.cover_ends}
    policy.premium -= end.premium
    policy.tax -= end.tax
    policy.total -= end.premium + end.tax
    policy.cover_ends = end.cover_ends
    await unit.db.flush()
    unit.audit.record_change(
        "policy.exemption_refund",
        resource_type="policy",
        resource_id=policy.id,
        subjects=[policy.lawyer_id],
        before=before,
        after={"premium": policy.premium, "total": policy.total, "cover_ends": policy.cover_ends},
    )
    return change.id


@dataclass(frozen=True)
class PolicyBilling:
    """What the payments domain bills a policy from: its quote's instalments, its adjustments."""

    policy_id: UUID
    lawyer_id: UUID
    firm_id: UUID | None
    quote_id: UUID
    issued_on: date
    total: Decimal  # as charged now, after any mid-term changes


@dataclass(frozen=True)
class Adjustment:
    """A mid-term change's adjustment (an exemption's refund is one, below 0)."""

    change_id: UUID
    kind: str
    effective_date: date
    total: Decimal


async def policy_billing(db: AsyncSession, policy_id: UUID) -> PolicyBilling | None:
    stmt = select(
        Policy.id, Policy.lawyer_id, Policy.firm_id, Policy.quote_id, Policy.issued_at, Policy.total
    ).where(Policy.id == policy_id)
    row = (await db.execute(stmt)).first()
    if row is None:
        return None
    return PolicyBilling(row[0], row[1], row[2], row[3], row[4].date(), row[5])


def policy_lawyer_sql(policy: str) -> str:
    """SQL: the id of the lawyer of the policy whose id is the SQL expression `policy`."""
    return f"(SELECT p.lawyer_id FROM policy AS p WHERE p.id = {policy})"  # noqa: S608


def adjustments_sql(policy: str) -> str:
    """SQL: the ids (`id`) of the mid-term changes that moved the total of the policy whose id
    is the SQL expression `policy` (as `adjustments_of` lists them)."""
    return (
        "SELECT m.id FROM mid_term_change AS m"  # noqa: S608 (a parameter's name, not a value)
        f" WHERE m.policy_id = {policy} AND m.total_adjustment <> 0"
    )


async def adjustments_of(db: AsyncSession, policy_id: UUID) -> list[Adjustment]:
    """The policy's mid-term changes that moved its total, in the order made."""
    stmt = (
        select(
            MidTermChange.id,
            MidTermChange.kind,
            MidTermChange.effective_date,
            MidTermChange.total_adjustment,
        )
        .where(MidTermChange.policy_id == policy_id, MidTermChange.total_adjustment != 0)
        .order_by(MidTermChange.created_at, MidTermChange.id)
    )
    return [Adjustment(*row) for row in (await db.execute(stmt)).all()]


async def adjusted_policies(db: AsyncSession) -> list[tuple[UUID, UUID]]:
    """(change, policy) of every mid-term change that moved a policy's total, for a collection
    run to bring in the ones not brought in yet (a refund is paid out by the run)."""
    stmt = (
        select(MidTermChange.id, MidTermChange.policy_id)
        .where(MidTermChange.total_adjustment != 0)
        .order_by(MidTermChange.created_at, MidTermChange.id)
    )
    return [(row[0], row[1]) for row in (await db.execute(stmt)).all()]
