"""Exemptions: drafts, changes with If-Match, submission (every rule at once), staff review of
proof, the coverage while exempt, the return of premium an accepted exemption produces, and
the end of an exemption when the lawyer returns to practice."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from fastapi import Request
from pydantic import ValidationError
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError

from app.accounts.roles import Role
from app.auth.principal import Principal
from app.core.audited import UPDATED_SINCE, conditions, read_page, read_record, reread
from app.core.clock import today as _today
from app.core.db import violated_constraint
from app.core.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound, RuleViolation
from app.core.etag import require_if_match
from app.core.responses import page_of, schema_fingerprint, stored_document
from app.core.unit_of_work import Unit
from app.documents.attachments import (
    Attachment,
    DocumentRead,
    attach,
    download_recorded,
    list_recorded,
    receive_upload,
)
from app.exemptions import repository as repo
from app.exemptions.form import ExemptionForm, Reason
from app.exemptions.models import Exemption, ExemptionStatus
from app.exemptions.rules import (
    PRACTICE_AGGREGATE,
    PRACTICE_PER_CLAIM,
    LawyerFacts,
    PolicyLimits,
    check_exemption,
    coverage_while_exempt,
    needs_review,
    premium_refund,
)
from app.exemptions.schemas import (
    Channel,
    Decision,
    ExemptionCreate,
    ExemptionEnd,
    ExemptionUpdate,
    RefundRead,
    ReviewCreate,
)
from app.policies.cover import EarlyEnd, end_cover_early, held_policy_before, policy_of_year
from app.quotes.publishing import rate_table_of
from app.quotes.rules import DEDUCTIBLE_AMOUNTS, Deductible, Violation
from app.quotes.schemas import money_text
from app.users.acting_for import lawyer_on_record
from app.users.whose import lawyer_answer

FILERS = frozenset({Role.lawyer, Role.customer_service, Role.underwriter})
REVIEWERS = frozenset({Role.customer_service, Role.underwriter})
RESOURCE = "exemption"
# Form fields that hold a section: a change merges into them field by field.
SECTIONS = frozenset({"mailing_address", "employer_address", "b", "c", "d", "e", "f", "g", "h"})


def _state(status: str) -> str:
    """A status as words for a message ("pending_review" -> "waiting for staff review")."""
    return {"pending_review": "waiting for staff review", "draft": "a draft"}.get(
        status, status.replace("_", " ")
    )


def _coverage(
    form: ExemptionForm | Mapping[str, Any], facts: Mapping[str, Any]
) -> dict[str, Any] | None:
    """The coverage while exempt of a form (a model, or a document its current version wrote),
    as `CoverageRead` shows it, as plain data (app/core/responses.py); None until the reason
    and effective date are given."""
    if isinstance(form, ExemptionForm):
        reason, effective_date = form.reason, form.effective_date
    else:
        given, on = form.get("reason"), form.get("effective_date")
        reason = Reason(given) if given is not None else None
        effective_date = date.fromisoformat(on) if on is not None else None
    if reason is None or effective_date is None:
        return None
    current = facts.get("current_deductible")
    coverage = coverage_while_exempt(
        reason,
        previously_covered=bool(facts.get("previously_covered")),
        starts_at_year_start=(effective_date.month, effective_date.day) == (1, 1),
        current_policy=PolicyLimits(
            PRACTICE_PER_CLAIM, PRACTICE_AGGREGATE, DEDUCTIBLE_AMOUNTS[Deductible(current)]
        )
        if current is not None
        else None,
    )
    return {
        "kind": coverage.kind,
        "per_claim": _money_or_none(coverage.per_claim),
        "aggregate": _money_or_none(coverage.aggregate),
        "deductible": _money_or_none(coverage.deductible),
        "aggregate_reinstated_annually": coverage.aggregate_reinstated_annually,
        "note": coverage.note,
        "services_still_covered": list(coverage.services_still_covered),
    }


def _money_or_none(value: Decimal | None) -> str | None:
    return None if value is None else money_text(value)


def exemption_answer(row: Mapping[Any, Any]) -> dict[str, Any]:
    """`to_read` as plain data, for reads (app/core/responses.py): the form as stored when the
    current version of its model wrote it (else validated again, taking the fields added since),
    the coverage computed."""
    form = stored_document(ExemptionForm, row["form"], row["form_schema"])
    refund = row["refund"]
    return {
        "id": row["id"],
        "lawyer_id": row["owner_id"],
        "lawyer": lawyer_answer(row, "owner_id"),
        "filed_by_id": row["filed_by_id"],
        "status": row["status"],
        "channel": row["channel"],
        "form": form,
        "received_on": row["received_on"],
        "needs_review": row["needs_review"],
        "coverage": _coverage(form, row["facts"] or {}),
        "refund": RefundRead.model_validate(refund) if refund else None,
        "review_note": row["review_note"],
        "reviewed_at": row["reviewed_at"],
        "ended_on": row["ended_on"],
        "submitted_at": row["submitted_at"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "version": row["version"],
    }


async def _reread(unit: Unit, exemption: Exemption) -> dict[str, Any]:
    """The exemption as saved (the database's clock and version included), answered as a read
    answers it (its form in stored order), so that reads and changes agree byte for byte."""
    return exemption_answer(await reread(unit, repo.EXEMPTIONS, exemption.id))


async def _refresh_facts(unit: Unit, exemption: Exemption, form: ExemptionForm) -> None:
    """What the coverage while exempt depends on besides the form: whether the lawyer held a
    policy in an earlier year, and the current policy's deductible (a leave taken mid-year)."""
    if form.effective_date is None:
        exemption.facts = {}
        return
    year = form.effective_date.year
    policy = await policy_of_year(unit.db, exemption.owner_id, year)
    exemption.facts = {
        "previously_covered": await held_policy_before(unit.db, exemption.owner_id, year),
        "current_deductible": policy.deductible if policy else None,
    }


def _invalid_form(exc: ValidationError) -> InvalidInput:
    return InvalidInput(
        errors=[
            FieldError("form." + ".".join(str(p) for p in err["loc"]), err["type"], err["msg"])
            for err in exc.errors()
        ]
    )


# ---------------------------------------------------------------------------------------------
# Drafts


async def create_exemption(
    unit: Unit, principal: Principal, body: ExemptionCreate
) -> dict[str, Any]:
    errors: list[FieldError] = []
    if principal.role is Role.lawyer:
        if body.lawyer_id not in (None, principal.user_id):
            errors.append(FieldError("lawyer_id", "not_allowed", "Lawyers file for themselves."))
        if body.channel is not Channel.portal or body.received_on is not None:
            errors.append(FieldError("channel", "not_allowed", "Paper forms are entered by staff."))
        owner_id = principal.user_id
    else:
        owner_id, _ = await lawyer_on_record(unit.db, body.lawyer_id)
        if body.channel is not Channel.paper:
            errors.append(FieldError("channel", "staff_channel", "Staff enter paper forms."))
    if body.received_on is not None and body.received_on > _today():
        errors.append(FieldError("received_on", "in_future", "Must not be after today."))
    if errors:
        raise InvalidInput(errors=errors)
    exemption = Exemption(
        owner_id=owner_id,
        filed_by_id=principal.user_id,
        status=ExemptionStatus.draft,
        channel=body.channel,
        form=body.form.model_dump(mode="json"),
        form_schema=schema_fingerprint(ExemptionForm),
        received_on=body.received_on,
    )
    await _refresh_facts(unit, exemption, body.form)
    unit.db.add(exemption)
    await unit.db.flush()
    unit.audit.record(
        "exemption.create",
        resource_type=RESOURCE,
        resource_id=exemption.id,
        subjects=[owner_id],
        details={"after": {"lawyer_id": owner_id, "channel": body.channel}},
    )
    return await _reread(unit, exemption)


async def _load(
    unit: Unit, principal: Principal, exemption_id: UUID, *, for_update: bool = True
) -> Exemption:
    exemption = await repo.get_visible(unit.db, principal, exemption_id, for_update=for_update)
    if exemption is None:
        raise NotFound("No such exemption.", resource_type=RESOURCE, resource_id=str(exemption_id))
    return exemption


def _may_file(principal: Principal, exemption: Exemption) -> None:
    if principal.role not in FILERS or (
        principal.role is Role.lawyer and exemption.owner_id != principal.user_id
    ):
        raise Forbidden("Only the lawyer, or staff entering a paper form, change an exemption.")


def _merge(form: dict[str, Any], changes: dict[str, Any]) -> ExemptionForm:
    merged = dict(form)
    for name, value in changes.items():
        if name in SECTIONS and isinstance(value, dict) and isinstance(merged.get(name), dict):
            merged[name] = {**merged[name], **value}
        else:
            merged[name] = value
    try:
        return ExemptionForm.model_validate(merged)
    except ValidationError as exc:
        raise _invalid_form(exc) from exc


async def update_exemption(
    unit: Unit,
    principal: Principal,
    exemption_id: UUID,
    body: ExemptionUpdate,
    if_match: str | None,
) -> dict[str, Any]:
    exemption = await _load(unit, principal, exemption_id)
    _may_file(principal, exemption)
    require_if_match(if_match, exemption.version)
    if exemption.status != ExemptionStatus.draft:
        raise Conflict(f"The exemption is {_state(exemption.status)}: only a draft changes.")
    before = dict(exemption.form)
    form = _merge(exemption.form, body.form)
    exemption.form = form.model_dump(mode="json")
    exemption.form_schema = schema_fingerprint(ExemptionForm)
    await _refresh_facts(unit, exemption, form)
    await unit.db.flush()
    unit.audit.record_change(
        "exemption.update",
        resource_type=RESOURCE,
        resource_id=exemption.id,
        subjects=[exemption.owner_id],
        before=before,
        after=exemption.form,
    )
    return await _reread(unit, exemption)


# ---------------------------------------------------------------------------------------------
# Submission, review, the return of premium


async def submit_exemption(unit: Unit, principal: Principal, exemption_id: UUID) -> dict[str, Any]:
    """Every rule at once (422 naming each field), then: waiting for staff to check proof or
    pro bono services, or accepted at once (ending the year's policy with its refund)."""
    exemption = await _load(unit, principal, exemption_id)
    _may_file(principal, exemption)
    if exemption.status != ExemptionStatus.draft:
        raise Conflict(f"The exemption is {_state(exemption.status)} already.")
    form = ExemptionForm.model_validate(exemption.form)
    today = _today()
    await _refresh_facts(unit, exemption, form)
    violations = check_exemption(
        form,
        LawyerFacts(
            called_on=form.called_to_bar_on,
            previously_covered=bool(exemption.facts.get("previously_covered")),
        ),
        today=today,
    )
    if principal.role is not Role.lawyer and exemption.received_on is None:
        violations.append(
            Violation("received_on", "required", "Give the day the paper form was received.")
        )
    if violations:
        raise RuleViolation(
            f"The exemption breaks {len(violations)} rule(s); see errors.",
            errors=[FieldError(_field(v.field), v.code, v.message) for v in violations],
        )
    assert form.effective_date is not None
    exemption.effective_date = form.effective_date
    exemption.received_on = exemption.received_on or today
    exemption.submitted_at = func.now()
    exemption.needs_review = needs_review(form)
    exemption.status = (
        ExemptionStatus.pending_review if exemption.needs_review else ExemptionStatus.accepted
    )
    await _flush_live(unit)
    if exemption.status == ExemptionStatus.accepted:
        await _return_premium(unit, principal, exemption, form)
    unit.audit.record_change(
        "exemption.submit",
        resource_type=RESOURCE,
        resource_id=exemption.id,
        subjects=[exemption.owner_id],
        before={"status": ExemptionStatus.draft},
        after={"status": exemption.status, "received_on": exemption.received_on},
    )
    return await _reread(unit, exemption)


def _field(rule_field: str) -> str:
    """A rule names a form field; the API names it inside `form` (or a field of its own)."""
    return rule_field if rule_field == "received_on" else f"form.{rule_field}"


async def _flush_live(unit: Unit) -> None:
    try:
        await unit.db.flush()
    except IntegrityError as exc:
        if violated_constraint(exc) == "uq_exemption_owner_live":
            raise Conflict(
                "The lawyer already has an exemption in force or under review; end it first."
            ) from exc
        raise


async def _return_premium(
    unit: Unit, principal: Principal, exemption: Exemption, form: ExemptionForm
) -> None:
    """A lawyer with a policy for the exemption's year: the policy's premium-bearing cover ends
    and the premium is returned pro rata (RULES.md §3), as an adjustment on the policy."""
    assert form.effective_date is not None and exemption.received_on is not None
    year = form.effective_date.year
    policy = await policy_of_year(unit.db, exemption.owner_id, year)
    if policy is None or policy.cover_ends is not None:
        return
    table = await rate_table_of(unit.db, year)
    refund = premium_refund(
        premium=policy.premium,
        tax_rate=table.tax_percent / 100,
        tax_exempt=policy.tax == 0,
        policy_effective=policy.effective_date,
        program_year=year,
        exemption_effective=form.effective_date,
        received=exemption.received_on,
        real_estate=policy.real_estate,
        charged_total=policy.total,
    )
    await end_cover_early(
        unit,
        policy.policy_id,
        EarlyEnd(
            received_on=exemption.received_on,
            starts_on=refund.start,
            cover_ends=refund.cover_ends,
            premium=refund.premium,
            tax=refund.tax,
            exemption_id=exemption.id,
        ),
        recorded_by_id=principal.user_id,
    )
    exemption.policy_id = policy.policy_id
    exemption.refund = RefundRead(
        policy_id=policy.policy_id,
        start=refund.start,
        days=refund.days,
        policy_days=refund.policy_days,
        premium=refund.premium,
        tax=refund.tax,
        total=refund.total,
        cover_ends=refund.cover_ends,
    ).model_dump(mode="json")
    exemption.refund_total = refund.total


async def review_exemption(
    unit: Unit, principal: Principal, exemption_id: UUID, body: ReviewCreate
) -> dict[str, Any]:
    """Staff checked the proof of coverage (or the pro bono services): accepted (the return of
    premium follows) or refused with a reason."""
    exemption = await _load(unit, principal, exemption_id)
    if exemption.status != ExemptionStatus.pending_review:
        raise Conflict(f"The exemption is {_state(exemption.status)}, not awaiting review.")
    if body.decision is Decision.refuse and not body.reason:
        raise InvalidInput(
            errors=[FieldError("reason", "required", "Say why the exemption is refused.")]
        )
    exemption.status = (
        ExemptionStatus.accepted if body.decision is Decision.accept else ExemptionStatus.refused
    )
    exemption.review_note = body.reason
    exemption.reviewed_at = func.now()
    exemption.reviewed_by_id = principal.user_id
    await unit.db.flush()
    if exemption.status == ExemptionStatus.accepted:
        await _return_premium(
            unit, principal, exemption, ExemptionForm.model_validate(exemption.form)
        )
    unit.audit.record_change(
        "exemption.review",
        resource_type=RESOURCE,
        resource_id=exemption.id,
        subjects=[exemption.owner_id],
        before={"status": ExemptionStatus.pending_review},
        after={"status": exemption.status, "reason": body.reason},
    )
    return await _reread(unit, exemption)


async def end_exemption(
    unit: Unit, principal: Principal, exemption_id: UUID, body: ExemptionEnd
) -> dict[str, Any]:
    """The lawyer's practice status changes: the exemption is no longer in force from that day
    (an application for the period after it can then be submitted)."""
    exemption = await _load(unit, principal, exemption_id)
    _may_file(principal, exemption)
    if exemption.status != ExemptionStatus.accepted:
        raise Conflict(f"Only an accepted exemption ends; this one is {_state(exemption.status)}.")
    assert exemption.effective_date is not None
    day = body.practice_status_changed_on
    if day <= exemption.effective_date:
        raise InvalidInput(
            errors=[
                FieldError(
                    "practice_status_changed_on",
                    "before_effective_date",
                    "Must be after the exemption took effect.",
                )
            ]
        )
    exemption.status = ExemptionStatus.ended
    exemption.ended_on = day
    await unit.db.flush()
    unit.audit.record_change(
        "exemption.end",
        resource_type=RESOURCE,
        resource_id=exemption.id,
        subjects=[exemption.owner_id],
        before={"status": ExemptionStatus.accepted},
        after={"status": exemption.status, "ended_on": day},
    )
    return await _reread(unit, exemption)


# ---------------------------------------------------------------------------------------------
# Reading


async def read_exemption(unit: Unit, principal: Principal, exemption_id: UUID) -> dict[str, Any]:
    row = await read_record(
        unit, repo.EXEMPTIONS, exemption_id, repo.visible_to(principal), action="exemption.read"
    )
    return exemption_answer(row)


async def list_exemptions(
    unit: Unit,
    principal: Principal,
    *,
    filters: Mapping[str, Any],
    cursor: str | None,
    limit: int,
) -> dict[str, Any]:
    rows, next_cursor = await read_page(
        unit,
        repo.EXEMPTIONS,
        repo.visible_to(principal),
        action="exemption.list",
        cursor=cursor,
        limit=limit,
        where=conditions(
            status=("r.status = :v", filters.get("status")),
            reason=("r.form->>'reason' = :v", filters.get("reason")),
            lawyer_id=("r.owner_id = :v", filters.get("lawyer_id")),
            updated_since=(UPDATED_SINCE, filters.get("updated_since")),
        ),
        filters=filters,
    )
    return page_of([exemption_answer(r) for r in rows], next_cursor)


# ---------------------------------------------------------------------------------------------
# Proof of coverage and other documents


def _documents_of(exemption: Exemption) -> Attachment:
    return Attachment(RESOURCE, exemption.id)


async def attach_document(
    unit: Unit, principal: Principal, exemption_id: UUID, request: Request
) -> DocumentRead:
    exemption = await _load(unit, principal, exemption_id)
    _may_file(principal, exemption)
    upload = await receive_upload(request)
    return await attach(
        unit,
        upload,
        owner_id=exemption.owner_id,
        attached_to=_documents_of(exemption),
        uploaded_by_id=principal.user_id,
        action="exemption.document_upload",
    )


async def list_documents(
    unit: Unit, principal: Principal, exemption_id: UUID
) -> list[DocumentRead]:
    exemption = await _load(unit, principal, exemption_id, for_update=False)
    return await list_recorded(
        unit, _documents_of(exemption), action="exemption.documents", subject=exemption.owner_id
    )


async def document_to_download(
    unit: Unit, principal: Principal, exemption_id: UUID, document_id: UUID
) -> DocumentRead:
    exemption = await _load(unit, principal, exemption_id, for_update=False)
    return await download_recorded(
        unit,
        _documents_of(exemption),
        document_id,
        action="exemption.document_download",
        subject=exemption.owner_id,
    )
