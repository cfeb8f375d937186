"""Claims notices: filing a notice (or saving a draft), the claims file staff work on it
(acknowledgement, counsel, milestones, costs, the facts) and the deductible called."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from fastapi import Request
from sqlalchemy import func

from app.accounts.roles import Role
from app.auth.principal import Principal
from app.claims_notices import repository as repo
from app.claims_notices.models import (
    Channel,
    ClaimFileEntry,
    ClaimNotice,
    DeductibleCall,
    FileEntryType,
    NoticeStatus,
)
from app.claims_notices.rules import (
    ClaimDeductible,
    CostEvent,
    CostKind,
    DeductibleFacts,
    FileEvent,
    Milestone,
    MilestoneEvent,
    SublimitFacts,
    applicable_sublimits,
    check_event,
    claim_deductible,
    deductible_calls,
)
from app.claims_notices.schemas import (
    ClaimsHistoryItem,
    ClaimsHistoryRead,
    ClaimsNoticeCreate,
    ClaimsNoticeRead,
    ClaimsNoticeUpdate,
    CostCreate,
    CounselAssign,
    MilestoneCreate,
    NoticeFacts,
)
from app.core.audited import UPDATED_SINCE, conditions, read_page, read_record
from app.core.clock import today as _today
from app.core.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound, RuleViolation
from app.core.etag import require_if_match
from app.core.responses import page_of
from app.core.unit_of_work import Unit
from app.documents.attachments import (
    Attachment,
    DocumentRead,
    attach,
    download_recorded,
    list_recorded,
    receive_upload,
)
from app.policies.cover import (
    INCLUDED_INNOCENT_PARTY,
    cover_terms,
    policy_cover,
    policy_in_force,
)
from app.quotes.rules import Deductible
from app.quotes.schemas import money_text
from app.users.acting_for import (
    ACTING_ROLES,
    active_user_with_role,
    lawyer_acted_for,
    lawyer_on_record,
)
from app.users.whose import lawyer_answer

FILERS = ACTING_ROLES | {Role.claims}
STAFF_CHANNELS = frozenset({Channel.paper, Channel.telephone})
# What the filer describes; the rest of a notice is the insurer's.
MATTER_FIELDS = (
    "kind",
    "awareness_date",
    "client_name",
    "matter_description",
    "retainer_date",
    "claimant",
    "alleged_error",
    "potential_damages",
    "chronology",
    "reported_on_section_d",
)
RESOURCE = "claims_notice"
CLOSING = frozenset({Milestone.closed, Milestone.closed_without_payment})


# ---------------------------------------------------------------------------------------------
# Answers


# A notice's facts as answered: every fact, the stored ones over the defaults (read once).
_FACT_DEFAULTS = NoticeFacts().model_dump(mode="json")


def _facts(stored: Mapping[str, Any] | None, steps: Sequence[str] | None) -> dict[str, Any]:
    """A notice's facts as answered (`NoticeFacts`): the stored facts (validated when written)
    over the defaults, and the protective steps taken, kept in a column of their own."""
    given = stored or {}
    facts = {name: given.get(name, default) for name, default in _FACT_DEFAULTS.items()}
    facts["social_engineering_steps"] = list(steps or [])
    return facts


def _deductible_facts(facts: Mapping[str, Any]) -> DeductibleFacts:
    """The facts that change a claim's deductible, of a notice's facts (as answered)."""
    return DeductibleFacts(
        counterfeit_instrument=facts["counterfeit_instrument"],
        title_insured_no_levy=facts["title_insured_no_levy"],
        conflict_of_interest=facts["conflict_of_interest"],
        administrative_dismissal=facts["administrative_dismissal"],
    )


def claim_deductible_of(option: str | None, facts: DeductibleFacts) -> ClaimDeductible | None:
    """The deductible of the claim: the option of the policy in force when the notice was
    received, with the facts that change it (RULES.md §4); none without a policy."""
    if option is None:
        return None
    return claim_deductible(Deductible(option), facts)


def to_read(row: Mapping[Any, Any]) -> ClaimsNoticeRead:
    """A notice read with its file, calls and cover (`repository.NOTICES`), after a change."""
    return ClaimsNoticeRead.model_validate(notice_answer(row))


def _money_or_none(value: Any) -> str | None:
    """Money stored in a column (a Decimal) or read from a JSON document (a number)."""
    return None if value is None else money_text(Decimal(str(value)))


def notice_answer(row: Mapping[Any, Any]) -> dict[str, Any]:
    """`ClaimsNoticeRead` of a notice read with its file, calls and cover (`repository.NOTICES`)
    as plain data (app/core/responses.py): what was validated when it was written is answered as
    stored, the deductible and sublimits computed from the facts and the cover (RULES.md §4)."""
    facts = _facts(row["facts"], row["social_engineering_steps"])
    cover = row["cover__"]  # the policy matched when received (`policy_cover_sql`), or None
    option = cover["deductible"] if cover else None
    limit, real_estate_option = (
        cover_terms(cover["options"], cover["real_estate_status"])
        if cover
        else (INCLUDED_INNOCENT_PARTY, False)
    )
    deductible = claim_deductible_of(option, _deductible_facts(facts))
    sublimits = applicable_sublimits(
        SublimitFacts(
            innocent_party=facts["innocent_party"],
            real_estate=facts["real_estate"],
            social_engineering=facts["social_engineering"],
            social_engineering_steps=frozenset(facts["social_engineering_steps"]),
            cybercrime=facts["cybercrime"],
        ),
        innocent_party_limit=limit,
        real_estate_option=real_estate_option,
    )
    entries = row["file__"] or []
    calls = row["calls__"] or []
    return {
        "id": row["id"],
        "reference": row["reference"],
        "lawyer_id": row["lawyer_id"],
        "lawyer": lawyer_answer(row, "lawyer_id"),
        "firm_id": row["firm_id"],
        "filed_by_id": row["filed_by_id"],
        "status": row["status"],
        "channel": row["channel"],
        "kind": row["kind"],
        "received_on": row["reported_on"] if row["status"] != NoticeStatus.draft else None,
        "awareness_date": row["awareness_date"],
        "client_name": row["client_name"],
        "matter_description": row["matter_description"],
        "retainer_date": row["retainer_date"],
        "claimant": row["claimant"],
        "alleged_error": row["alleged_error"],
        "potential_damages": _money_or_none(row["potential_damages"]),
        "chronology": row["chronology"] or [],
        "reported_on_section_d": row["reported_on_section_d"],
        "facts": facts,
        "policy_id": row["policy_id"],
        "deductible": {
            "option": option,
            "amount": money_text(deductible.amount),
            "basis": deductible.basis,
            "adjustments": list(deductible.adjustments),
        }
        if deductible
        else None,
        "sublimits": [
            {
                "code": s.code,
                "per_claim": money_text(s.per_claim),
                "aggregate": _money_or_none(s.aggregate),
                "note": s.note,
            }
            for s in sublimits
        ],
        "counsel_id": row["counsel_id"],
        "acknowledged_at": row["acknowledged_at"],
        "file": [
            {
                "id": e["id"],
                "entry_type": e["entry_type"],
                "milestone": e["milestone"],
                "kind": e["cost_kind"],
                "amount": _money_or_none(e["amount"]),
                "occurred_on": e["occurred_on"],
                "note": e["note"],
                "recorded_by_id": e["recorded_by_id"],
                "created_at": datetime.fromisoformat(e["created_at"]),
            }
            for e in entries
        ],
        "calls": [
            {
                "id": c["id"],
                "due_on": c["due_on"],
                "amount": _money_or_none(c["amount"]),
                "cumulative": _money_or_none(c["cumulative"]),
                "trigger": c["trigger"],
            }
            for c in calls
        ],
        "costs_total": money_text(
            sum((Decimal(str(e["amount"])) for e in entries if e["amount"] is not None), Decimal(0))
        ),
        "called_total": money_text(sum((Decimal(str(c["amount"])) for c in calls), Decimal(0))),
        "submitted_at": row["submitted_at"],
        "closed_at": row["closed_at"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "version": row["version"],
    }


async def _reread(unit: Unit, notice: ClaimNotice) -> ClaimsNoticeRead:
    await unit.db.flush()
    return to_read(await repo.notice_row(unit.db, notice.id))


# ---------------------------------------------------------------------------------------------
# Checks of what a filer gives


def _field_errors(notice: ClaimNotice, today: date) -> list[FieldError]:
    """Rules on the fields given, drafts included."""
    errors: list[FieldError] = []
    for name in ("awareness_date", "retainer_date"):
        value = getattr(notice, name)
        if value is not None and value > today:
            errors.append(FieldError(name, "in_future", "Must not be after today."))
    if notice.reported_on is not None and notice.reported_on > today:
        errors.append(FieldError("received_on", "in_future", "Must not be after today."))
    if (
        notice.reported_on is not None
        and notice.awareness_date is not None
        and notice.awareness_date > notice.reported_on
    ):
        errors.append(
            FieldError(
                "awareness_date",
                "after_received",
                "The lawyer became aware before the notice was received.",
            )
        )
    previous: date | None = None
    for i, entry in enumerate(notice.chronology or []):
        on = date.fromisoformat(entry["date"])
        if on > today:
            errors.append(FieldError(f"chronology.{i}.date", "in_future", "Not after today."))
        if previous is not None and on < previous:
            errors.append(
                FieldError(
                    f"chronology.{i}.date",
                    "out_of_order",
                    "The chronology lists events in the order they happened.",
                )
            )
        previous = on
    return errors


def _missing(notice: ClaimNotice) -> list[FieldError]:
    """What a notice needs before the insurer receives it."""
    required = {
        "kind": "Say whether it is a claim or a circumstance.",
        "awareness_date": "Give the date the lawyer became aware.",
        "matter_description": "Describe the matter.",
    }
    return [
        FieldError(name, "required", message)
        for name, message in required.items()
        if getattr(notice, name) in (None, "")
    ]


def _invalid(errors: list[FieldError]) -> None:
    if errors:
        raise InvalidInput(
            f"The notice has {len(errors)} invalid field(s); see errors.", errors=errors
        )


def _apply(notice: ClaimNotice, body: ClaimsNoticeCreate | ClaimsNoticeUpdate) -> dict[str, Any]:
    """Copy the fields the body gives onto the notice; returns them (JSON-ready)."""
    given = body.model_dump(mode="json", exclude_unset=True, include=set(MATTER_FIELDS))
    for name in given:
        setattr(notice, name, getattr(body, name))
    if "chronology" in given:
        notice.chronology = given["chronology"] or []
    if "reported_on_section_d" in given:
        notice.reported_on_section_d = bool(body.reported_on_section_d)
    if body.facts is not None:
        facts = body.facts.model_dump(mode="json")
        notice.social_engineering_steps = sorted(set(facts.pop("social_engineering_steps")))
        notice.facts = facts
        given["facts"] = body.facts.model_dump(mode="json")
    return given


async def _file(unit: Unit, notice: ClaimNotice, today: date) -> None:
    """The insurer receives the notice: dated, matched with the policy in force that day."""
    _invalid(_missing(notice) + _field_errors(notice, today))
    notice.status = NoticeStatus.submitted
    notice.reported_on = notice.reported_on or today
    notice.submitted_at = func.now()
    cover = await policy_in_force(unit.db, notice.lawyer_id, notice.reported_on)
    notice.policy_id = cover.policy_id if cover else None


# ---------------------------------------------------------------------------------------------
# Filing


async def create_notice(
    unit: Unit, principal: Principal, body: ClaimsNoticeCreate
) -> ClaimsNoticeRead:
    today = _today()
    errors: list[FieldError] = []
    if principal.role is Role.claims:
        lawyer_id, firm_id = await lawyer_on_record(unit.db, body.lawyer_id)
        if body.channel not in STAFF_CHANNELS:
            errors.append(
                FieldError("channel", "staff_channel", "Staff enter paper or telephone notices.")
            )
        if body.received_on is None and not body.draft:
            errors.append(FieldError("received_on", "required", "Give the day it was received."))
    else:
        lawyer_id, firm_id = await lawyer_acted_for(
            unit.db, principal, body.lawyer_id, what="Claims notices"
        )
        if body.channel is not Channel.portal:
            errors.append(
                FieldError("channel", "not_allowed", "Paper and telephone notices are staff's.")
            )
        if body.received_on is not None:
            errors.append(
                FieldError("received_on", "not_allowed", "The insurer dates what it receives.")
            )
    _invalid(errors)
    notice = ClaimNotice(
        lawyer_id=lawyer_id,
        firm_id=firm_id,
        filed_by_id=principal.user_id,
        status=NoticeStatus.draft,
        channel=body.channel,
        reported_on=body.received_on,
        facts={},
        social_engineering_steps=[],
        chronology=[],
    )
    given = _apply(notice, body)
    _invalid(_field_errors(notice, today))
    if not body.draft:
        await _file(unit, notice, today)
    unit.db.add(notice)
    await unit.db.flush()
    unit.audit.record(
        "claims_notice.create",
        resource_type=RESOURCE,
        resource_id=notice.id,
        subjects=[lawyer_id],
        details={
            "after": {
                **given,
                "lawyer_id": lawyer_id,
                "status": notice.status,
                "channel": notice.channel,
                "received_on": notice.reported_on,
            }
        },
    )
    return await _reread(unit, notice)


async def _load(
    unit: Unit, principal: Principal, notice_id: UUID, *, for_update: bool = True
) -> ClaimNotice:
    notice = await repo.get_visible(unit.db, principal, notice_id, for_update=for_update)
    if notice is None:
        raise NotFound("No such claims notice.", resource_type=RESOURCE, resource_id=str(notice_id))
    return notice


def _may_edit_draft(principal: Principal, notice: ClaimNotice) -> bool:
    return principal.user_id in (notice.filed_by_id, notice.lawyer_id)


async def update_notice(
    unit: Unit,
    principal: Principal,
    notice_id: UUID,
    body: ClaimsNoticeUpdate,
    if_match: str | None,
) -> ClaimsNoticeRead:
    """A draft changes as its filer types; once filed, only claims staff change the facts
    (which may raise the deductible: the difference is called at once)."""
    notice = await _load(unit, principal, notice_id)
    if notice.status == NoticeStatus.draft:
        if not _may_edit_draft(principal, notice):
            raise Forbidden("Only whoever started the draft, or the lawyer, changes it.")
    elif principal.role is not Role.claims:
        raise Conflict("A filed notice is the insurer's: ask the claims unit to change it.")
    elif body.model_fields_set - {"facts"}:
        raise Conflict(
            "Only the facts of a filed notice change; its matter stays as received.",
            errors=[
                FieldError(name, "filed", "Cannot change once filed.")
                for name in sorted(body.model_fields_set - {"facts"})
            ],
        )
    elif notice.status == NoticeStatus.closed:
        raise Conflict("The file is closed.")
    require_if_match(if_match, notice.version)
    if "received_on" in body.model_fields_set:
        if principal.role is not Role.claims:
            _invalid(
                [FieldError("received_on", "not_allowed", "The insurer dates what it receives.")]
            )
        notice.reported_on = body.received_on
    before = {"facts": dict(notice.facts), "steps": list(notice.social_engineering_steps)}
    given = _apply(notice, body)
    _invalid(_field_errors(notice, _today()))
    if notice.status != NoticeStatus.draft:
        await unit.db.flush()
        await _call_what_is_owed(unit, notice, entry_id=None)
    unit.audit.record_change(
        "claims_notice.update",
        resource_type=RESOURCE,
        resource_id=notice.id,
        subjects=[notice.lawyer_id],
        before=before,
        after={"facts": notice.facts, "steps": notice.social_engineering_steps, **given},
    )
    return await _reread(unit, notice)


async def submit_notice(unit: Unit, principal: Principal, notice_id: UUID) -> ClaimsNoticeRead:
    notice = await _load(unit, principal, notice_id)
    if notice.status != NoticeStatus.draft:
        raise Conflict(f"The notice is {notice.status} already.")
    if not _may_edit_draft(principal, notice):
        raise Forbidden("Only whoever started the draft, or the lawyer, submits it.")
    if principal.role is Role.claims and notice.reported_on is None:
        _invalid([FieldError("received_on", "required", "Give the day it was received.")])
    await _file(unit, notice, _today())
    unit.audit.record_change(
        "claims_notice.submit",
        resource_type=RESOURCE,
        resource_id=notice.id,
        subjects=[notice.lawyer_id],
        before={"status": NoticeStatus.draft},
        after={"status": notice.status, "received_on": notice.reported_on},
    )
    return await _reread(unit, notice)


# ---------------------------------------------------------------------------------------------
# Reading


async def read_notice(unit: Unit, principal: Principal, notice_id: UUID) -> dict[str, Any]:
    row = await read_record(
        unit, repo.NOTICES, notice_id, repo.visible_to(principal), action="claims_notice.read"
    )
    return notice_answer(row)


async def list_notices(
    unit: Unit,
    principal: Principal,
    *,
    filters: Mapping[str, Any],
    cursor: str | None,
    limit: int,
) -> dict[str, Any]:
    rows, next_cursor = await read_page(
        unit,
        repo.NOTICES,
        repo.visible_to(principal),
        action="claims_notice.list",
        cursor=cursor,
        limit=limit,
        where=conditions(
            status=("r.status = :v", filters.get("status")),
            kind=("r.kind = :v", filters.get("kind")),
            lawyer_id=("r.lawyer_id = :v", filters.get("lawyer_id")),
            counsel_id=("r.counsel_id = :v", filters.get("counsel_id")),
            received_from=("r.reported_on >= :v", filters.get("received_from")),
            received_to=("r.reported_on <= :v", filters.get("received_to")),
            updated_since=(UPDATED_SINCE, filters.get("updated_since")),
        ),
        filters=filters,
    )
    return page_of([notice_answer(r) for r in rows], next_cursor)


async def claims_history(unit: Unit, lawyer_id: UUID) -> ClaimsHistoryRead:
    """A lawyer's notices as an underwriter sees them: dates, kinds, whether anything was
    paid; never the matter."""
    rows = await repo.history_rows(unit.db, lawyer_id)
    unit.audit.record(
        "claims_notice.history",
        resource_type="lawyer",
        resource_id=lawyer_id,
        subjects=[lawyer_id],
        resource_ids=[row[0] for row in rows],
        details={"count": len(rows)},
    )
    return ClaimsHistoryRead(
        lawyer_id=lawyer_id,
        items=[
            ClaimsHistoryItem(notice_id=i, kind=k, received_on=d, status=s, paid=p)
            for i, k, d, s, p in rows
        ],
    )


# ---------------------------------------------------------------------------------------------
# The claims file (claims staff)


def _require_open(notice: ClaimNotice) -> None:
    if notice.status == NoticeStatus.draft:
        raise Conflict("A draft is not a claims file yet: it must be submitted first.")


async def acknowledge_notice(unit: Unit, principal: Principal, notice_id: UUID) -> ClaimsNoticeRead:
    """The claims unit opens the file: the notice gets its reference number, which the
    lawyer sees on the notice from then on."""
    notice = await _load(unit, principal, notice_id)
    _require_open(notice)
    if notice.status != NoticeStatus.submitted:
        raise Conflict(f"The notice is {notice.status} already.")
    notice.reference = await repo.next_reference(unit.db, _today().year)
    notice.status = NoticeStatus.acknowledged
    notice.acknowledged_at = func.now()
    notice.acknowledged_by_id = principal.user_id
    unit.audit.record_change(
        "claims_notice.acknowledge",
        resource_type=RESOURCE,
        resource_id=notice.id,
        subjects=[notice.lawyer_id],
        before={"status": NoticeStatus.submitted},
        after={"status": notice.status, "reference": notice.reference},
    )
    return await _reread(unit, notice)


async def assign_counsel(
    unit: Unit, principal: Principal, notice_id: UUID, body: CounselAssign
) -> ClaimsNoticeRead:
    notice = await _load(unit, principal, notice_id)
    _require_open(notice)
    if notice.status == NoticeStatus.closed:
        raise Conflict("The file is closed.")
    if not await active_user_with_role(unit.db, body.counsel_id, Role.claims):
        _invalid([FieldError("counsel_id", "not_claims_counsel", "Name an active claims user.")])
    before = notice.counsel_id
    notice.counsel_id = body.counsel_id
    unit.audit.record_change(
        "claims_notice.assign",
        resource_type=RESOURCE,
        resource_id=notice.id,
        subjects=[notice.lawyer_id],
        before={"counsel_id": before},
        after={"counsel_id": body.counsel_id},
    )
    return await _reread(unit, notice)


def _event(entry: ClaimFileEntry) -> FileEvent:
    if entry.entry_type == FileEntryType.milestone:
        assert entry.milestone is not None
        return MilestoneEvent(entry.occurred_on, Milestone(entry.milestone))
    assert entry.cost_kind is not None and entry.amount is not None
    return CostEvent(entry.occurred_on, CostKind(entry.cost_kind), entry.amount)


# The rules name a file event's fields as the pure function does; the API's names differ.
_API_FIELD = {"on": "occurred_on"}


async def record_entry(
    unit: Unit, principal: Principal, notice_id: UUID, body: MilestoneCreate | CostCreate
) -> ClaimsNoticeRead:
    """Append a milestone or a cost to the file (every rule it breaks at once), then call the
    part of the deductible it makes owed."""
    notice = await _load(unit, principal, notice_id)
    _require_open(notice)
    if notice.status == NoticeStatus.submitted:
        raise Conflict("Acknowledge the notice before working its file.")
    entries = await repo.file_entries(unit.db, notice.id)
    new: FileEvent
    if isinstance(body, MilestoneCreate):
        new = MilestoneEvent(body.occurred_on, body.milestone)
    else:
        new = CostEvent(body.occurred_on, body.kind, body.amount)
    assert notice.awareness_date is not None
    violations = check_event(
        [_event(e) for e in entries], new, aware_on=notice.awareness_date, today=_today()
    )
    if violations:
        raise RuleViolation(
            f"The entry breaks {len(violations)} rule(s) of the claims file; see errors.",
            errors=[
                FieldError(_API_FIELD.get(v.field, v.field), v.code, v.message) for v in violations
            ],
        )
    entry = ClaimFileEntry(
        notice_id=notice.id,
        position=len(entries) + 1,
        entry_type=FileEntryType.milestone
        if isinstance(body, MilestoneCreate)
        else FileEntryType.cost,
        milestone=body.milestone if isinstance(body, MilestoneCreate) else None,
        cost_kind=body.kind if isinstance(body, CostCreate) else None,
        amount=body.amount if isinstance(body, CostCreate) else None,
        occurred_on=body.occurred_on,
        note=body.note,
        recorded_by_id=principal.user_id,
    )
    unit.db.add(entry)
    if isinstance(new, MilestoneEvent) and new.milestone in CLOSING:
        notice.status = NoticeStatus.closed
        notice.closed_at = func.now()
    await unit.db.flush()
    events = [*map(_event, entries), new]
    call = await _call_what_is_owed(unit, notice, entry_id=entry.id, events=events)
    unit.audit.record(
        f"claims_notice.{entry.entry_type}",
        resource_type=RESOURCE,
        resource_id=notice.id,
        subjects=[notice.lawyer_id],
        details={
            "after": body.model_dump(mode="json") | {"entry_id": entry.id},
            "call": {"amount": call.amount, "due_on": call.due_on} if call else None,
        },
    )
    return await _reread(unit, notice)


async def _call_what_is_owed(
    unit: Unit,
    notice: ClaimNotice,
    *,
    entry_id: UUID | None,
    events: Sequence[FileEvent] | None = None,
) -> DeductibleCall | None:
    """Call the difference between what the rules make owed now and what was called before
    (one call, or none). Calls already made stand: a lower deductible calls nothing more."""
    if notice.policy_id is None:
        return None
    cover = await policy_cover(unit.db, notice.policy_id)  # the one matched when received
    facts = _facts(notice.facts, notice.social_engineering_steps)
    option = cover.deductible if cover else None
    deductible = claim_deductible_of(option, _deductible_facts(facts))
    if deductible is None:
        return None
    if events is None:
        events = [_event(e) for e in await repo.file_entries(unit.db, notice.id)]
    calls = deductible_calls(deductible, events)
    owed = calls[-1].cumulative if calls else Decimal(0)
    called = await repo.called_total(unit.db, notice.id)
    if owed <= called:
        return None
    last = calls[-1]
    call = DeductibleCall(
        notice_id=notice.id,
        lawyer_id=notice.lawyer_id,
        entry_id=entry_id,
        due_on=max(last.on, _today()) if entry_id is None else last.on,
        amount=owed - called,
        cumulative=owed,
        trigger=last.trigger if entry_id is not None else "deductible_changed",
    )
    unit.db.add(call)
    await unit.db.flush()
    return call


# ---------------------------------------------------------------------------------------------
# Documents ("any pertinent documentation", guide p.13)


def _documents_of(notice: ClaimNotice) -> Attachment:
    return Attachment(RESOURCE, notice.id)


async def attach_document(
    unit: Unit, principal: Principal, notice_id: UUID, request: Request
) -> DocumentRead:
    """A document attached to a notice the caller may see, by its lawyer, its filer or claims
    staff."""
    notice = await _load(unit, principal, notice_id, for_update=False)
    upload = await receive_upload(request)
    return await attach(
        unit,
        upload,
        owner_id=notice.lawyer_id,
        attached_to=_documents_of(notice),
        uploaded_by_id=principal.user_id,
        action="claims_notice.document_upload",
    )


async def list_documents(unit: Unit, principal: Principal, notice_id: UUID) -> list[DocumentRead]:
    notice = await _load(unit, principal, notice_id, for_update=False)
    return await list_recorded(
        unit, _documents_of(notice), action="claims_notice.documents", subject=notice.lawyer_id
    )


async def document_to_download(
    unit: Unit, principal: Principal, notice_id: UUID, document_id: UUID
) -> DocumentRead:
    notice = await _load(unit, principal, notice_id, for_update=False)
    return await download_recorded(
        unit,
        _documents_of(notice),
        document_id,
        action="claims_notice.document_download",
        subject=notice.lawyer_id,
    )
