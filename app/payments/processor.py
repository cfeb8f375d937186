"""The payment processor: a small interface, the built-in simulator, and the signature of its
callbacks.

`charge(idempotency_key, amount, instrument)` asks the processor to take `amount` from a card
(a processor token, never a card number) or a bank account (pre-authorized debit); it answers
accepted with a reference, or declined with a reason. The same key never charges twice.

The simulator decides by the instrument (README, "Payments"): tokens `tok_success` (and any
other `tok_...`) are accepted, `tok_declined`, `tok_insufficient_funds`, `tok_account_closed`
declined; account numbers ending 0001, 0002, 0003 are declined (declined, insufficient funds,
account closed), any other accepted. It keeps its charges in a table of its own, written in a
transaction of its own (a processor's books are not ours), so a rerun after a crash gets the first
answer back; and it queues a signed settlement callback for each charge, which
`pending_callbacks` hands out for delivery to `POST /payments/processor-events`.

`refund(key, amount, charge_reference)` pays money back to whatever paid that charge, never more
than the charge in all (else declined `exceeds_charge`); `payout(key, amount, instrument)` pays
another payee's token (decided like a charge's token). Both are kept, once per key, in the
simulator's own refunds table, and queue a `refund.succeeded` or `refund.failed` callback.

Callbacks are signed like Stripe's: header `Processor-Signature: t=<unix time>,v1=<hex>`, the
HMAC-SHA256 of `<t>.<body>` under PROCESSOR_WEBHOOK_SECRET (Python's hmac, compared in constant
time); a timestamp older (or newer) than the tolerance is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

SIGNATURE_HEADER = "Processor-Signature"

DECLINING_TOKENS = {
    "tok_declined": "declined",
    "tok_insufficient_funds": "insufficient_funds",
    "tok_account_closed": "account_closed",
}
DECLINING_ACCOUNT_ENDINGS = {
    "0001": "declined",
    "0002": "insufficient_funds",
    "0003": "account_closed",
}


@dataclass(frozen=True)
class ChargeResult:
    accepted: bool
    reference: str | None  # the processor's, when accepted
    reason: str | None = None  # why declined


@dataclass(frozen=True)
class ProcessorRecord:
    """One line of the processor's own books, for reconciliation."""

    kind: str  # "charge" or "refund" (a payout to another payee is a refund too)
    idempotency_key: str
    amount: Decimal
    accepted: bool
    reference: str | None


class Processor(Protocol):
    async def charge(self, idempotency_key: str, amount: Decimal, instrument: str) -> ChargeResult:
        """Take `amount` (CAD) from the instrument; the same key never charges twice."""
        ...

    async def refund(
        self, idempotency_key: str, amount: Decimal, charge_reference: str
    ) -> ChargeResult:
        """Pay `amount` back to the card or account that paid the charge `charge_reference`;
        never more than that charge in all; the same key never pays twice."""
        ...

    async def payout(self, idempotency_key: str, amount: Decimal, instrument: str) -> ChargeResult:
        """Pay `amount` to another payee's instrument (their processor token); the same key
        never pays twice."""
        ...

    async def records(self) -> list[ProcessorRecord]:
        """The processor's charges and refunds, to reconcile the ledger against."""
        ...


def simulated_outcome(instrument: str) -> str | None:
    """The simulator's decline reason for an instrument, or None: accepted."""
    if instrument.startswith("tok_"):
        return DECLINING_TOKENS.get(instrument)
    return DECLINING_ACCOUNT_ENDINGS.get(instrument[-4:])


# One statement (autocommit): the charge, once per key, and its callback queued with it.
_CHARGE = text(
    "WITH charged AS (INSERT INTO processor_sim_charge"
    " (idempotency_key, amount, accepted, reference, reason)"
    " VALUES (:key, :amount, :accepted, :reference, :reason)"
    " ON CONFLICT (idempotency_key) DO NOTHING RETURNING idempotency_key),"
    " queued AS (INSERT INTO processor_sim_callback (body) SELECT :body FROM charged)"
    " SELECT count(*) AS fresh FROM charged"
)
_FIRST = text(
    "SELECT accepted, reference, reason FROM processor_sim_charge WHERE idempotency_key = :key"
)
_PENDING = text(
    "SELECT id, body FROM processor_sim_callback WHERE delivered_at IS NULL ORDER BY id LIMIT :n"
)
# A refund of a charge, in one transaction with the charge locked: never more than the charge.
_REFUND_FIRST = text(
    "SELECT accepted, reference, reason FROM processor_sim_refund WHERE idempotency_key = :key"
)
_LOCK_CHARGE = text(
    "SELECT amount, accepted FROM processor_sim_charge WHERE reference = :ref FOR UPDATE"
)
_REFUNDED = text(
    "SELECT coalesce(sum(amount), 0) FROM processor_sim_refund"
    " WHERE charge_reference = :ref AND accepted"
)
_RECORD_REFUND = text(
    "WITH paid AS (INSERT INTO processor_sim_refund"
    " (idempotency_key, charge_reference, amount, accepted, reference, reason)"
    " VALUES (:key, :ref, :amount, :accepted, :reference, :reason)"
    " ON CONFLICT (idempotency_key) DO NOTHING RETURNING idempotency_key),"
    " queued AS (INSERT INTO processor_sim_callback (body) SELECT :body FROM paid)"
    " SELECT count(*) FROM paid"
)
_RECORDS = text(
    "SELECT 'charge' AS kind, idempotency_key, amount, accepted, reference"
    " FROM processor_sim_charge UNION ALL"
    " SELECT 'refund', idempotency_key, amount, accepted, reference FROM processor_sim_refund"
)
_DELIVERED = text("UPDATE processor_sim_callback SET delivered_at = now() WHERE id = ANY(:ids)")


class SimulatedProcessor:
    """The built-in simulator (see the module)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def charge(self, idempotency_key: str, amount: Decimal, instrument: str) -> ChargeResult:
        reason = simulated_outcome(instrument)
        reference = None if reason else f"sim_{uuid.uuid4().hex[:20]}"
        event = {
            "id": f"evt_{uuid.uuid4().hex}",
            "type": "charge.failed" if reason else "charge.succeeded",
            "data": {
                "idempotency_key": idempotency_key,
                "amount": str(amount),
                "reference": reference,
                "reason": reason,
            },
        }
        params = {
            "key": idempotency_key,
            "amount": amount,
            "accepted": reason is None,
            "reference": reference,
            "reason": reason,
            "body": json.dumps(event, separators=(",", ":")),
        }
        async with self.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            if (await conn.execute(_CHARGE, params)).scalar_one():
                return ChargeResult(reason is None, reference, reason)
            first = (await conn.execute(_FIRST, {"key": idempotency_key})).one()
        return ChargeResult(first.accepted, first.reference, first.reason)

    async def refund(
        self, idempotency_key: str, amount: Decimal, charge_reference: str
    ) -> ChargeResult:
        async with self.engine.begin() as conn:
            first = (await conn.execute(_REFUND_FIRST, {"key": idempotency_key})).first()
            if first is not None:
                return ChargeResult(first.accepted, first.reference, first.reason)
            charge = (await conn.execute(_LOCK_CHARGE, {"ref": charge_reference})).first()
            refunded = (await conn.execute(_REFUNDED, {"ref": charge_reference})).scalar_one()
            reason = None
            if charge is None or not charge.accepted:
                reason = "no_such_charge"
            elif refunded + amount > charge.amount:
                reason = "exceeds_charge"
            return await self._paid_back(conn, idempotency_key, amount, charge_reference, reason)

    async def payout(self, idempotency_key: str, amount: Decimal, instrument: str) -> ChargeResult:
        async with self.engine.begin() as conn:
            first = (await conn.execute(_REFUND_FIRST, {"key": idempotency_key})).first()
            if first is not None:
                return ChargeResult(first.accepted, first.reference, first.reason)
            reason = simulated_outcome(instrument)
            return await self._paid_back(conn, idempotency_key, amount, None, reason)

    async def _paid_back(
        self,
        conn: AsyncConnection,
        key: str,
        amount: Decimal,
        charge_reference: str | None,
        reason: str | None,
    ) -> ChargeResult:
        reference = None if reason else f"sim_re_{uuid.uuid4().hex[:17]}"
        event = {
            "id": f"evt_{uuid.uuid4().hex}",
            "type": "refund.failed" if reason else "refund.succeeded",
            "data": {
                "idempotency_key": key,
                "amount": str(amount),
                "reference": reference,
                "reason": reason,
            },
        }
        params = {
            "key": key,
            "ref": charge_reference,
            "amount": amount,
            "accepted": reason is None,
            "reference": reference,
            "reason": reason,
            "body": json.dumps(event, separators=(",", ":")),
        }
        if (await conn.execute(_RECORD_REFUND, params)).scalar_one():
            return ChargeResult(reason is None, reference, reason)
        first = (await conn.execute(_REFUND_FIRST, {"key": key})).one()  # a race: theirs
        return ChargeResult(first.accepted, first.reference, first.reason)

    async def records(self) -> list[ProcessorRecord]:
        async with self.engine.connect() as conn:
            return [ProcessorRecord(*row) for row in await conn.execute(_RECORDS)]

    async def pending_callbacks(self, limit: int = 1000) -> list[tuple[int, str]]:
        """Callbacks not yet delivered: (id, body), oldest first."""
        async with self.engine.connect() as conn:
            return [(r.id, r.body) for r in await conn.execute(_PENDING, {"n": limit})]

    async def mark_delivered(self, ids: list[int]) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(_DELIVERED, {"ids": ids})


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The `Processor-Signature` header's value for `body`, signed now (or at `timestamp`)."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


class BadSignature(ValueError):
    pass


class StaleTimestamp(ValueError):
    pass


def verify(secret: str, header: str | None, body: bytes, *, tolerance: int, now: float) -> None:
    """Raises BadSignature unless `header` signs `body` under `secret`; StaleTimestamp when the
    signed timestamp is further than `tolerance` seconds from `now`."""
    parts = dict(p.split("=", 1) for p in (header or "").split(",") if "=" in p)
    t, given = parts.get("t", ""), parts.get("v1", "")
    if not t.isdigit() or not given:
        raise BadSignature("missing or malformed signature")
    expected = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, given):
        raise BadSignature("signature does not match")
    if abs(now - int(t)) > tolerance:
        raise StaleTimestamp("timestamp outside the tolerance")
