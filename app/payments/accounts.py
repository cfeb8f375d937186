"""A policy's account: opened once, on first use, from its quote's instalments (RULES.md §5
Decision: dates passed when the policy was issued fall due at once), with the adjustments and
deductible calls brought in since; and how it reads (receivables, ledger, balance, status)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.claims_notices.calls import CallOwed, deductible_calls_of
from app.core.audited import conditions, read_page, read_record, read_record_unless
from app.core.clock import today
from app.core.errors import NotFound
from app.core.pagination import Page
from app.core.unit_of_work import Unit
from app.payments import repository as repo
from app.payments.models import (
    AccountStatus,
    LedgerEntry,
    PaymentRefund,
    Receivable,
    ReceivableKind,
    ReceivableStatus,
    RefundStatus,
)
from app.payments.rules import EntryKind, refunds_by_receipt, settle_refund
from app.payments.rules import Instalment as PlanInstalment
from app.payments.rules import LedgerEntry as RuleEntry
from app.payments.rules import balance as ledger_balance
from app.payments.rules import owed as ledger_owed
from app.payments.rules import received as ledger_received
from app.payments.schemas import (
    DelinquentRead,
)
from app.policies.cover import adjustments_of, policy_billing
from app.quotes.pricing import stored_quote
from app.quotes.schemas import money_text
from app.users.whose import lawyer_answer, lawyer_of

ZERO = Decimal("0.00")
ACCOUNT = "payment_account"


async def open_account(unit: Unit, policy_id: UUID) -> None:
    """Open the policy's account once (its receivables and charges from the quote's
    instalments; RULES.md §5 Decision: dates passed when the policy was issued fall due at
    once), then bring in what came since: mid-term adjustments and the lawyer's deductible
    calls. Every insert is keyed by a unique origin, so two requests at once add nothing twice.
    The opening is its own audit event (`payment_account.open`), whatever request opened it."""
    db = unit.db
    policy = await policy_billing(db, policy_id)
    if policy is None:
        raise NotFound("No such policy.", resource_type="policy", resource_id=str(policy_id))
    if await repo.claim_account(db, policy_id, policy.lawyer_id):
        quote = await stored_quote(db, policy.quote_id)
        unit.audit.record(
            "payment_account.open",
            resource_type=ACCOUNT,
            resource_id=policy_id,
            subjects=[policy.lawyer_id],
            details={
                "after": {
                    "status": AccountStatus.current.value,
                    "instalments": [
                        {"due_date": i.due_date.isoformat(), "amount": str(i.amount)}
                        for i in quote.read.instalments
                    ],
                }
            },
        )
        for n, inst in enumerate(quote.read.instalments, start=1):
            due_on = max(inst.due_date, policy.issued_on)
            receivable_id = await repo.add_receivable(
                db,
                origin=f"instalment:{policy_id}:{n}",
                policy_id=policy_id,
                for_policy_id=policy_id,
                lawyer_id=policy.lawyer_id,
                kind=ReceivableKind.instalment,
                due_on=due_on,
                scheduled_on=inst.due_date,
                amount=inst.amount,
                status=ReceivableStatus.due,
            )
            db.add(
                LedgerEntry(
                    policy_id=policy_id,
                    lawyer_id=policy.lawyer_id,
                    kind=EntryKind.charge,
                    amount=inst.amount,
                    receivable_id=receivable_id,
                    note=f"instalment {n} of {len(quote.read.instalments)}",
                )
            )
    await _bring_in_adjustments(db, policy_id, policy.lawyer_id)
    await _bring_in_calls(db, policy.lawyer_id)
    await db.flush()


async def _bring_in_adjustments(db: AsyncSession, policy_id: UUID, lawyer_id: UUID) -> None:
    for change in await adjustments_of(db, policy_id):
        up = change.total > 0
        receivable_id = await repo.add_receivable(
            db,
            origin=f"adjustment:{change.change_id}",
            policy_id=policy_id,
            for_policy_id=policy_id,
            lawyer_id=lawyer_id,
            kind=ReceivableKind.adjustment,
            due_on=change.effective_date,
            scheduled_on=change.effective_date,
            # a refund owes nothing: its row only marks the change as brought in, once
            amount=change.total if up else ZERO,
            status=ReceivableStatus.due if up else ReceivableStatus.cancelled,
        )
        if receivable_id is None:
            continue
        note = f"mid-term change: {change.kind}"
        if up:
            db.add(
                LedgerEntry(
                    policy_id=policy_id,
                    lawyer_id=lawyer_id,
                    kind=EntryKind.adjustment,
                    amount=change.total,
                    receivable_id=receivable_id,
                    note=note,
                )
            )
            continue
        await _settle_refund(
            db, policy_id, lawyer_id, -change.total, note, f"adjustment:{change.change_id}"
        )


async def _settle_refund(
    db: AsyncSession, policy_id: UUID, lawyer_id: UUID, refund: Decimal, note: str, origin: str
) -> None:
    """RULES.md §3: a refund first cancels the unpaid instalments (latest first); only money
    actually received beyond what is owed goes back, to the original payors, each at most what
    it paid (`refunds_by_receipt`): one pending `payment_refund` per receipt it goes back
    against, paid out by the next collection run (`collection.pay_refunds`)."""
    await db.flush()
    unpaid = [
        r
        for r in await repo.receivables(db, policy_ids=[policy_id])
        if r["unpaid"] > 0 and r["status"] != ReceivableStatus.cancelled
    ]
    receipts = await repo.receipts_left(db, policy_id)
    kept = sum((r.amount for _, r in receipts), ZERO)
    covered = min(refund, sum((r["unpaid"] for r in unpaid), ZERO) + kept)
    settlement = settle_refund(
        covered,
        [PlanInstalment(r["due_on"], r["unpaid"]) for r in unpaid],
        {"payors": kept} if kept > 0 else {},
    )
    remaining = settlement.applied_to_instalments
    for r in reversed(unpaid):  # latest first, as `settle_refund` cancels them
        take = min(remaining, r["unpaid"])
        if take <= 0:
            continue
        remaining -= take
        db.add(
            LedgerEntry(
                policy_id=policy_id,
                lawyer_id=lawyer_id,
                kind=EntryKind.adjustment,
                amount=-take,
                receivable_id=r["id"],
                note=note,
            )
        )
        if take == r["unpaid"]:
            await set_status(db, r["id"], ReceivableStatus.cancelled)
    beyond = settlement.returned
    if beyond <= 0:
        return
    db.add(
        LedgerEntry(
            policy_id=policy_id,
            lawyer_id=lawyer_id,
            kind=EntryKind.adjustment,
            amount=-beyond,
            note=f"{note}: to be refunded to the payor",
        )
    )
    by_receipt = {id(r): attempt_id for attempt_id, r in receipts}
    for receipt, amount in refunds_by_receipt(beyond, [r for _, r in receipts]):
        attempt_id = by_receipt[id(receipt)]
        key = hashlib.sha256(f"refund|{origin}|{attempt_id}".encode()).hexdigest()
        db.add(
            PaymentRefund(
                idempotency_key=key,
                policy_id=policy_id,
                lawyer_id=lawyer_id,
                attempt_id=attempt_id,
                payor=receipt.payor,
                charge_reference=receipt.reference,
                amount=amount,
                reason=note,
                status=RefundStatus.pending,
            )
        )


async def set_status(db: AsyncSession, receivable_id: UUID, status: str) -> None:
    receivable = await db.get(Receivable, receivable_id)
    if receivable is not None:
        receivable.status = status


async def _bring_in_calls(db: AsyncSession, lawyer_id: UUID) -> None:
    await bring_in_calls(db, await deductible_calls_of(db, lawyer_id))


async def bring_in_calls(db: AsyncSession, calls: Sequence[CallOwed]) -> int:
    """The claims domain's deductible calls as receivables of the lawyers' own accounts, each
    once (its origin is unique), with its charge in the ledger; how many were new."""
    new = 0
    for call in calls:
        receivable_id = await repo.add_receivable(
            db,
            origin=f"deductible_call:{call.call_id}",
            policy_id=None,
            for_policy_id=call.policy_id,
            lawyer_id=call.lawyer_id,
            kind=ReceivableKind.deductible_call,
            due_on=call.due_on,
            scheduled_on=call.due_on,
            amount=call.amount,
            status=ReceivableStatus.due,
        )
        if receivable_id is not None:
            new += 1
            db.add(
                LedgerEntry(
                    policy_id=None,
                    lawyer_id=call.lawyer_id,
                    kind=EntryKind.charge,
                    amount=call.amount,
                    receivable_id=receivable_id,
                    note="deductible call",
                )
            )
    return new


def _no_such_policy(policy_id: UUID) -> NotFound:
    return NotFound("No such policy.", resource_type="policy", resource_id=str(policy_id))


async def visible_policy(unit: Unit, principal: Principal, policy_id: UUID) -> None:
    if not await repo.policy_visible(unit.db, principal, policy_id):
        raise _no_such_policy(policy_id)


def due_now(rows: Sequence[Mapping[str, Any]], on: date, *, delinquent: bool) -> Decimal:
    return sum(
        (
            r["unpaid"]
            for r in rows
            if r["status"] != ReceivableStatus.cancelled and (delinquent or r["due_on"] <= on)
        ),
        ZERO,
    )


def _receivables(parts: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Receivables as the account's statement reads them (JSON: amounts as text)."""
    return [
        {
            **x,
            "amount": Decimal(x["amount"]),
            "unpaid": Decimal(x["unpaid"]),
            "due_on": date.fromisoformat(x["due_on"]),
        }
        for x in parts
    ]


# The account's parts are answered by dict displays rather than `fields_of`: an account read
# answers about ten of them, and fields_of's copied-and-updated dict costs a microsecond more
# each (measured: 2.1 against 0.9 µs a ledger line) on the slowest of the reads by id.
def _receivable_answer(r: Mapping[str, Any]) -> dict[str, Any]:
    """`ReceivableRead` of a receivable of `_receivables` as plain data (app/core/responses.py)."""
    return {
        "id": r["id"],
        "kind": r["kind"],
        "due_on": r["due_on"],
        "scheduled_on": r["scheduled_on"],
        "amount": money_text(r["amount"]),
        "unpaid": money_text(max(r["unpaid"], ZERO)),
        "status": r["status"],
    }


def _entry_answer(e: Mapping[str, Any]) -> dict[str, Any]:
    """`LedgerEntryRead` of a ledger entry of `repo.ACCOUNT` (its amount as text, its time in
    UTC) as plain data; the time parsed, so that it is written as the model writes it."""
    return {
        "seq": e["seq"],
        "kind": e["kind"],
        "amount": money_text(Decimal(e["amount"])),
        "receivable_id": e["receivable_id"],
        "payor": e["payor"],
        "processor_reference": e["processor_reference"],
        "note": e["note"],
        "created_at": datetime.fromisoformat(e["created_at"]),
    }


def _refund_answer(f: Mapping[str, Any]) -> dict[str, Any]:
    """`RefundRead` of a refund of `repo.ACCOUNT` as plain data (see `_entry_answer`)."""
    return {
        "id": f["id"],
        "payor": f["payor"],
        "payee": f["payee"],
        "amount": money_text(Decimal(f["amount"])),
        "status": f["status"],
        "reason": f["reason"],
        "processor_reference": f["processor_reference"],
        "failure_reason": f["failure_reason"],
        "created_at": datetime.fromisoformat(f["created_at"]),
    }


def _rule_entries(entries: Sequence[Mapping[str, Any]]) -> list[RuleEntry]:
    return [RuleEntry(EntryKind(e["kind"]), Decimal(e["amount"])) for e in entries]


async def read_account(unit: Unit, principal: Principal, policy_id: UUID) -> dict[str, Any]:
    """The account as it stands, in one statement (`repo.ACCOUNT`); opened or brought up to
    date first only when something is waiting (its opening, a mid-term change, a call): the
    read that found so was held back, and the account is read again after that work.
    Answered as `AccountRead` shows it, as plain data (app/core/responses.py)."""
    visible = repo.visible_to(principal)
    action = "payment_account.read"
    row = await read_record_unless(
        unit, repo.ACCOUNT, policy_id, visible, action=action, unless="waiting__"
    )
    if row is None:  # not opened, waiting, or not the caller's: nothing was recorded
        [probe] = await unit.probe(repo.account_probe(principal, policy_id))
        if not probe["visible__"]:
            raise _no_such_policy(policy_id)
        if probe["waiting__"]:
            await open_account(unit, policy_id)
        row = await read_record(unit, repo.ACCOUNT, policy_id, visible, action=action)
    rows, calls = _receivables(row["receivables__"]), _receivables(row["calls__"])
    rules = _rule_entries(row["ledger__"])
    return {
        "policy_id": policy_id,
        "lawyer_id": row["lawyer_id"],
        "lawyer": lawyer_answer(row, "lawyer_id"),
        "payment_status": row["status"],
        "balance": money_text(ledger_balance(rules)),
        "owed": money_text(ledger_owed(rules)),
        "received": money_text(ledger_received(rules)),
        "due_now": money_text(
            due_now(rows, today(), delinquent=row["status"] == AccountStatus.delinquent)
        ),
        "receivables": [_receivable_answer(r) for r in rows],
        "ledger": [_entry_answer(e) for e in row["ledger__"]],
        "deductible_calls": [_receivable_answer(r) for r in calls],
        "deductible_balance": money_text(ledger_balance(_rule_entries(row["call_ledger__"]))),
        "refunds": [_refund_answer(f) for f in row["refunds__"]],
    }


async def list_delinquent(
    unit: Unit, principal: Principal, *, cursor: str | None, limit: int
) -> Page[DelinquentRead]:
    rows, next_cursor = await read_page(
        unit,
        repo.ACCOUNTS,
        repo.visible_to(principal),
        action="payment_account.list_delinquent",
        cursor=cursor,
        limit=limit,
        where=conditions(status=("r.status = :v", AccountStatus.delinquent.value)),
    )
    return Page(
        items=[
            DelinquentRead(
                policy_id=r["id"],
                lawyer_id=r["lawyer_id"],
                lawyer=lawyer_of(r, "lawyer_id"),
                delinquent_since=r["delinquent_since"],
                balance=r["balance"],
            )
            for r in rows
        ],
        next_cursor=next_cursor,
    )
