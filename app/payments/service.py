"""Payments: authorizations on file, each policy's account (opened on first use from its
quote's instalments), one-off payments through the processor, money received another way,
and the processor's settlement callbacks. Collection runs are in `collection`."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import RowMapping, func, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.roles import Role
from app.auth.principal import Principal
from app.core.audited import UPDATED_SINCE, conditions, read_page, read_record, reread
from app.core.clock import today
from app.core.errors import AppError, FieldError, InvalidInput, NotFound
from app.core.responses import page_of
from app.core.unit_of_work import Unit
from app.payments import account_crypto, accounts
from app.payments import repository as repo
from app.payments.models import (
    AccountStatus,
    AttemptStatus,
    AuthorizationStatus,
    CollectionAttempt,
    LedgerEntry,
    PaymentAuthorization,
    PaymentRefund,
    Receivable,
    ReceivableStatus,
    RefundPayeeRequest,
)
from app.payments.processor import BadSignature, Processor, StaleTimestamp, verify
from app.payments.rules import (
    APPLICATION_FORM_NOTICE_DAYS,
    NOTICE_DAYS,
    EntryKind,
    Method,
    check_bank_account,
    check_payment,
    check_plan_and_method,
    first_instalment_affected,
)
from app.payments.schemas import (
    AuthorizationCreate,
    AuthorizationRead,
    PaymentCreate,
    PaymentRead,
    ProcessorEventAck,
    ReceivedCreate,
    RefundPayeeCreate,
    RefundPayeeRead,
)
from app.policies.cover import policy_billing
from app.quotes.pricing import stored_quote
from app.quotes.rules import Violation
from app.users.whose import lawyer_answer

ZERO = Decimal("0.00")
AUTHORIZATION = "payment_authorization"
ACCOUNT = "payment_account"
PAYMENT = "payment"


def _violations(violations: Sequence[Violation]) -> list[FieldError]:
    return [FieldError(v.field, v.code, v.message) for v in violations]


def _invalid(errors: list[FieldError]) -> None:
    if errors:
        raise InvalidInput(f"{len(errors)} invalid field(s); see errors.", errors=errors)


class BadProcessorSignature(AppError):
    status = 401
    type = "processor-signature-invalid"
    title = "The callback's signature does not verify"


class StaleProcessorEvent(AppError):
    status = 400
    type = "processor-event-stale"
    title = "The callback's timestamp is outside the tolerance"


# ---------------------------------------------------------------------------------------------
# Authorizations


def data_keys(unit_or_settings: Any) -> dict[str, account_crypto.DataKey]:
    settings = getattr(unit_or_settings, "settings", unit_or_settings)
    return account_crypto.parse_keys(settings.payment_data_keys)


def _context(authorization_id: UUID) -> bytes:
    return f"payment_authorization:{authorization_id}".encode()


def account_number_of(
    keys: Mapping[str, account_crypto.DataKey], auth: PaymentAuthorization
) -> str:
    assert auth.account_number_token is not None
    return account_crypto.decrypt(keys, auth.account_number_token, context=_context(auth.id))


def applies_from_note(applies_from: date | None, *, notice_days: int) -> str:
    if applies_from is None:
        return (
            f"No instalment is left at least {notice_days} days after it was received: it applies"
            " to amounts owed later; payments before then use the details already on file."
        )
    return (
        f"It applies from the instalment due {applies_from.isoformat()}, the first at least"
        f" {notice_days} days after it was received; earlier payments use the details already"
        " on file."
    )


def authorization_answer(row: Mapping[Any, Any]) -> dict[str, Any]:
    """`authorization_read` as plain data, for reads (app/core/responses.py)."""
    notice = APPLICATION_FORM_NOTICE_DAYS if row["notice_days"] == 30 else NOTICE_DAYS
    last4 = row["account_last4"]
    return {
        "id": row["id"],
        "policy_id": row["policy_id"],
        "lawyer_id": row["lawyer_id"],
        "lawyer": lawyer_answer(row, "lawyer_id"),
        "method": row["method"],
        "plan": row["plan"],
        "payor_name": row["payor_name"],
        "payor_is_lawyer": row["payor_is_lawyer"],
        "third_party_consent": row["third_party_consent"],
        "institution_number": row["institution_number"],
        "transit_number": row["transit_number"],
        "account_number": account_crypto.MASK + last4 if last4 else None,
        "card_on_file": row["card_token"] is not None,
        "signed_on": row["signed_on"],
        "on_application_form": row["on_application_form"],
        "received_on": row["received_on"],
        "applies_from": row["applies_from"],
        "applies_from_note": applies_from_note(row["applies_from"], notice_days=notice),
        "status": row["status"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def authorization_read(row: Mapping[Any, Any]) -> AuthorizationRead:
    return AuthorizationRead.model_validate(authorization_answer(row))


def _check_authorization(body: AuthorizationCreate, principal: Principal) -> list[FieldError]:
    errors = [
        FieldError(v.field, v.code, v.message)
        for v in check_plan_and_method(body.plan, body.method)
    ]
    if body.method is Method.pad:
        errors += [
            FieldError(v.field, v.code, v.message)
            for v in check_bank_account(
                body.institution_number or "", body.transit_number or "", body.account_number or ""
            )
        ]
    else:
        for name in ("institution_number", "transit_number", "account_number"):
            if getattr(body, name) is not None:
                errors.append(FieldError(name, "not_allowed", "Only for pre-authorized debit."))
    if body.method is Method.card:
        if not body.card_token:
            errors.append(FieldError("card_token", "required", "Give the processor's token."))
        elif not body.card_token.startswith("tok_"):
            errors.append(
                FieldError("card_token", "not_a_token", "A processor token starts with tok_.")
            )
    elif body.card_token is not None:
        errors.append(FieldError("card_token", "not_allowed", "Only for a card."))
    if not body.payor_is_lawyer and not body.third_party_consent:
        errors.append(
            FieldError(
                "third_party_consent",
                "required",
                "The lawyer confirms that the third-party payor consented.",
            )
        )
    if body.signed_on > today():
        errors.append(FieldError("signed_on", "in_future", "Must not be after today."))
    if body.received_on is not None:
        if principal.role is not Role.finance:
            errors.append(
                FieldError("received_on", "not_allowed", "The insurer dates what it receives.")
            )
        elif body.received_on > today() or body.received_on < body.signed_on:
            errors.append(FieldError("received_on", "invalid", "Between the day signed and today."))
    return errors


async def create_authorization(
    unit: Unit, principal: Principal, body: AuthorizationCreate
) -> AuthorizationRead:
    await accounts.visible_policy(unit, principal, body.policy_id)
    errors = _check_authorization(body, principal)
    policy = await policy_billing(unit.db, body.policy_id)
    assert policy is not None
    quote = await stored_quote(unit.db, policy.quote_id)
    if body.plan != quote.inputs.payment_plan:
        errors.append(
            FieldError(
                "plan",
                "not_the_policys_plan",
                f"The policy's premium is paid {quote.inputs.payment_plan.value}.",
            )
        )
    _invalid(errors)
    await accounts.open_account(unit, body.policy_id)
    # one change of a policy's authorization at a time (one is active: a unique index)
    await repo.account(unit.db, body.policy_id, for_update=True)
    previous = await repo.active_authorization(unit.db, body.policy_id)
    received_on = body.received_on or today()
    changing_form = previous is not None and previous.on_application_form
    notice = APPLICATION_FORM_NOTICE_DAYS if changing_form else NOTICE_DAYS
    applies_from = first_instalment_affected(
        received_on,
        [inst.due_date for inst in quote.read.instalments],
        signed_on_application_form=changing_form,
    )
    auth = PaymentAuthorization(
        id=uuid.uuid4(),
        policy_id=body.policy_id,
        lawyer_id=policy.lawyer_id,
        method=body.method,
        plan=body.plan,
        payor_name=body.payor_name,
        payor_email=body.payor_email,
        payor_is_lawyer=body.payor_is_lawyer,
        third_party_consent=body.third_party_consent,
        institution_number=body.institution_number,
        transit_number=body.transit_number,
        card_token=body.card_token,
        signed_on=body.signed_on,
        on_application_form=body.on_application_form,
        received_on=received_on,
        applies_from=applies_from,
        notice_days=notice,
        status=AuthorizationStatus.active,
        created_by_id=principal.user_id,
    )
    if body.method is Method.pad and body.account_number:
        auth.account_number_token = account_crypto.encrypt(
            data_keys(unit), body.account_number, context=_context(auth.id)
        )
        auth.account_last4 = body.account_number[-4:]
    if previous is not None:
        previous.status = AuthorizationStatus.superseded
        await unit.db.flush()  # before the new one is active: one active at a time
    unit.db.add(auth)
    answer = authorization_read(await reread(unit, repo.AUTHORIZATIONS, auth.id))
    unit.audit.record(
        "payment_authorization.create",
        resource_type=AUTHORIZATION,
        resource_id=auth.id,
        subjects=[policy.lawyer_id],
        details={
            "after": answer.model_dump(
                mode="json",
                exclude={"lawyer", "created_at", "updated_at", "applies_from_note"},
            ),
            "superseded": str(previous.id) if previous else None,
        },
    )
    return answer


async def read_authorization(
    unit: Unit, principal: Principal, authorization_id: UUID
) -> dict[str, Any]:
    row = await read_record(
        unit,
        repo.AUTHORIZATIONS,
        authorization_id,
        repo.visible_to(principal),
        action="payment_authorization.read",
    )
    return authorization_answer(row)


async def list_authorizations(
    unit: Unit,
    principal: Principal,
    *,
    policy_id: UUID | None,
    updated_since: datetime | None = None,
    cursor: str | None,
    limit: int,
) -> dict[str, Any]:
    rows, next_cursor = await read_page(
        unit,
        repo.AUTHORIZATIONS,
        repo.visible_to(principal),
        action="payment_authorization.list",
        cursor=cursor,
        limit=limit,
        where=conditions(
            policy_id=("r.policy_id = :v", policy_id),
            updated_since=(UPDATED_SINCE, updated_since),
        ),
        filters={"policy_id": policy_id, "updated_since": updated_since},
    )
    return page_of([authorization_answer(r) for r in rows], next_cursor)


def authorization_in_use(
    authorizations: Sequence[PaymentAuthorization], on: date
) -> PaymentAuthorization | None:
    """The details a payment on `on` uses: the newest authorization that reaches it by the
    10-day rule, else the first on file (there is nothing older to use)."""
    usable = [a for a in authorizations if a.method in (Method.pad, Method.card)]
    reaching = [a for a in usable if a.applies_from is not None and a.applies_from <= on]
    if reaching:
        return max(reaching, key=lambda a: (a.received_on, a.created_at))
    return usable[0] if usable else None


def instrument_of(keys: Mapping[str, account_crypto.DataKey], auth: PaymentAuthorization) -> str:
    if auth.method == Method.pad:
        return account_number_of(keys, auth)
    assert auth.card_token is not None
    return auth.card_token


# ---------------------------------------------------------------------------------------------
# Payments


def attempt_key(receivable_ids: Sequence[UUID], on: date, number: int) -> str:
    """The deterministic key of a collection attempt: a rerun computes the same one."""
    parts = ",".join(sorted(str(i) for i in receivable_ids))
    return hashlib.sha256(f"{parts}|{on.isoformat()}|{number}".encode()).hexdigest()


def allocate(rows: Sequence[Mapping[Any, Any]], amount: Decimal) -> list[tuple[UUID, Decimal]]:
    """`amount` over the unpaid receivables, oldest first."""
    portions = []
    left = amount
    for r in rows:
        if left <= 0:
            break
        if r["unpaid"] <= 0 or r["status"] == ReceivableStatus.cancelled:
            continue
        take = min(left, r["unpaid"])
        portions.append((r["id"], take))
        left -= take
    return portions


@dataclass(frozen=True)
class Outcome:
    """An attempt, the receivables it covers (with what is unpaid of each), the answer."""

    attempt: CollectionAttempt
    rows: Sequence[Mapping[Any, Any]]
    accepted: bool
    reference: str | None
    reason: str | None


async def apply_outcomes(db: AsyncSession, outcomes: Sequence[Outcome]) -> None:
    """Write attempts' outcomes, set-based: payments on the receivables each covers (oldest
    first), or a failed payment and its receivables marked failed."""
    entries: list[dict[str, Any]] = []
    status: dict[str, list[UUID]] = {ReceivableStatus.paid: [], ReceivableStatus.failed: []}
    for o in outcomes:
        attempt = o.attempt
        attempt.processor_reference = o.reference
        attempt.failure_reason = o.reason
        base = {
            "policy_id": attempt.policy_id,
            "lawyer_id": attempt.lawyer_id,
            "attempt_id": attempt.id,
            "payor": attempt.payor,
        }
        if o.accepted:
            attempt.status = AttemptStatus.succeeded
            unpaid = {r["id"]: r["unpaid"] for r in o.rows}
            for receivable_id, portion in allocate(o.rows, attempt.amount):
                entries.append(
                    {
                        **base,
                        "id": uuid.uuid4(),
                        "kind": EntryKind.payment,
                        "amount": portion,
                        "receivable_id": receivable_id,
                        "processor_reference": o.reference,
                        "note": None,
                    }
                )
                if portion >= unpaid[receivable_id]:
                    status[ReceivableStatus.paid].append(receivable_id)
        else:
            attempt.status = AttemptStatus.failed
            entries.append(
                {
                    **base,
                    "id": uuid.uuid4(),
                    "kind": EntryKind.failed_payment,
                    "amount": attempt.amount,
                    "receivable_id": None,
                    "processor_reference": None,
                    "note": o.reason,
                }
            )
            status[ReceivableStatus.failed].extend(attempt.receivable_ids)
    if entries:
        await db.execute(insert(LedgerEntry), entries)
    for new_status, ids in status.items():
        if ids:
            await db.execute(
                update(Receivable)
                .where(Receivable.id.in_(ids))
                .values(status=new_status)
                .execution_options(synchronize_session=False)
            )
    await db.flush()


async def apply_result(
    db: AsyncSession,
    attempt: CollectionAttempt,
    rows: Sequence[Mapping[Any, Any]],
    *,
    accepted: bool,
    reference: str | None,
    reason: str | None,
) -> None:
    """One attempt's outcome (see `apply_outcomes`)."""
    await apply_outcomes(db, [Outcome(attempt, rows, accepted, reference, reason)])


def payment_read(attempt: CollectionAttempt) -> PaymentRead:
    return PaymentRead(
        id=attempt.id,
        policy_id=attempt.policy_id,
        lawyer_id=attempt.lawyer_id,
        amount=attempt.amount,
        currency="CAD",
        status=attempt.status,
        source=attempt.source,
        processor_reference=attempt.processor_reference,
        failure_reason=attempt.failure_reason,
        receivable_ids=list(attempt.receivable_ids),
        created_at=attempt.created_at,
    )


async def _owed_for_payment(
    unit: Unit, principal: Principal, body: PaymentCreate
) -> tuple[UUID | None, UUID, list[RowMapping]]:
    """The account paid (policy, lawyer) and the receivables the payment may cover."""
    if body.receivable_id is not None:
        row = await repo.receivable_by_id(unit.db, principal, body.receivable_id)
        if row is None or (body.policy_id is not None and row["policy_id"] != body.policy_id):
            raise NotFound(
                "No such receivable.",
                resource_type="receivable",
                resource_id=str(body.receivable_id),
            )
        return row["policy_id"], row["lawyer_id"], [row]
    if body.policy_id is None:
        _invalid([FieldError("policy_id", "required", "Name the policy or the receivable paid.")])
    assert body.policy_id is not None
    await accounts.visible_policy(unit, principal, body.policy_id)
    await accounts.open_account(unit, body.policy_id)
    account = await repo.account(unit.db, body.policy_id, for_update=True)
    assert account is not None
    rows = await repo.receivables(unit.db, policy_ids=[body.policy_id])
    delinquent = account.status == AccountStatus.delinquent
    due = [
        r
        for r in rows
        if r["unpaid"] > 0
        and r["status"] != ReceivableStatus.cancelled
        and (delinquent or r["due_on"] <= today())
    ]
    return body.policy_id, account.lawyer_id, due


async def create_payment(
    unit: Unit, principal: Principal, body: PaymentCreate, processor: Processor, request_key: str
) -> PaymentRead:
    policy_id, lawyer_id, rows = await _owed_for_payment(unit, principal, body)
    owed = sum((r["unpaid"] for r in rows), ZERO)
    _invalid(_violations(check_payment(body.amount, body.currency, owed)))
    instrument: str
    authorization_id = None
    payor = None
    if body.token is not None:
        if not body.token.startswith("tok_"):
            _invalid([FieldError("token", "not_a_token", "A processor token starts with tok_.")])
        instrument, source = body.token, "token"
    else:
        on_file = (
            authorization_in_use(await repo.authorizations_of(unit.db, [policy_id]), today())
            if policy_id
            else None
        )
        if on_file is None:
            _invalid([FieldError("token", "required", "No debit or card authorization on file.")])
        assert on_file is not None
        instrument, source = instrument_of(data_keys(unit), on_file), "authorization"
        authorization_id, payor = on_file.id, on_file.payor_name
    covered = [rid for rid, _ in allocate(rows, body.amount)]
    # The processor's key follows the caller's Idempotency-Key: a retry after a crash gets the
    # first answer back instead of a second charge.
    key = hashlib.sha256(f"payment|{principal.user_id}|{request_key}".encode()).hexdigest()
    attempt = await repo.attempt_by_key(unit.db, key)
    if attempt is None:
        attempt = CollectionAttempt(
            id=uuid.uuid4(),
            idempotency_key=key,
            policy_id=policy_id,
            lawyer_id=lawyer_id,
            receivable_ids=covered,
            attempted_on=today(),
            attempt_number=0,
            amount=body.amount,
            authorization_id=authorization_id,
            source=source,
            payor=payor,
            status=AttemptStatus.pending,
            created_by_id=principal.user_id,
        )
        unit.db.add(attempt)
        await unit.db.flush()
    result = await processor.charge(key, body.amount, instrument)
    await apply_result(
        unit.db,
        attempt,
        rows,
        accepted=result.accepted,
        reference=result.reference,
        reason=result.reason,
    )
    await unit.db.refresh(attempt)
    answer = payment_read(attempt)
    unit.audit.record(
        "payment.create",
        resource_type=PAYMENT,
        resource_id=attempt.id,
        subjects=[lawyer_id],
        details={"after": answer.model_dump(mode="json", exclude={"created_at"})},
    )
    return answer


async def record_received(unit: Unit, principal: Principal, body: ReceivedCreate) -> PaymentRead:
    """Finance records money received another way (a cheque) against a policy's balance."""
    await accounts.visible_policy(unit, principal, body.policy_id)
    await accounts.open_account(unit, body.policy_id)
    account = await repo.account(unit.db, body.policy_id, for_update=True)
    assert account is not None
    rows = [
        r
        for r in await repo.receivables(unit.db, policy_ids=[body.policy_id])
        if r["unpaid"] > 0 and r["status"] != ReceivableStatus.cancelled
    ]
    owed = sum((r["unpaid"] for r in rows), ZERO)
    _invalid(_violations(check_payment(body.amount, body.currency, owed)))
    attempt = CollectionAttempt(
        id=uuid.uuid4(),
        idempotency_key=f"received:{uuid.uuid4().hex}",
        policy_id=body.policy_id,
        lawyer_id=account.lawyer_id,
        receivable_ids=[rid for rid, _ in allocate(rows, body.amount)],
        attempted_on=today(),
        attempt_number=0,
        amount=body.amount,
        source="cheque",
        payor=body.payor_name,
        status=AttemptStatus.pending,
        created_by_id=principal.user_id,
    )
    unit.db.add(attempt)
    await unit.db.flush()
    await apply_result(unit.db, attempt, rows, accepted=True, reference=body.reference, reason=None)
    await unit.db.refresh(attempt)
    answer = payment_read(attempt)
    unit.audit.record(
        "payment.received",
        resource_type=PAYMENT,
        resource_id=attempt.id,
        subjects=[account.lawyer_id],
        details={"after": answer.model_dump(mode="json", exclude={"created_at"})},
    )
    return answer


# ---------------------------------------------------------------------------------------------
# The processor's callbacks


async def apply_processor_event(
    unit: Unit, signature: str | None, body: bytes, *, now: float | None = None
) -> ProcessorEventAck:
    """Verify the callback's signature and timestamp, then apply it once (see
    `apply_processor_events`)."""
    return (await apply_processor_events(unit, [(signature, body)], now=now))[0]


def _verified_event(
    unit: Unit, signature: str | None, body: bytes, now: float
) -> tuple[str, str, dict[str, Any]]:
    settings = unit.settings
    try:
        verify(
            settings.webhook_secret,
            signature,
            body,
            tolerance=settings.processor_webhook_tolerance_seconds,
            now=now,
        )
    except BadSignature:
        raise BadProcessorSignature("The signature does not verify.") from None
    except StaleTimestamp:
        raise StaleProcessorEvent("The timestamp is too old (or too new).") from None
    try:
        event = json.loads(body)
        event_id, event_type, data = str(event["id"]), str(event["type"]), event["data"]
        if not isinstance(data, dict):
            raise TypeError(data)
    except (ValueError, KeyError, TypeError):
        raise InvalidInput(
            "Not a processor event.", errors=[FieldError("body", "invalid", "Not an event.")]
        ) from None
    return event_id, event_type, event


# The events of a delivery in one statement; those already applied are left out.
_RECORD_EVENTS = text(
    "INSERT INTO processor_event (id, event_id, event_type, payload)"
    " SELECT gen_random_uuid(), x.event_id, x.event_type, x.payload"
    " FROM jsonb_to_recordset(CAST(:rows AS jsonb))"
    " AS x(event_id text, event_type text, payload jsonb)"
    " ON CONFLICT (event_id) DO NOTHING RETURNING event_id"
)


async def apply_processor_events(
    unit: Unit, signed: Sequence[tuple[str | None, bytes]], *, now: float | None = None
) -> list[ProcessorEventAck]:
    """Callbacks, each verified (signature, timestamp) and applied once: its event id is
    unique. A settled charge's attempt is marked settled; its outcome was the charge's answer,
    recorded with it (or by the rerun of a run that died before recording it)."""
    at = time.time() if now is None else now
    events = [_verified_event(unit, signature, body, at) for signature, body in signed]
    rows = json.dumps(
        [{"event_id": i, "event_type": t, "payload": event} for i, t, event in events]
    )
    applied = set((await unit.db.execute(_RECORD_EVENTS, {"rows": rows})).scalars())
    keys = [
        str(event["data"].get("idempotency_key", ""))
        for event_id, _, event in events
        if event_id in applied
    ]
    if keys:
        await unit.db.execute(
            update(CollectionAttempt)
            .where(
                CollectionAttempt.idempotency_key.in_(keys), CollectionAttempt.settled_at.is_(None)
            )
            .values(settled_at=func.now())
            .execution_options(synchronize_session=False)
        )
        await unit.db.execute(
            update(PaymentRefund)
            .where(PaymentRefund.idempotency_key.in_(keys), PaymentRefund.settled_at.is_(None))
            .values(settled_at=func.now())
            .execution_options(synchronize_session=False)
        )
    answers = [ProcessorEventAck(event_id=i, applied=i in applied) for i, _, _ in events]
    if len(events) == 1:
        event_id, event_type, _ = events[0]
        unit.audit.record(
            "payment.processor_event",
            resource_type="processor_event",
            resource_id=event_id,
            details={"type": event_type, "applied": event_id in applied},
        )
    else:  # a delivery of many: one event naming them all
        unit.audit.record(
            "payment.processor_event",
            resource_type="processor_event",
            resource_ids=[event_id for event_id, _, _ in events],
            details={"applied": sorted(applied), "count": len(events)},
        )
    return answers


async def rotate_account_keys(unit: Unit, *, batch: int = 500) -> int:
    """Re-encrypt every stored account number under the current key; how many changed."""
    keys = data_keys(unit)
    changed = 0
    after: UUID | None = None
    while True:
        auths = await repo.all_authorizations_with_accounts(unit.db, after=after, limit=batch)
        if not auths:
            unit.audit.record(
                "payment_authorization.rotate_key",
                resource_type=AUTHORIZATION,
                details={"reencrypted": changed, "key_id": account_crypto.current_key(keys).key_id},
            )
            return changed
        for auth in auths:
            assert auth.account_number_token is not None
            token = account_crypto.rotate(
                keys, auth.account_number_token, context=_context(auth.id)
            )
            if token != auth.account_number_token:
                auth.account_number_token = token
                changed += 1
        await unit.db.flush()
        after = auths[-1].id


# ---------------------------------------------------------------------------------------------
# Refunds to another payee


REFUND_REQUEST = "refund_payee_request"


async def record_refund_payee(
    unit: Unit, principal: Principal, body: RefundPayeeCreate
) -> RefundPayeeRead:
    """Finance records the written request of the lawyer and the original payor that the
    payor's refunds of a policy go to someone else (RULES.md §5): refunds of that payor not yet
    paid out, and later ones, go to the payee's processor token."""
    await accounts.visible_policy(unit, principal, body.policy_id)
    policy = await policy_billing(unit.db, body.policy_id)
    assert policy is not None
    errors = []
    payors = await repo.payors_of(unit.db, body.policy_id)
    if body.original_payor not in payors:
        listed = ", ".join(payors) or "none yet"
        errors.append(
            FieldError(
                "original_payor",
                "not_a_payor",
                f"Name a payor who paid this policy's premium (paid so far by: {listed}).",
            )
        )
    if body.payee_name == body.original_payor:
        errors.append(
            FieldError("payee_name", "same_as_payor", "Refunds go to the payor without a request.")
        )
    if not body.payee_token.startswith("tok_"):
        errors.append(
            FieldError("payee_token", "not_a_token", "A processor token starts with tok_.")
        )
    for name in ("lawyer_signed_on", "payor_signed_on"):
        if getattr(body, name) > today():
            errors.append(FieldError(name, "in_future", "Must not be after today."))
    _invalid(errors)
    request = RefundPayeeRequest(
        id=uuid.uuid4(),
        policy_id=body.policy_id,
        lawyer_id=policy.lawyer_id,
        original_payor=body.original_payor,
        payee_name=body.payee_name,
        payee_token=body.payee_token,
        lawyer_signed_on=body.lawyer_signed_on,
        payor_signed_on=body.payor_signed_on,
        created_by_id=principal.user_id,
    )
    unit.db.add(request)
    await unit.db.flush()
    await unit.db.refresh(request)
    answer = RefundPayeeRead(
        id=request.id,
        policy_id=request.policy_id,
        lawyer_id=request.lawyer_id,
        original_payor=request.original_payor,
        payee_name=request.payee_name,
        lawyer_signed_on=request.lawyer_signed_on,
        payor_signed_on=request.payor_signed_on,
        created_at=request.created_at,
    )
    unit.audit.record(
        "payment_refund_payee.create",
        resource_type=REFUND_REQUEST,
        resource_id=request.id,
        subjects=[policy.lawyer_id],
        details={"after": answer.model_dump(mode="json", exclude={"created_at"})},
    )
    return answer
