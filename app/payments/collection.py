"""Collection runs (RULES.md §5): every due receivable of every policy with an active debit or
card authorization, in batches of policies (bounded memory), `collection_plan` deciding what to
collect and when to stop (three failed instalment dates: the whole balance due, the account
delinquent, the lawyer and the payor told).

Each attempt has a deterministic key (the receivables, the date, the attempt number) and is
written, pending, before the processor is asked; the processor never charges one key twice. So a
run killed midway and run again finishes the pending attempts with their first answers, two runs
at once claim each attempt once (the key is unique), and a second run the same day finds the
day's attempts made and charges nothing."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import func, select, text

from app.auth.outbox import queue_notice
from app.claims_notices.calls import deductible_calls_page
from app.core.unit_of_work import Unit
from app.payments import accounts, service
from app.payments import repository as repo
from app.payments.models import (
    AccountStatus,
    AttemptStatus,
    CollectionAttempt,
    LedgerEntry,
    PaymentAccount,
    PaymentAuthorization,
    PaymentRefund,
    Receivable,
    ReceivableKind,
    ReceivableStatus,
    RefundStatus,
)
from app.payments.processor import ChargeResult, Processor
from app.payments.rules import Attempt, Collection, EntryKind, Instalment, collection_plan
from app.policies.cover import adjusted_policies
from app.users.acting_for import contact_of

ZERO = Decimal("0.00")
COLLECTION = "collection"
BATCH = 500
CONCURRENCY = 16  # charges in flight at once (a processor is a network call away)

UnitScope = Callable[[], AbstractAsyncContextManager[Unit]]


@dataclass
class RunSummary:
    as_of: date
    policies: int = 0
    attempts: int = 0
    succeeded: int = 0
    failed: int = 0
    resumed: int = 0
    delinquent: int = 0
    collected: Decimal = ZERO
    arrears: int = 0  # attempts for earlier policy periods (premium or deductible calls)
    calls_brought_in: int = 0
    refunds_paid: int = 0
    refunds_failed: int = 0
    refunds_held: int = 0  # no charge to refund against and no payee named: not paid out
    refunded: Decimal = ZERO


@dataclass
class _Work:
    attempt_id: UUID
    key: str
    amount: Decimal
    instrument: str
    policy_id: UUID  # the policy whose authorization is charged
    own: bool = True  # its own receivables (else arrears: another period's, or calls)


@dataclass
class _Batch:
    work: list[_Work] = field(default_factory=list)


def _schedule(rows: Sequence[Mapping[Any, Any]]) -> list[Instalment]:
    """What the policy owes on which date, refunds taken off (for `collection_plan`)."""
    return [
        Instalment(r["due_on"], r["unpaid"] + r["paid_so_far"])
        for r in rows
        if r["kind"] != ReceivableKind.deductible_call and r["status"] != ReceivableStatus.cancelled
    ]


def _attempts(attempts: Sequence[CollectionAttempt]) -> list[Attempt]:
    """Every payment counts; only the collection's own failures are the payor's strikes."""
    return [
        Attempt(a.attempted_on, a.amount, a.status == AttemptStatus.succeeded)
        for a in attempts
        if a.status == AttemptStatus.succeeded
        or (a.status == AttemptStatus.failed and a.source == COLLECTION)
    ]


def plan_of(
    rows: Sequence[Mapping[Any, Any]], attempts: Sequence[CollectionAttempt], as_of: date
) -> Collection:
    return collection_plan(_schedule(rows), _attempts(attempts), as_of=as_of)


async def _rows(unit: Unit, policy_ids: Sequence[UUID]) -> dict[UUID, list[dict[str, Any]]]:
    """The receivables of the policies, with what was paid on each so far."""
    by_policy: dict[UUID, list[dict[str, Any]]] = {p: [] for p in policy_ids}
    for r in await repo.receivables(unit.db, policy_ids=policy_ids):
        row = dict(r)
        row["paid_so_far"] = ZERO
        by_policy[r["policy_id"]].append(row)
    paid = await repo.paid_by_receivable(unit.db, policy_ids)
    for rows in by_policy.values():
        for row in rows:
            row["paid_so_far"] = paid.get(row["id"], ZERO)
    return by_policy


async def mark_delinquent(
    unit: Unit,
    account: PaymentAccount,
    rows: Sequence[Mapping[Any, Any]],
    authorization: PaymentAuthorization | None,
    as_of: date,
) -> None:
    """Three failed instalment dates: attempts stop, the whole balance is due now, and the
    lawyer and the payor are told (the outbox)."""
    account.status = AccountStatus.delinquent
    account.delinquent_since = as_of
    owed = sum((r["unpaid"] for r in rows if r["status"] != ReceivableStatus.cancelled), ZERO)
    for r in rows:
        if r["unpaid"] > 0 and r["due_on"] > as_of:
            receivable = await unit.db.get(Receivable, r["id"])
            assert receivable is not None
            receivable.due_on = as_of
    body = (
        "Three instalment dates in a row could not be collected, so no further debits will be"
        f" made and the whole outstanding balance of {owed:.2f} CAD is due now"
        f" (policy {account.policy_id}). Please pay it, or call us to arrange payment."
    )
    subject = "Your premium: the whole balance is now due"
    email, _ = await contact_of(unit.db, account.lawyer_id)
    recipients = [e for e in (email, authorization.payor_email if authorization else None) if e]
    for to in dict.fromkeys(recipients):
        await queue_notice(
            unit.db, to=to, subject=subject, body=body, template="payment_delinquent"
        )
    unit.audit.record_change(
        "payment_account.delinquent",
        resource_type=accounts.ACCOUNT,
        resource_id=account.policy_id,
        subjects=[account.lawyer_id],
        before={"status": AccountStatus.current},
        after={"status": account.status, "balance_due": owed, "notices": len(recipients)},
    )


_CLAIM = text(
    "INSERT INTO collection_attempt (id, idempotency_key, policy_id, lawyer_id, receivable_ids,"
    " attempted_on, attempt_number, amount, authorization_id, source, payor, status)"
    " SELECT x.id, x.idempotency_key, x.policy_id, x.lawyer_id, x.receivable_ids,"
    " x.attempted_on, x.attempt_number, x.amount, x.authorization_id, x.source, x.payor, x.status"
    " FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS x(id uuid, idempotency_key text,"
    " policy_id uuid, lawyer_id uuid, receivable_ids uuid[], attempted_on date,"
    " attempt_number int, amount numeric, authorization_id uuid, source text, payor text,"
    " status text)"
    " ON CONFLICT (idempotency_key) DO NOTHING RETURNING id, idempotency_key"
)


async def _claim(unit: Unit, attempts: list[dict[str, Any]]) -> list[tuple[UUID, str]]:
    """Insert the attempts (pending) that no other run has claimed, in one statement; the ones
    inserted."""
    if not attempts:
        return []
    rows = json.dumps(attempts, default=str)
    return [(row[0], row[1]) for row in (await unit.db.execute(_CLAIM, {"rows": rows})).all()]


def _attempt_row(
    key: str,
    number: int,
    as_of: date,
    auth: PaymentAuthorization,
    account: tuple[UUID | None, UUID],
    due: Sequence[Mapping[Any, Any]],
) -> dict[str, Any]:
    policy_id, lawyer_id = account
    return {
        "id": uuid.uuid4(),
        "idempotency_key": key,
        "policy_id": policy_id,
        "lawyer_id": lawyer_id,
        "receivable_ids": [r["id"] for r in due],
        "attempted_on": as_of,
        "attempt_number": number,
        "amount": sum((r["unpaid"] for r in due), ZERO),
        "authorization_id": auth.id,
        "source": COLLECTION,
        "payor": auth.payor_name,
        "status": AttemptStatus.pending,
    }


def _by_account(rows: Sequence[Mapping[Any, Any]]) -> dict[tuple[UUID | None, UUID], list[Any]]:
    """Arrears by the account they are owed on: an earlier policy's, or the lawyer's own
    (deductible calls), so that each account's ledger gets its own attempt."""
    grouped: dict[tuple[UUID | None, UUID], list[Any]] = {}
    for r in rows:
        grouped.setdefault((r["policy_id"], r["lawyer_id"]), []).append(r)
    return grouped


async def _plan_batch(
    unit: Unit, policies: Sequence[Mapping[Any, Any]], as_of: date, summary: RunSummary
) -> _Batch:
    """Claim the batch's attempts (pending, committed with the unit) and say what to charge:
    each policy's own receivables due, and under the same authorization the lawyer's arrears of
    earlier policy periods (one attempt per account they are owed on)."""
    batch = _Batch()
    for p in policies:
        if not p["opened"]:
            await accounts.open_account(unit, p["policy_id"])
    ids = [p["policy_id"] for p in policies]
    opened = await repo.accounts_of(unit.db, ids, for_update=True)
    rows = await _rows(unit, ids)
    attempts: dict[UUID, list[CollectionAttempt]] = {p: [] for p in ids}
    for a in await repo.attempts_of(unit.db, ids):
        attempts[a.policy_id].append(a)  # type: ignore[index]
    auths: dict[UUID, list[PaymentAuthorization]] = {p: [] for p in ids}
    for on_file in await repo.authorizations_of(unit.db, ids):
        auths[on_file.policy_id].append(on_file)
    policy_of_auth = {a.id: a.policy_id for on_file in auths.values() for a in on_file}
    made_today: dict[UUID, list[CollectionAttempt]] = {p: [] for p in ids}
    for a in await repo.collection_attempts_on(unit.db, list(policy_of_auth), as_of):
        made_today[policy_of_auth[a.authorization_id]].append(a)  # type: ignore[index]
    arrears: dict[UUID, list[Any]] = {p: [] for p in ids}
    for r in await repo.arrears(unit.db, ids, as_of):
        arrears[r["taker_policy_id"]].append(r)
    keys = service.data_keys(unit)
    wanted: dict[str, tuple[dict[str, Any], str, UUID, bool]] = {}
    for policy_id in ids:
        account = opened[policy_id]
        summary.policies += 1
        if account.status == AccountStatus.delinquent:
            continue
        today = made_today[policy_id]
        auth = service.authorization_in_use(auths[policy_id], as_of)
        if any(a.status == AttemptStatus.pending for a in today):
            for a in today:
                if a.status == AttemptStatus.pending and a.authorization_id is not None:
                    used = next(x for x in auths[policy_id] if x.id == a.authorization_id)
                    instrument = service.instrument_of(keys, used)
                    own = a.policy_id == policy_id
                    batch.work.append(
                        _Work(a.id, a.idempotency_key, a.amount, instrument, policy_id, own)
                    )
                    summary.resumed += 1
            continue
        if today or auth is None:
            continue  # collected today already; or nothing on file to collect with
        plan = plan_of(rows[policy_id], attempts[policy_id], as_of)
        if plan.stopped:
            await mark_delinquent(unit, account, rows[policy_id], auth, as_of)
            summary.delinquent += 1
            continue
        number = len(attempts[policy_id]) + 1
        instrument = service.instrument_of(keys, auth)
        due = [
            r
            for r in rows[policy_id]
            if r["unpaid"] > 0
            and r["status"] != ReceivableStatus.cancelled
            and r["kind"] != ReceivableKind.deductible_call
            and r["due_on"] <= as_of
        ]
        if due:
            key = service.attempt_key([r["id"] for r in due], as_of, number)
            row = _attempt_row(key, number, as_of, auth, (policy_id, account.lawyer_id), due)
            wanted[key] = (row, instrument, policy_id, True)
        for owed_on, owed in _by_account(arrears[policy_id]).items():
            key = service.attempt_key([r["id"] for r in owed], as_of, number)
            row = _attempt_row(key, number, as_of, auth, owed_on, owed)
            wanted[key] = (row, instrument, policy_id, False)
    for attempt_id, key in await _claim(unit, [row for row, _, _, _ in wanted.values()]):
        row, instrument, policy_id, own = wanted[key]  # the others: another run has them
        batch.work.append(_Work(attempt_id, key, row["amount"], instrument, policy_id, own))
        summary.attempts += 1
        summary.arrears += not own
    return batch


async def _record_results(
    unit: Unit, results: list[tuple[_Work, ChargeResult]], as_of: date, summary: RunSummary
) -> None:
    if not results:
        return
    ids = list({w.policy_id for w, _ in results})
    opened = await repo.accounts_of(unit.db, ids, for_update=True)  # then what they owe
    stmt = (
        select(CollectionAttempt)
        .where(CollectionAttempt.id.in_([w.attempt_id for w, _ in results]))
        .with_for_update()
    )
    claimed = {a.id: a for a in (await unit.db.execute(stmt)).scalars()}
    covering = {rid for a in claimed.values() for rid in a.receivable_ids}
    unpaid = {r["id"]: r for r in await repo.receivables_by_id(unit.db, list(covering))}
    failed_policies = set()
    outcomes = []
    for work, result in results:
        attempt = claimed[work.attempt_id]
        if attempt.status != AttemptStatus.pending:
            continue  # finished by another run meanwhile
        covered = [unpaid[rid] for rid in attempt.receivable_ids if rid in unpaid]
        covered.sort(key=lambda r: (r["due_on"], r["scheduled_on"], r["origin"]))
        outcomes.append(
            service.Outcome(attempt, covered, result.accepted, result.reference, result.reason)
        )
        if result.accepted:
            summary.succeeded += 1
            summary.collected += attempt.amount
        else:
            summary.failed += 1
            if work.own:  # the policy's own strikes; arrears are not its instalment dates
                failed_policies.add(work.policy_id)
    await service.apply_outcomes(unit.db, outcomes)
    if outcomes:  # one event for the batch, naming every account and lawyer charged
        unit.audit.record(
            "payment.collect",
            resource_type=accounts.ACCOUNT,
            resource_ids=[o.attempt.policy_id for o in outcomes if o.attempt.policy_id],
            subjects=[o.attempt.lawyer_id for o in outcomes],
            details={
                "as_of": as_of.isoformat(),
                "attempts": [
                    {
                        "attempt": str(o.attempt.id),
                        "policy": str(o.attempt.policy_id) if o.attempt.policy_id else None,
                        "lawyer": str(o.attempt.lawyer_id),
                        "amount": str(o.attempt.amount),
                        "status": o.attempt.status,
                        "reason": o.reason,
                    }
                    for o in outcomes
                ],
            },
        )
    if failed_policies:
        # a third failed date in a row stops the debits at once
        fresh = await _rows(unit, list(failed_policies))
        attempts: dict[UUID, list[CollectionAttempt]] = {p: [] for p in failed_policies}
        for a in await repo.attempts_of(unit.db, list(failed_policies)):
            attempts[a.policy_id].append(a)  # type: ignore[index]
        auths = {
            a.policy_id: a for a in await repo.authorizations_of(unit.db, list(failed_policies))
        }
        for policy_id in failed_policies:
            if plan_of(fresh[policy_id], attempts[policy_id], as_of).stopped:
                await mark_delinquent(
                    unit, opened[policy_id], fresh[policy_id], auths.get(policy_id), as_of
                )
                summary.delinquent += 1


async def bring_in(unit_scope: UnitScope, summary: RunSummary, *, batch_size: int) -> None:
    """Before a run: the claims domain's deductible calls not brought in yet (receivables of the
    lawyers' own accounts), and the mid-term changes not brought in yet (a decrease settles its
    refund: what goes back to the payors is paid out at the end of the run)."""
    after: UUID | None = None
    while True:
        async with unit_scope() as unit:
            calls = await deductible_calls_page(unit.db, after=after, limit=batch_size)
            if not calls:
                break
            after = calls[-1].call_id
            summary.calls_brought_in += await accounts.bring_in_calls(unit.db, calls)
    async with unit_scope() as unit:
        changes = await adjusted_policies(unit.db)
        present = await repo.origins_present(unit.db, [f"adjustment:{c}" for c, _ in changes])
        waiting = {p: None for c, p in changes if f"adjustment:{c}" not in present}
    for policy_id in waiting:
        async with unit_scope() as unit:
            await accounts.open_account(unit, policy_id)


@dataclass
class _Payout:
    refund_id: UUID
    key: str
    amount: Decimal
    charge_reference: str | None  # refunded against this charge ...
    payee_token: str | None  # ... or paid to the payee a written request names


async def pay_refunds(
    unit_scope: UnitScope,
    processor: Processor,
    summary: RunSummary,
    *,
    batch_size: int = BATCH,
    concurrency: int = CONCURRENCY,
) -> None:
    """Pay out the pending refunds through the processor: to the original payor against the
    charge that paid (the processor never refunds a charge beyond its amount), or to the payee
    named in a recorded written request of the lawyer and that payor. Each refund's key is
    deterministic, so a rerun after a crash gets the first answer back, never a second payment.
    A refund of money received another way (a cheque) with no payee named is held (not paid
    out: the processor has no charge to refund it against)."""
    limit = asyncio.Semaphore(concurrency)

    async def pay(p: _Payout) -> tuple[_Payout, ChargeResult]:
        async with limit:
            if p.payee_token is not None:
                return p, await processor.payout(p.key, p.amount, p.payee_token)
            assert p.charge_reference is not None
            return p, await processor.refund(p.key, p.amount, p.charge_reference)

    after: UUID | None = None
    while True:
        payouts: list[_Payout] = []
        async with unit_scope() as unit:
            pending = await repo.pending_refunds(unit.db, after=after, limit=batch_size)
            if not pending:
                return
            after = pending[-1].id
            requests = await repo.payee_requests(unit.db, list({f.policy_id for f in pending}))
            for f in pending:
                request = requests.get((f.policy_id, f.payor))
                if request is not None:
                    f.request_id, f.payee = request.id, request.payee_name
                    token: str | None = request.payee_token
                elif f.charge_reference is not None:
                    f.request_id, f.payee, token = None, None, None
                else:
                    summary.refunds_held += 1
                    continue
                payouts.append(
                    _Payout(f.id, f.idempotency_key, f.amount, f.charge_reference, token)
                )
        try:
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(pay(p)) for p in payouts]
        except BaseExceptionGroup as failed:
            raise failed.exceptions[0] from None
        async with unit_scope() as unit:
            await _record_refunds(unit, [task.result() for task in tasks], summary)


async def _record_refunds(
    unit: Unit, results: list[tuple[_Payout, ChargeResult]], summary: RunSummary
) -> None:
    if not results:
        return
    stmt = (
        select(PaymentRefund)
        .where(PaymentRefund.id.in_([p.refund_id for p, _ in results]))
        .with_for_update()
    )
    refunds = {f.id: f for f in (await unit.db.execute(stmt)).scalars()}
    done = []
    for payout, result in results:
        f = refunds[payout.refund_id]
        if f.status != RefundStatus.pending:
            continue  # finished by another run meanwhile
        f.processor_reference, f.failure_reason = result.reference, result.reason
        f.paid_at = func.now()
        if result.accepted:
            f.status = RefundStatus.succeeded
            summary.refunds_paid += 1
            summary.refunded += f.amount
            to = (
                f"to {f.payee} at the written request of the lawyer and {f.payor}"
                if f.payee
                else f"to {f.payor}"
            )
            unit.db.add(
                LedgerEntry(
                    policy_id=f.policy_id,
                    lawyer_id=f.lawyer_id,
                    kind=EntryKind.refund,
                    amount=f.amount,
                    payor=f.payor,
                    processor_reference=result.reference,
                    note=f"refund {to}",
                )
            )
        else:
            f.status = RefundStatus.failed
            summary.refunds_failed += 1
        done.append(f)
    await unit.db.flush()
    if done:  # one event for the batch, naming every account and lawyer concerned
        unit.audit.record(
            "payment.refund",
            resource_type=accounts.ACCOUNT,
            resource_ids=[f.policy_id for f in done],
            subjects=[f.lawyer_id for f in done],
            details={
                "refunds": [
                    {
                        "refund": str(f.id),
                        "policy": str(f.policy_id),
                        "payor": f.payor,
                        "payee": f.payee,
                        "amount": str(f.amount),
                        "status": f.status,
                        "reason": f.failure_reason,
                    }
                    for f in done
                ]
            },
        )


async def collect(
    unit_scope: UnitScope,
    processor: Processor,
    *,
    as_of: date,
    batch_size: int = BATCH,
    concurrency: int = CONCURRENCY,
) -> RunSummary:
    """One collection run for `as_of` (see the module): what came in since the last run
    (deductible calls, mid-term changes), every due receivable, then the refunds pending."""
    summary = RunSummary(as_of=as_of)
    limit = asyncio.Semaphore(concurrency)

    async def charge(work: _Work) -> tuple[_Work, ChargeResult]:
        async with limit:
            return work, await processor.charge(work.key, work.amount, work.instrument)

    async def record(results: list[tuple[_Work, ChargeResult]]) -> None:
        async with unit_scope() as unit:
            await _record_results(unit, results, as_of, summary)

    await bring_in(unit_scope, summary, batch_size=batch_size)
    after: UUID | None = None
    # A batch's results are recorded while the next batch is planned and charged (its own
    # policies, its own transaction): at most two batches in memory, and every charge made is
    # recorded before the run ends, even when a later batch fails.
    recording: asyncio.Task[None] | None = None
    try:
        while True:
            async with unit_scope() as unit:
                policies = await repo.collectable_policies(
                    unit.db, on=as_of, after=after, limit=batch_size
                )
                if not policies:
                    break
                after = policies[-1]["policy_id"]
                batch = await _plan_batch(unit, policies, as_of, summary)
            try:  # a charge that fails stops the run: the others in flight are cancelled first
                async with asyncio.TaskGroup() as group:
                    tasks = [group.create_task(charge(w)) for w in batch.work]
            except BaseExceptionGroup as failed:
                raise failed.exceptions[0] from None
            results = [task.result() for task in tasks]
            if recording is not None:
                await recording
            recording = asyncio.create_task(record(results))
    finally:
        if recording is not None:
            await asyncio.shield(recording)
    await pay_refunds(
        unit_scope, processor, summary, batch_size=batch_size, concurrency=concurrency
    )
    return summary


async def deliver_callbacks(
    unit_scope: UnitScope,
    pending: Callable[[], Any],
    delivered: Callable[[list[int]], Any],
    sign: Callable[[bytes], str],
) -> int:
    """Hand the simulator's queued callbacks to the same code as POST /payments/processor-events."""
    count = 0
    while True:
        callbacks = await pending()
        if not callbacks:
            return count
        async with unit_scope() as unit:
            signed = [(sign(body.encode()), body.encode()) for _, body in callbacks]
            await service.apply_processor_events(unit, signed)
        await delivered([i for i, _ in callbacks])
        count += len(callbacks)
