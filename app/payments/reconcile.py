"""Reconciliation: the ledger against the processor's own books (`python -m app payments
reconcile`). Every charge the processor accepted is a succeeded attempt of the same amount whose
payment entries add up to it, and every refund it paid is a succeeded refund of the same amount
with its refund entry; nothing we count as paid is unknown to it or declined by it. An attempt or
a refund still pending that the processor has answered is a difference too (a run died between
the two: run the collection again)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.payments.processor import ProcessorRecord

ZERO = Decimal("0.00")

_ATTEMPTS = text(
    "SELECT a.idempotency_key, a.amount, a.status, coalesce((SELECT sum(e.amount)"
    " FROM ledger_entry AS e WHERE e.attempt_id = a.id AND e.kind = 'payment'), 0) AS booked"
    " FROM collection_attempt AS a WHERE a.source <> 'cheque'"
)
_REFUNDS = text(
    "SELECT f.idempotency_key, f.amount, f.status, coalesce((SELECT sum(e.amount)"
    " FROM ledger_entry AS e WHERE e.kind = 'refund'"
    " AND e.processor_reference = f.processor_reference), 0) AS booked"
    " FROM payment_refund AS f"
)


def _compare(
    what: str,
    ours: dict[str, tuple[Decimal, str, Decimal]],
    theirs: dict[str, ProcessorRecord],
) -> list[str]:
    differences = []
    for key, record in theirs.items():
        mine = ours.get(key)
        if mine is None:
            differences.append(f"{what} {key}: at the processor, not in the ledger")
            continue
        amount, status, booked = mine
        if status == "pending":
            differences.append(f"{what} {key}: answered by the processor, still pending here")
        elif record.accepted != (status == "succeeded"):
            answer = "accepted" if record.accepted else "declined"
            differences.append(f"{what} {key}: {answer} by the processor, {status} here")
        elif record.amount != amount:
            differences.append(f"{what} {key}: {record.amount} at the processor, {amount} here")
        if record.accepted and status == "succeeded" and booked != amount:
            differences.append(f"{what} {key}: {amount} paid, {booked} in the ledger")
    for key, (amount, status, _) in ours.items():
        if key not in theirs and status != "pending":
            differences.append(f"{what} {key}: {status} here ({amount}), unknown to the processor")
    return differences


async def differences(db: AsyncSession, records: Sequence[ProcessorRecord]) -> list[str]:
    """Every difference between the ledger and the processor's records, as sentences."""
    attempts = {
        r.idempotency_key: (r.amount, r.status, r.booked) for r in await db.execute(_ATTEMPTS)
    }
    refunds = {
        r.idempotency_key: (r.amount, r.status, r.booked) for r in await db.execute(_REFUNDS)
    }
    charges = {r.idempotency_key: r for r in records if r.kind == "charge"}
    paid_back = {r.idempotency_key: r for r in records if r.kind == "refund"}
    return [
        *_compare("charge", attempts, charges),
        *_compare("refund", refunds, paid_back),
    ]
