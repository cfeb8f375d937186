"""Queries of the payments domain."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from uuid import UUID

from sqlalchemy import RowMapping, func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.roles import Role
from app.auth.principal import Principal
from app.claims_notices.calls import calls_of_sql
from app.core.audited import Source, Visibility
from app.core.responses import answered_columns
from app.core.sql import Bound, compose, statement
from app.payments.models import (
    AuthorizationStatus,
    CollectionAttempt,
    LedgerEntry,
    PaymentAccount,
    PaymentAuthorization,
    PaymentRefund,
    Receivable,
    RefundPayeeRequest,
)
from app.payments.rules import Receipt
from app.payments.schemas import AuthorizationRead
from app.policies.cover import adjustments_sql, policy_lawyer_sql
from app.users.acting_for import lawyer_records_visible
from app.users.whose import LAWYER_COLUMNS, lawyer_join

READERS = frozenset({Role.finance, Role.customer_service})

# Authorizations and accounts are read with their lawyer's name and Law Society number.
_AUTHORIZATION_COMPUTED = ("lawyer", "account_number", "card_on_file", "applies_from_note")
AUTHORIZATIONS = Source(
    "payment_authorization",
    f"payment_authorization AS r {lawyer_join('r.lawyer_id')}",
    # what `service.authorization_answer` shows; never the encrypted account number
    columns=f"{answered_columns(AuthorizationRead, besides=_AUTHORIZATION_COMPUTED)},"
    f" r.account_last4, r.card_token, r.notice_days, {LAWYER_COLUMNS}",
    subject="lawyer_id",
)
# An account is read by its policy's id; its balance comes from the ledger.
_BALANCE = (
    "(SELECT coalesce(sum(CASE e.kind WHEN 'payment' THEN -e.amount"
    " WHEN 'failed_payment' THEN 0 ELSE e.amount END), 0)"
    " FROM ledger_entry AS e WHERE e.policy_id = a.policy_id)"
)
ACCOUNTS = Source(
    "payment_account",
    "(SELECT a.policy_id AS id, a.lawyer_id, a.status, a.delinquent_since,"  # noqa: S608 (constants)
    f" a.opened_at AS created_at, {_BALANCE} AS balance FROM payment_account AS a) AS r"
    f" {lawyer_join('r.lawyer_id')}",
    columns=f"r.*, {LAWYER_COLUMNS}",
    subject="lawyer_id",
)


# An account as answered, in one statement: its receivables with what is unpaid of each (as
# `_UNPAID`), its ledger, the lawyer's deductible calls and their ledger, and its refunds, each
# a JSON array (amounts as text, exact; times in UTC); and whether anything is waiting to be
# brought in (`waiting__`: then the account is brought up to date first, see `_waiting`).
_UTC = """to_char({t} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""
_RECEIVABLES = (
    "coalesce((SELECT jsonb_agg(jsonb_build_object('id', x.id, 'kind', x.kind, 'due_on',"
    " x.due_on, 'scheduled_on', x.scheduled_on, 'amount', x.amount::text, 'status', x.status,"
    " 'unpaid', (x.amount + coalesce((SELECT sum(CASE e.kind WHEN 'payment' THEN -e.amount"
    " ELSE e.amount END) FROM ledger_entry AS e WHERE e.receivable_id = x.id"
    " AND (e.kind = 'payment' OR (e.kind = 'adjustment' AND e.amount < 0))), 0))::text)"
    " ORDER BY x.due_on, x.scheduled_on, x.origin) FROM receivable AS x WHERE {where}), '[]')"
)
_LEDGER = (
    "coalesce((SELECT jsonb_agg(jsonb_build_object('seq', e.seq, 'kind', e.kind, 'amount',"  # noqa: S608
    " e.amount::text, 'receivable_id', e.receivable_id, 'payor', e.payor,"
    " 'processor_reference', e.processor_reference, 'note', e.note, 'created_at', "
    + _UTC.format(t="e.created_at")
    + ") ORDER BY e.seq) FROM ledger_entry AS e WHERE {where}), '[]')"
)
_REFUNDS = (
    "coalesce((SELECT jsonb_agg(jsonb_build_object('id', f.id, 'payor', f.payor, 'payee',"  # noqa: S608
    " f.payee, 'amount', f.amount::text, 'status', f.status, 'reason', f.reason,"
    " 'processor_reference', f.processor_reference, 'failure_reason', f.failure_reason,"
    " 'created_at', "
    + _UTC.format(t="f.created_at")
    + ") ORDER BY f.created_at, f.id) FROM payment_refund AS f WHERE f.policy_id = a.policy_id),"
    " '[]')"
)


def _waiting(policy: str) -> str:
    """SQL: whether a mid-term change that moved the total of the policy whose id is the SQL
    expression `policy`, or a deductible call of its lawyer, has no receivable yet (what
    `open_account` brings in)."""
    return (
        f"EXISTS (SELECT 1 FROM ({adjustments_sql(policy)}) AS m WHERE NOT EXISTS (SELECT 1"  # noqa: S608 (an expression)
        " FROM receivable AS x WHERE x.origin = 'adjustment:' || m.id::text))"
        f" OR EXISTS (SELECT 1 FROM ({calls_of_sql(policy_lawyer_sql(policy))}) AS c"
        " WHERE NOT EXISTS (SELECT 1 FROM receivable AS x"
        " WHERE x.origin = 'deductible_call:' || c.id::text))"
    )


ACCOUNT = Source(
    "payment_account",
    "(SELECT a.policy_id AS id, a.lawyer_id, a.status, a.delinquent_since,"  # noqa: S608 (constants)
    f" a.opened_at AS created_at, {_waiting('a.policy_id')} AS waiting__,"
    f" {_RECEIVABLES.format(where='x.policy_id = a.policy_id')} AS receivables__,"
    f" {_LEDGER.format(where='e.policy_id = a.policy_id')} AS ledger__,"
    " "
    + _RECEIVABLES.format(where="x.lawyer_id = a.lawyer_id AND x.kind = 'deductible_call'")
    + " AS calls__, "
    + _LEDGER.format(where="e.policy_id IS NULL AND e.lawyer_id = a.lawyer_id")
    + f" AS call_ledger__, {_REFUNDS} AS refunds__ FROM payment_account AS a) AS r"
    f" {lawyer_join('r.lawyer_id')}",
    columns=f"r.*, {LAWYER_COLUMNS}",
    subject="lawyer_id",
)


def account_probe(principal: Principal, policy_id: UUID) -> Bound:
    """Whether the caller may see the policy (`visible__`), and whether its account is not
    opened yet or something is waiting to be brought in (`waiting__`, see `_waiting`)."""
    return compose(
        "SELECT {visible} AS visible__,"
        " NOT EXISTS (SELECT 1 FROM payment_account WHERE policy_id = {account})"
        " OR {waiting} AS waiting__",
        account=Bound(":v", {"v": policy_id}),
        visible=_policy_visible(principal, policy_id),
        waiting=Bound(_waiting(":v"), {"v": policy_id}),
    )


def visible_to(principal: Principal, *, owner: str = "r.lawyer_id") -> Visibility:
    """Need to know: the lawyer their own; a firm admin or integration their firm's lawyers';
    finance and customer service all."""
    return lawyer_records_visible(principal, readers=READERS, owner=owner)


def _policy_visible(principal: Principal, policy_id: UUID) -> Bound:
    """SQL: whether the caller may see the policy (need to know, as for its account)."""
    return compose(
        "EXISTS (SELECT 1 FROM policy AS r WHERE r.id = {id} AND {visible})",
        id=Bound(":v", {"v": policy_id}),
        visible=visible_to(principal),
    )


async def policy_visible(db: AsyncSession, principal: Principal, policy_id: UUID) -> bool:
    stmt, params = statement(
        compose("SELECT {visible}", visible=_policy_visible(principal, policy_id))
    )
    return bool((await db.execute(stmt, params)).scalar())


async def account(
    db: AsyncSession, policy_id: UUID, *, for_update: bool = False
) -> PaymentAccount | None:
    stmt = select(PaymentAccount).where(PaymentAccount.policy_id == policy_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await db.execute(stmt)).scalar_one_or_none()


async def claim_account(db: AsyncSession, policy_id: UUID, lawyer_id: UUID) -> bool:
    """Insert the policy's account; False when it was opened already (by anyone, even now)."""
    stmt = (
        insert(PaymentAccount)
        .values(policy_id=policy_id, lawyer_id=lawyer_id, status="current")
        .on_conflict_do_nothing(index_elements=["policy_id"])
        .returning(PaymentAccount.policy_id)
    )
    return (await db.execute(stmt)).first() is not None


async def add_receivable(db: AsyncSession, **values: object) -> UUID | None:
    """Insert a receivable unless its origin is there already; its id, or None."""
    stmt = (
        insert(Receivable)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["origin"])
        .returning(Receivable.id)
    )
    return (await db.execute(stmt)).scalar_one_or_none()


# A receivable with what is left to pay of it: its amount, less the refunds that reduced it,
# less the payments made on it.
_UNPAID = (
    "SELECT r.*, r.amount + coalesce((SELECT sum(CASE e.kind WHEN 'payment' THEN -e.amount"
    " ELSE e.amount END) FROM ledger_entry AS e WHERE e.receivable_id = r.id"
    " AND (e.kind = 'payment' OR (e.kind = 'adjustment' AND e.amount < 0))), 0) AS unpaid"
    " FROM receivable AS r WHERE {where} ORDER BY r.due_on, r.scheduled_on, r.origin"
)


async def receivables(
    db: AsyncSession, *, policy_ids: Sequence[UUID] | None = None, lawyer_calls: UUID | None = None
) -> Sequence[RowMapping]:
    if lawyer_calls is not None:
        where = Bound(
            "r.lawyer_id = :lawyer AND r.kind = 'deductible_call'", {"lawyer": lawyer_calls}
        )
    else:
        where = Bound("r.policy_id = ANY(:ids)", {"ids": list(policy_ids or [])})
    stmt, params = statement(compose(_UNPAID, where=where))
    return (await db.execute(stmt, params)).mappings().all()


async def receivable_by_id(
    db: AsyncSession, principal: Principal, receivable_id: UUID
) -> RowMapping | None:
    query = compose(
        _UNPAID.replace("WHERE {where}", "WHERE r.id = {id} AND {visible}"),
        id=Bound(":v", {"v": receivable_id}),
        visible=visible_to(principal),
    )
    stmt, params = statement(query)
    return (await db.execute(stmt, params)).mappings().first()


async def lock_receivable(db: AsyncSession, receivable_id: UUID) -> None:
    await db.execute(select(Receivable.id).where(Receivable.id == receivable_id).with_for_update())


async def authorizations_of(
    db: AsyncSession, policy_ids: Sequence[UUID]
) -> list[PaymentAuthorization]:
    stmt = (
        select(PaymentAuthorization)
        .where(PaymentAuthorization.policy_id.in_(policy_ids))
        .order_by(PaymentAuthorization.created_at, PaymentAuthorization.id)
    )
    return list((await db.execute(stmt)).scalars())


async def active_authorization(db: AsyncSession, policy_id: UUID) -> PaymentAuthorization | None:
    stmt = (
        select(PaymentAuthorization)
        .where(
            PaymentAuthorization.policy_id == policy_id,
            PaymentAuthorization.status == AuthorizationStatus.active,
        )
        .with_for_update()
    )
    return (await db.execute(stmt)).scalars().first()


async def attempts_of(db: AsyncSession, policy_ids: Sequence[UUID]) -> list[CollectionAttempt]:
    stmt = (
        select(CollectionAttempt)
        .where(CollectionAttempt.policy_id.in_(policy_ids))
        .order_by(CollectionAttempt.attempted_on, CollectionAttempt.created_at)
    )
    return list((await db.execute(stmt)).scalars())


async def attempt_by_key(db: AsyncSession, key: str) -> CollectionAttempt | None:
    stmt = select(CollectionAttempt).where(CollectionAttempt.idempotency_key == key)
    return (await db.execute(stmt)).scalar_one_or_none()


# Policies a collection run visits: with an active debit or card authorization (one active per
# policy, a unique index), in policy order, a page at a time; left out in the query already:
# delinquent accounts, policies collected today, and opened accounts with nothing due, neither
# of their own nor of the lawyer's earlier policy periods (arrears the authorization covers).
_COLLECTABLE = (
    "SELECT a.policy_id, a.lawyer_id, (acc.policy_id IS NOT NULL) AS opened"
    " FROM payment_authorization AS a"
    " LEFT JOIN payment_account AS acc ON acc.policy_id = a.policy_id"
    " WHERE a.status = 'active' AND a.method IN ('pad', 'card'){after}"
    " AND (acc.policy_id IS NULL OR (acc.status = 'current'"
    " AND NOT EXISTS (SELECT 1 FROM collection_attempt AS c WHERE c.policy_id = a.policy_id"
    " AND c.attempted_on = :on AND c.source = 'collection' AND c.status <> 'pending')"
    " AND (EXISTS (SELECT 1 FROM receivable AS r WHERE r.policy_id = a.policy_id"
    " AND r.due_on <= :on AND r.status IN ('due', 'failed'))"
    " OR EXISTS (SELECT 1 FROM receivable AS r JOIN policy AS earlier ON earlier.id ="
    " r.for_policy_id WHERE r.lawyer_id = a.lawyer_id AND r.due_on <= :on"
    " AND r.status IN ('due', 'failed') AND earlier.program_year <"
    " (SELECT p.program_year FROM policy AS p WHERE p.id = a.policy_id)))))"
    " ORDER BY a.policy_id LIMIT :n"
)
_FIRST_PAGE = text(_COLLECTABLE.format(after=""))
_NEXT_PAGE = text(_COLLECTABLE.format(after=" AND a.policy_id > :after"))


async def collectable_policies(
    db: AsyncSession, *, on: date, after: UUID | None, limit: int
) -> Sequence[RowMapping]:
    if after is None:
        return (await db.execute(_FIRST_PAGE, {"n": limit, "on": on})).mappings().all()
    params = {"after": after, "n": limit, "on": on}
    return (await db.execute(_NEXT_PAGE, params)).mappings().all()


async def accounts_of(
    db: AsyncSession, policy_ids: Sequence[UUID], *, for_update: bool = False
) -> dict[UUID, PaymentAccount]:
    stmt = select(PaymentAccount).where(PaymentAccount.policy_id.in_(policy_ids))
    if for_update:
        stmt = stmt.with_for_update()
    return {a.policy_id: a for a in (await db.execute(stmt)).scalars()}


async def all_authorizations_with_accounts(
    db: AsyncSession, *, after: UUID | None, limit: int
) -> list[PaymentAuthorization]:
    stmt = select(PaymentAuthorization).where(
        PaymentAuthorization.account_number_token.is_not(None)
    )
    if after is not None:
        stmt = stmt.where(PaymentAuthorization.id > after)
    stmt = stmt.order_by(PaymentAuthorization.id).limit(limit).with_for_update()
    return list((await db.execute(stmt)).scalars())


async def paid_by_receivable(db: AsyncSession, policy_ids: Sequence[UUID]) -> dict[UUID, Decimal]:
    """What was paid on each receivable of the policies."""
    stmt = (
        select(LedgerEntry.receivable_id, func.sum(LedgerEntry.amount))
        .where(
            LedgerEntry.policy_id.in_(policy_ids),
            LedgerEntry.kind == "payment",
            LedgerEntry.receivable_id.is_not(None),
        )
        .group_by(LedgerEntry.receivable_id)
    )
    return {rid: amount for rid, amount in (await db.execute(stmt)).all() if rid is not None}


def due_on_or_before(on: date) -> Bound:
    return Bound("r.due_on <= :on", {"on": on})


# What each receipt of a policy (a succeeded charge, or money received another way) has left to
# refund: its amount less its refunds not refused; in the order the money came in.
_RECEIPTS = text(
    "SELECT a.id, coalesce(a.payor, :card) AS payor,"
    " CASE WHEN a.source = 'cheque' THEN NULL ELSE a.processor_reference END AS reference,"
    " a.amount - coalesce((SELECT sum(f.amount) FROM payment_refund AS f"
    " WHERE f.attempt_id = a.id AND f.status <> 'failed'), 0) AS left_to_refund"
    " FROM collection_attempt AS a WHERE a.policy_id = :policy AND a.status = 'succeeded'"
    " ORDER BY a.created_at, a.id"
)
CARD_HOLDER = "the card holder (token payment)"


async def receipts_left(db: AsyncSession, policy_id: UUID) -> list[tuple[UUID, Receipt]]:
    rows = await db.execute(_RECEIPTS, {"policy": policy_id, "card": CARD_HOLDER})
    return [
        (row.id, Receipt(row.payor, row.reference, row.left_to_refund))
        for row in rows
        if row.left_to_refund > 0
    ]


async def payors_of(db: AsyncSession, policy_id: UUID) -> list[str]:
    """Who paid this policy's premium (by name), in the order their money first came in."""
    everyone = await db.execute(
        text(
            "SELECT coalesce(payor, :card) FROM collection_attempt WHERE policy_id = :policy"
            " AND status = 'succeeded' GROUP BY 1 ORDER BY min(created_at)"
        ),
        {"policy": policy_id, "card": CARD_HOLDER},
    )
    return list(everyone.scalars())


async def payee_requests(
    db: AsyncSession, policy_ids: Sequence[UUID]
) -> dict[tuple[UUID, str], RefundPayeeRequest]:
    """The latest recorded request per policy and original payor."""
    stmt = (
        select(RefundPayeeRequest)
        .where(RefundPayeeRequest.policy_id.in_(policy_ids))
        .order_by(RefundPayeeRequest.created_at, RefundPayeeRequest.id)
    )
    return {(r.policy_id, r.original_payor): r for r in (await db.execute(stmt)).scalars()}


async def pending_refunds(
    db: AsyncSession, *, after: UUID | None, limit: int
) -> list[PaymentRefund]:
    stmt = select(PaymentRefund).where(PaymentRefund.status == "pending")
    if after is not None:
        stmt = stmt.where(PaymentRefund.id > after)
    return list((await db.execute(stmt.order_by(PaymentRefund.id).limit(limit))).scalars())


# Arrears (RULES.md §5: an authorization also covers amounts still owed for earlier policy
# periods; the PPA form: "any outstanding premiums and other payments owing for prior policy
# periods"): the receivables due of the lawyers' earlier periods, each with the policy whose
# authorization takes it: the lawyer's latest policy with an active debit or card authorization,
# when the period is earlier than that policy's and the receivable's own policy has none.
_ARREARS = (
    "SELECT u.*, period.program_year, taker.policy_id AS taker_policy_id FROM ("  # noqa: S608 (constants)
    + _UNPAID.replace(" ORDER BY r.due_on, r.scheduled_on, r.origin", "")
    + ") AS u JOIN policy AS period ON period.id = u.for_policy_id"
    " JOIN LATERAL (SELECT a.policy_id, p.program_year FROM payment_authorization AS a"
    " JOIN policy AS p ON p.id = a.policy_id WHERE a.lawyer_id = u.lawyer_id"
    " AND a.status = 'active' AND a.method IN ('pad', 'card')"
    " ORDER BY p.program_year DESC, a.policy_id LIMIT 1) AS taker ON true"
    " WHERE period.program_year < taker.program_year AND taker.policy_id = ANY({takers})"
    " AND u.unpaid > 0 AND NOT EXISTS (SELECT 1 FROM payment_authorization AS own"
    " WHERE own.policy_id = u.policy_id AND own.status = 'active'"
    " AND own.method IN ('pad', 'card'))"
    " ORDER BY u.due_on, u.scheduled_on, u.origin"
)


async def arrears(db: AsyncSession, policy_ids: Sequence[UUID], on: date) -> Sequence[RowMapping]:
    where = Bound(
        "r.lawyer_id IN (SELECT p.lawyer_id FROM policy AS p WHERE p.id = ANY(:takers))"
        " AND r.status IN ('due', 'failed') AND r.due_on <= :on",
        {"takers": list(policy_ids), "on": on},
    )
    takers = Bound(":v", {"v": list(policy_ids)})
    stmt, params = statement(compose(_ARREARS, where=where, takers=takers))
    return (await db.execute(stmt, params)).mappings().all()


async def receivables_by_id(db: AsyncSession, ids: Sequence[UUID]) -> Sequence[RowMapping]:
    where = Bound("r.id = ANY(:ids)", {"ids": list(ids)})
    stmt, params = statement(compose(_UNPAID, where=where))
    return (await db.execute(stmt, params)).mappings().all()


async def collection_attempts_on(
    db: AsyncSession, authorization_ids: Sequence[UUID], on: date
) -> list[CollectionAttempt]:
    """A day's collection attempts under the authorizations (the policy's own and arrears)."""
    stmt = select(CollectionAttempt).where(
        CollectionAttempt.authorization_id.in_(authorization_ids),
        CollectionAttempt.attempted_on == on,
        CollectionAttempt.source == "collection",
    )
    return list((await db.execute(stmt)).scalars())


async def origins_present(db: AsyncSession, origins: Sequence[str]) -> set[str]:
    stmt = select(Receivable.origin).where(Receivable.origin.in_(origins))
    return set((await db.execute(stmt)).scalars())
