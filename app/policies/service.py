"""Policies: reading them, the Real Estate due diligence, and mid-term changes with their
premium adjustments."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any
from uuid import UUID

from app.accounts.roles import Role
from app.auth.principal import Principal
from app.core.audited import (
    BY_LAW_SOCIETY_NUMBER,
    UPDATED_SINCE,
    conditions,
    read_page,
    read_record,
    reread,
)
from app.core.clock import today
from app.core.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from app.core.responses import page_of
from app.core.unit_of_work import Unit
from app.policies import repository as repo
from app.policies import rules
from app.policies.models import MidTermChange, Policy, RealEstateStatus
from app.policies.schemas import (
    ChangeCreate,
    ChangeKind,
    ChangeRead,
    PolicyDetail,
    RealEstateReview,
    ReviewOutcome,
)
from app.quotes.pricing import stored_quote
from app.quotes.publishing import rate_table_of
from app.quotes.rules import (
    QuoteInput,
    compute_quote,
)
from app.users.whose import lawyer_answer

CHANGE_REQUESTERS = frozenset(
    {Role.lawyer, Role.firm_admin, Role.integration, Role.customer_service, Role.underwriter}
)
# Staff who record a paper form may say when it was received.
RECEIVING_STAFF = frozenset({Role.customer_service, Role.underwriter})
REAL_ESTATE_CHANGES = frozenset({ChangeKind.add_real_estate, ChangeKind.remove_real_estate})


async def _load(
    unit: Unit, principal: Principal, policy_id: UUID, *, for_update: bool = False
) -> Policy:
    policy = await repo.get_visible(unit.db, principal, policy_id, for_update=for_update)
    if policy is None:
        raise NotFound("No such policy.", resource_type="policy", resource_id=str(policy_id))
    return policy


def to_read(row: Mapping[Any, Any]) -> PolicyDetail:
    """A policy read with its lawyer (`repository.POLICIES`)."""
    return PolicyDetail.model_validate(policy_answer(row))


def policy_answer(row: Mapping[Any, Any]) -> dict[str, Any]:
    """`to_read` as plain data, for reads (app/core/responses.py)."""
    return {
        "id": row["id"],
        "application_id": row["application_id"],
        "lawyer_id": row["lawyer_id"],
        "lawyer": lawyer_answer(row, "lawyer_id"),
        "firm_id": row["firm_id"],
        "program_year": row["program_year"],
        "effective_date": row["effective_date"],
        "deductible": row["deductible"],
        "part_time": row["part_time"],
        "real_estate_status": row["real_estate_status"],
        "real_estate_since": row["real_estate_since"],
        "cover_ends": row["cover_ends"],
        "premium": row["premium"],
        "tax": row["tax"],
        "total": row["total"],
        "issued_at": row["issued_at"],
        "updated_at": row["updated_at"],
    }


async def read_policy(unit: Unit, principal: Principal, policy_id: UUID) -> dict[str, Any]:
    row = await read_record(
        unit, repo.POLICIES, policy_id, repo.visible_to(principal), action="policy.read"
    )
    return policy_answer(row)


async def list_policies(
    unit: Unit, principal: Principal, *, filters: Mapping[str, Any], cursor: str | None, limit: int
) -> dict[str, Any]:
    rows, next_cursor = await read_page(
        unit,
        repo.POLICIES,
        repo.visible_to(principal),
        action="policy.list",
        cursor=cursor,
        limit=limit,
        where=conditions(
            program_year=("r.program_year = :v", filters.get("program_year")),
            lawyer_id=("r.lawyer_id = :v", filters.get("lawyer_id")),
            law_society_number=(
                BY_LAW_SOCIETY_NUMBER.format(owner="r.lawyer_id"),
                filters.get("law_society_number"),
            ),
            real_estate_status=("r.real_estate_status = :v", filters.get("real_estate_status")),
            updated_since=(UPDATED_SINCE, filters.get("updated_since")),
        ),
        filters=filters,
    )
    return page_of([policy_answer(row) for row in rows], next_cursor)


async def list_changes(unit: Unit, principal: Principal, policy_id: UUID) -> list[ChangeRead]:
    policy = await _load(unit, principal, policy_id)
    changes = await repo.changes_of(unit.db, policy.id)
    unit.audit.record(
        "policy.changes.list",
        resource_type="policy",
        resource_id=policy.id,
        resource_ids=[c.id for c in changes],
        subjects=[policy.lawyer_id],
    )
    return [ChangeRead.model_validate(c) for c in changes]


async def review_real_estate(
    unit: Unit, principal: Principal, policy_id: UUID, body: RealEstateReview
) -> PolicyDetail:
    """Underwriting's due diligence on the Real Estate option: cleared puts it in force;
    refused leaves the policy without it and returns what was paid for it."""
    policy = await _load(unit, principal, policy_id, for_update=True)
    if principal.role is not Role.underwriter:
        raise Forbidden("Only underwriters review the Real Estate option.")
    if policy.real_estate_status != RealEstateStatus.pending_due_diligence:
        raise Conflict("The Real Estate option is not awaiting due diligence.")
    before = policy.real_estate_status
    if body.outcome is ReviewOutcome.cleared:
        policy.real_estate_status = RealEstateStatus.in_force
    else:
        _, tax_exempt = await _quote_inputs(unit, policy)
        refund = rules.refund_real_estate(
            await rate_table_of(unit.db, policy.program_year),
            fee_paid=policy.real_estate_fee_paid,
            effective=policy.real_estate_since or policy.effective_date,
            tax_exempt=tax_exempt,
        )
        await _apply(
            unit,
            principal,
            policy,
            kind=ChangeKind.remove_real_estate,
            received_on=today(),
            requested=None,
            adjustment=refund,
        )
        policy.real_estate_status = RealEstateStatus.not_taken
        policy.real_estate_fee_paid = policy.real_estate_fee_paid + refund.premium
    await unit.db.flush()
    unit.audit.record_change(
        "policy.real_estate_review",
        resource_type="policy",
        resource_id=policy.id,
        subjects=[policy.lawyer_id],
        before={"real_estate_status": before},
        after={"real_estate_status": policy.real_estate_status, "note": body.note},
    )
    return to_read(await reread(unit, repo.POLICIES, policy.id))


async def _quote_inputs(unit: Unit, policy: Policy) -> tuple[QuoteInput, bool]:
    quote = await stored_quote(unit.db, policy.quote_id)
    if quote.rate_table_digest != (await rate_table_of(unit.db, policy.program_year)).digest:
        # re-pricing with other rates than priced the policy would not be an adjustment
        raise Conflict(
            "The year's rate table changed since the policy was priced; staff re-rate it."
        )
    return quote.inputs, quote.inputs.indian_status_certificate


async def request_change(
    unit: Unit, principal: Principal, policy_id: UUID, body: ChangeCreate
) -> ChangeRead:
    policy = await _load(unit, principal, policy_id, for_update=True)
    if principal.role not in CHANGE_REQUESTERS:
        raise Forbidden("Your role does not request policy changes.")
    if body.received_on is not None and principal.role not in RECEIVING_STAFF:
        raise InvalidInput(
            errors=[FieldError("received_on", "not_allowed", "The date received is today's.")]
        )
    received = body.received_on or today()
    inputs, tax_exempt = await _quote_inputs(unit, policy)
    table = await rate_table_of(unit.db, policy.program_year)
    earlier = await repo.changes_of(unit.db, policy.id)
    prorated_before = any(c.pro_rated and c.kind in REAL_ESTATE_CHANGES for c in earlier)
    effective = rules.change_effective_date(received, body.requested_date)
    try:
        if body.kind is ChangeKind.add_real_estate:
            if policy.real_estate_status != RealEstateStatus.not_taken:
                raise Conflict("The policy has the Real Estate option already.")
            adjustment = rules.add_real_estate(
                table, effective=effective, prorated_before=prorated_before, tax_exempt=tax_exempt
            )
            policy.real_estate_status = RealEstateStatus.pending_due_diligence
            policy.real_estate_since = effective
            policy.real_estate_fee_paid = adjustment.premium
        elif body.kind is ChangeKind.remove_real_estate:
            if policy.real_estate_status == RealEstateStatus.not_taken:
                raise Conflict("The policy does not have the Real Estate option.")
            adjustment = rules.remove_real_estate(
                table,
                effective=effective,
                started_on=policy.real_estate_since or policy.effective_date,
                fee_paid=policy.real_estate_fee_paid,
                prorated_before=prorated_before,
                tax_exempt=tax_exempt,
            )
            policy.real_estate_status = RealEstateStatus.not_taken
            policy.real_estate_fee_paid = policy.real_estate_fee_paid + adjustment.premium
        else:
            if not policy.part_time:
                raise Conflict("The policy does not have the Part-Time option.")
            adjustment, _ = rules.lose_part_time(table, inputs, compute_quote(inputs, table))
            policy.part_time = False
    except rules.ChangeNotAllowed as exc:
        raise InvalidInput(errors=[FieldError(exc.field, exc.code, exc.message)]) from exc
    change = await _apply(
        unit,
        principal,
        policy,
        kind=body.kind,
        received_on=received,
        requested=body.requested_date,
        adjustment=adjustment,
    )
    return ChangeRead.model_validate(change)


async def _apply(
    unit: Unit,
    principal: Principal,
    policy: Policy,
    *,
    kind: ChangeKind,
    received_on: date,
    requested: date | None,
    adjustment: rules.Adjustment,
) -> MidTermChange:
    before = {"premium": policy.premium, "tax": policy.tax, "total": policy.total}
    policy.premium = policy.premium + adjustment.premium
    policy.tax = policy.tax + adjustment.tax
    policy.total = policy.total + adjustment.total
    change = MidTermChange(
        policy_id=policy.id,
        kind=kind.value,
        received_on=received_on,
        requested_date=requested,
        effective_date=adjustment.effective_date,
        premium_adjustment=adjustment.premium,
        tax_adjustment=adjustment.tax,
        total_adjustment=adjustment.total,
        pro_rated=adjustment.pro_rated,
        details={"note": adjustment.note},
        created_by_id=principal.user_id,
    )
    unit.db.add(change)
    await unit.db.flush()
    await unit.db.refresh(change)
    unit.audit.record_change(
        "policy.change",
        resource_type="policy",
        resource_id=policy.id,
        subjects=[policy.lawyer_id],
        before={**before, "kind": None},
        after={"premium": policy.premium, "tax": policy.tax, "total": policy.total, "kind": kind},
    )
    return change
