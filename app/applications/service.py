"""Applications: drafts, changes with If-Match, submission (every rule at once, then frozen
with its quote), underwriting decisions and the policy an approval issues."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from pydantic import ValidationError
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError

from app.accounts.roles import Role
from app.applications import repository as repo
from app.applications.form import ApplicationForm
from app.applications.models import (
    RULES_EDITION,
    Application,
    ApplicationStatus,
)
from app.applications.rules import (
    LawyerHistory,
    check_application,
    check_firm_consistency,
    consented_payor,
    new_lawyer_tier,
    tax_exempt,
)
from app.applications.schemas import (
    ApplicationCreate,
    ApplicationUpdate,
    Decision,
    DecisionCreate,
    TaxCertificateRead,
)
from app.auth.principal import Principal
from app.claims_notices.history import claims_history
from app.core.audited import (
    BY_LAW_SOCIETY_NUMBER,
    UPDATED_SINCE,
    conditions,
    read_page,
    read_record,
    reread,
)
from app.core.db import violated_constraint
from app.core.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound, RuleViolation
from app.core.etag import require_if_match
from app.core.responses import page_of, schema_fingerprint, stored_document
from app.core.unit_of_work import Unit
from app.exemptions.status import exemption_in_force
from app.firms.directory import lock_firm
from app.policies.history import new_lawyer_tier_years, years_part_time_lost
from app.policies.issuance import (
    PolicyTerms,
    issue_policy,
    issued_policy_answer,
)
from app.quotes.pricing import (
    joined_quote_answer,
    price_and_store,
    stored_quote,
)
from app.quotes.rules import QuoteInput, Violation
from app.users.acting_for import ACTING_ROLES, lawyer_acted_for
from app.users.whose import lawyer_answer

APPLICANTS = ACTING_ROLES
EDITABLE = frozenset({ApplicationStatus.draft, ApplicationStatus.information_requested})
# Staff who confirm that a copy of the Certificate of Indian Status or TCRD is on file.
CERTIFICATE_CONFIRMERS = frozenset({Role.customer_service, Role.underwriter})
DECIDED_STATUS = {
    Decision.approve: ApplicationStatus.approved,
    Decision.decline: ApplicationStatus.declined,
    Decision.request_information: ApplicationStatus.information_requested,
}


# Statuses as words in messages (the value itself stays in the record and in error codes).
STATE_WORDS = {
    ApplicationStatus.draft: "a draft",
    ApplicationStatus.submitted: "submitted",
    ApplicationStatus.information_requested: "waiting for the information underwriting asked for",
    ApplicationStatus.approved: "approved",
    ApplicationStatus.declined: "declined",
}


def _state(status: str) -> str:
    return STATE_WORDS.get(ApplicationStatus(status), status.replace("_", " "))


async def to_read(unit: Unit, app: Application) -> dict[str, Any]:
    """The application as a read answers it, after a change (one statement)."""
    return application_answer(await reread(unit, repo.APPLICATIONS, app.id))


async def create_application(
    unit: Unit, principal: Principal, body: ApplicationCreate
) -> dict[str, Any]:
    owner_id, firm_id = await lawyer_acted_for(
        unit.db, principal, body.lawyer_id, what="Applications"
    )
    app = Application(
        owner_id=owner_id,
        firm_id=firm_id,
        created_by_id=principal.user_id,
        program_year=body.program_year,
        status=ApplicationStatus.draft,
        form=body.form.model_dump(mode="json"),
        form_schema=schema_fingerprint(ApplicationForm),
    )
    unit.db.add(app)
    try:
        await unit.db.flush()
    except IntegrityError as exc:
        if violated_constraint(exc) == "uq_application_owner_year_live":
            raise Conflict(
                f"The lawyer already has an application for {body.program_year}.",
                errors=[
                    FieldError("program_year", "exists", "An application for this year exists.")
                ],
            ) from exc
        raise
    await unit.db.refresh(app)
    unit.audit.record(
        "application.create",
        resource_type="application",
        resource_id=app.id,
        subjects=[owner_id],
        details={"after": {"lawyer_id": owner_id, "program_year": body.program_year}},
    )
    return await to_read(unit, app)


async def _load(
    unit: Unit, principal: Principal, application_id: UUID, *, for_update: bool = False
) -> Application:
    app = await repo.get_visible(unit.db, principal, application_id, for_update=for_update)
    if app is None:
        raise NotFound(
            "No such application.", resource_type="application", resource_id=str(application_id)
        )
    return app


def application_answer(app: Mapping[Any, Any]) -> dict[str, Any]:
    """An application as `ApplicationRead` shows it, as plain data (app/core/responses.py), from
    its row (`APPLICATIONS`), for reads and after changes alike: the row's own
    columns, its quote and its policy as stored, and its form as stored when the current form's
    model wrote it (else validated again: a form stored by an earlier version takes the fields
    added since with their defaults)."""
    return {
        "id": app["id"],
        "lawyer_id": app["owner_id"],
        "lawyer": lawyer_answer(app, "owner_id"),
        "firm_id": app["firm_id"],
        "program_year": app["program_year"],
        "status": app["status"],
        "form": stored_document(ApplicationForm, app["form"], app["form_schema"]),
        "quote": joined_quote_answer(app),
        "policy": issued_policy_answer(app),
        "submitted_at": app["submitted_at"],
        "decided_at": app["decided_at"],
        "decision_note": app["decision_note"],
        "tax_certificate_on_file": app["tax_certificate_confirmed_at"] is not None,
        "created_at": app["created_at"],
        "updated_at": app["updated_at"],
        "version": app["version"],
    }


async def read_application(
    unit: Unit, principal: Principal, application_id: UUID
) -> dict[str, Any]:
    row = await read_record(
        unit,
        repo.APPLICATIONS,
        application_id,
        repo.visible_to(principal),
        action="application.read",
    )
    return application_answer(row)


async def list_applications(
    unit: Unit,
    principal: Principal,
    *,
    filters: Mapping[str, Any],
    cursor: str | None,
    limit: int,
) -> dict[str, Any]:
    rows, next_cursor = await read_page(
        unit,
        repo.APPLICATIONS,
        repo.visible_to(principal),
        action="application.list",
        cursor=cursor,
        limit=limit,
        where=conditions(
            program_year=("r.program_year = :v", filters.get("program_year")),
            status=("r.status = :v", filters.get("status")),
            lawyer_id=("r.owner_id = :v", filters.get("lawyer_id")),
            law_society_number=(
                BY_LAW_SOCIETY_NUMBER.format(owner="r.owner_id"),
                filters.get("law_society_number"),
            ),
            submitted_from=("r.submitted_at >= CAST(:v AS date)", filters.get("submitted_from")),
            submitted_to=(
                "r.submitted_at < CAST(:v AS date) + 1",
                filters.get("submitted_to"),
            ),
            updated_since=(UPDATED_SINCE, filters.get("updated_since")),
        ),
        filters=filters,
    )
    return page_of([application_answer(r) for r in rows], next_cursor)


def _merge(form: dict[str, Any], changes: dict[str, dict[str, Any]]) -> ApplicationForm:
    merged = {name: dict(section) for name, section in form.items()}
    for name, fields in changes.items():
        if name not in merged:
            raise InvalidInput(
                errors=[FieldError(f"form.{name}", "unknown_section", "Sections are a to f.")]
            )
        merged[name].update(fields)
    try:
        return ApplicationForm.model_validate(merged)
    except ValidationError as exc:
        raise InvalidInput(
            errors=[
                FieldError("form." + ".".join(str(p) for p in err["loc"]), err["type"], err["msg"])
                for err in exc.errors()
            ]
        ) from exc


async def update_application(
    unit: Unit,
    principal: Principal,
    application_id: UUID,
    body: ApplicationUpdate,
    if_match: str | None,
) -> dict[str, Any]:
    app = await _load(unit, principal, application_id, for_update=True)
    if principal.role not in APPLICANTS:
        raise Forbidden("Only the applicant or their firm changes an application.")
    require_if_match(if_match, app.version)
    if app.status not in EDITABLE:
        raise Conflict(f"The application is {_state(app.status)}: it cannot be changed.")
    before = app.form
    app.form = _merge(app.form, body.form.given()).model_dump(mode="json")
    app.form_schema = schema_fingerprint(ApplicationForm)
    await unit.db.flush()
    await unit.db.refresh(app)
    unit.audit.record_change(
        "application.update",
        resource_type="application",
        resource_id=app.id,
        subjects=[app.owner_id],
        before={f"{s}.{k}": v for s, fields in before.items() for k, v in fields.items()},
        after={f"{s}.{k}": v for s, fields in app.form.items() for k, v in fields.items()},
    )
    return await to_read(unit, app)


def quote_input(form: ApplicationForm, program_year: int, *, tax_exempt: bool) -> QuoteInput:
    """The quote an application's answers ask for; `tax_exempt` only with the certificate's
    copy confirmed on file (a bare POST /quotes may still assume it)."""
    a, c, e = form.a, form.c, form.e
    assert c.effective_date and c.deductible and e.payment_plan and a.years_in_practice is not None
    return QuoteInput(
        program_year=program_year,
        effective_date=c.effective_date,
        years_in_practice=a.years_in_practice,
        deductible=c.deductible,
        restricted_practice=c.restricted_practice,
        part_time=c.part_time,
        real_estate=c.real_estate,
        innocent_party_sublimit=c.innocent_party_sublimit,
        risk_management_programs=c.risk_management_programs,
        indian_status_certificate=tax_exempt,
        payment_plan=e.payment_plan,
    )


def _as_errors(violations: list[Any]) -> list[FieldError]:
    return [FieldError(f"form.{v.field}", v.code, v.message) for v in violations]


def _parsed(raw: dict[str, Any]) -> ApplicationForm | None:
    try:
        return ApplicationForm.model_validate(raw)
    except ValidationError:  # an old form that today's schema no longer reads
        return None


async def _history(unit: Unit, app: Application) -> LawyerHistory:
    """What the rules need besides the form, read through each domain's published interface."""
    earlier = [
        _parsed(raw) for raw in await repo.earlier_forms(unit.db, app.owner_id, app.program_year)
    ]
    return LawyerHistory(
        claims=await claims_history(unit.db, app.owner_id),
        tier_years=await new_lawyer_tier_years(unit.db, app.owner_id, app.program_year),
        application_started_on=app.created_at.date(),
        part_time_lost_years=await years_part_time_lost(unit.db, app.owner_id),
        consented_payors=frozenset(
            key for form in earlier if form and (key := consented_payor(form)) is not None
        ),
        tax_certificate_on_file=app.tax_certificate_confirmed_at is not None,
    )


async def _exempt(unit: Unit, app: Application, form: ApplicationForm) -> list[Any]:
    """An accepted exemption in force on the effective date: no application for that period."""
    effective = form.c.effective_date
    exempt = await exemption_in_force(unit.db, app.owner_id, effective) if effective else None
    if exempt is None:
        return []
    return [
        Violation(
            "c.effective_date",
            "exempt",
            f"The lawyer is exempt (reason ({exempt.reason})) from "
            f"{exempt.effective_date.isoformat()}: end the exemption with POST "
            f"/exemptions/{exempt.exemption_id}/end before applying for this period.",
        )
    ]


async def submit_application(
    unit: Unit, principal: Principal, application_id: UUID
) -> dict[str, Any]:
    """Check every rule at once; either 422/409 listing each broken rule by field, or freeze the
    application with its quote. Submissions of one firm's lawyers are serialized."""
    app = await _load(unit, principal, application_id, for_update=True)
    if principal.role not in APPLICANTS:
        raise Forbidden("Only the applicant or their firm submits an application.")
    if app.status not in EDITABLE:
        raise Conflict(f"The application is {_state(app.status)}: it cannot be submitted.")
    form = ApplicationForm.model_validate(app.form)
    history = await _history(unit, app)
    violations = check_application(form, history, program_year=app.program_year)
    violations += await _exempt(unit, app, form)
    if violations:
        raise RuleViolation(
            f"The application breaks {len(violations)} rule(s); see errors.",
            errors=_as_errors(violations),
        )
    if app.firm_id is not None:
        await lock_firm(unit.db, app.firm_id)
        others = await repo.firm_applications(
            unit.db, app.firm_id, app.program_year, excluding=app.id
        )
        conflicts = check_firm_consistency(
            form, [ApplicationForm.model_validate(o.form) for o in others]
        )
        if conflicts:
            raise Conflict(
                "The application disagrees with choices the firm's lawyers made together.",
                errors=_as_errors(conflicts),
            )
    quote = await price_and_store(
        unit,
        quote_input(form, app.program_year, tax_exempt=tax_exempt(form, history)),
        owner_id=app.owner_id,
        firm_id=app.firm_id,
        created_by_id=principal.user_id,
    )
    before = app.status
    app.quote_id = quote.id
    app.status = ApplicationStatus.submitted
    app.submitted_at = func.now()
    app.submitted_by_id = principal.user_id
    app.rules_edition = RULES_EDITION
    await unit.db.flush()
    await unit.db.refresh(app)
    unit.audit.record_change(
        "application.submit",
        resource_type="application",
        resource_id=app.id,
        subjects=[app.owner_id],
        before={"status": before},
        after={
            "status": app.status,
            "quote_id": quote.id,
            "total": str(quote.total),
            "rules_edition": app.rules_edition,
        },
    )
    return await to_read(unit, app)


async def decide_application(
    unit: Unit, principal: Principal, application_id: UUID, body: DecisionCreate
) -> dict[str, Any]:
    """An underwriter's decision; approval issues the policy for the program year."""
    app = await _load(unit, principal, application_id, for_update=True)
    if principal.role is not Role.underwriter:
        raise Forbidden("Only underwriters decide applications.")
    if app.status != ApplicationStatus.submitted:
        raise Conflict(f"The application is {_state(app.status)}, not awaiting a decision.")
    before = app.status
    app.status = DECIDED_STATUS[body.decision]
    app.decided_at = func.now()
    app.decided_by_id = principal.user_id
    app.decision_note = body.note
    if body.decision is Decision.approve:
        await _issue_policy(unit, app)
    await unit.db.flush()
    await unit.db.refresh(app)
    unit.audit.record_change(
        "application.decision",
        resource_type="application",
        resource_id=app.id,
        subjects=[app.owner_id],
        before={"status": before},
        after={"status": app.status, "note": body.note},
    )
    return await to_read(unit, app)


async def _issue_policy(unit: Unit, app: Application) -> None:
    assert app.quote_id is not None
    form = ApplicationForm.model_validate(app.form)
    assert form.c.effective_date and form.c.deductible
    await issue_policy(
        unit,
        PolicyTerms(
            application_id=app.id,
            lawyer_id=app.owner_id,
            firm_id=app.firm_id,
            program_year=app.program_year,
            effective_date=form.c.effective_date,
            deductible=form.c.deductible.value,
            new_lawyer_tier=new_lawyer_tier(form.a.years_in_practice),
            options=form.c.model_dump(mode="json"),
            real_estate=bool(form.c.real_estate),
            part_time=bool(form.c.part_time),
            quote=await stored_quote(unit.db, app.quote_id),
        ),
    )


async def confirm_tax_certificate(
    unit: Unit, principal: Principal, application_id: UUID, if_match: str | None
) -> TaxCertificateRead:
    """Staff confirm that a copy of the lawyer's Certificate of Indian Status or TCRD is on file,
    so the submission is priced without sales tax (until a documents domain holds the copy)."""
    app = await _load(unit, principal, application_id, for_update=True)
    if principal.role not in CERTIFICATE_CONFIRMERS:
        raise Forbidden("Only customer service and underwriters confirm a certificate on file.")
    require_if_match(if_match, app.version)
    if app.status not in EDITABLE:
        raise Conflict(
            f"The application is {_state(app.status)} and priced already; the confirmation counts "
            "only before "
            "it is submitted."
        )
    if app.tax_certificate_confirmed_at is None:
        app.tax_certificate_confirmed_at = func.now()
        app.tax_certificate_confirmed_by_id = principal.user_id
        await unit.db.flush()
        await unit.db.refresh(app)
        unit.audit.record_change(
            "application.tax_certificate_confirm",
            resource_type="application",
            resource_id=app.id,
            subjects=[app.owner_id],
            before={"tax_certificate_on_file": False},
            after={"tax_certificate_on_file": True, "confirmed_by_id": principal.user_id},
        )
    assert app.tax_certificate_confirmed_at is not None
    return TaxCertificateRead(
        application_id=app.id,
        confirmed_at=app.tax_certificate_confirmed_at,
        confirmed_by_id=app.tax_certificate_confirmed_by_id,
        version=app.version,
    )
