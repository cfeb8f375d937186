"""Payment rules (RULES.md §5, the settlement part of §3; guide p.14-15, p.21-22 and the Premium
Payment Authorization form), pure: plans and methods, pre-authorized debit details, the 10-day
rule, collection with the three-strike rule, refund settlement and the premium ledger.

Money is Decimal to the cent; the checks return every broken rule at once, each naming its field."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from app.quotes.rules import CENT, ZERO, PaymentPlan, Violation

# The quote's payment plan is the payment plan: one enum, so a quote's plan is a payment's plan.
Plan = PaymentPlan


class Method(StrEnum):
    pad = "pad"  # pre-authorized debit from a Canadian bank account
    card = "card"  # through the payment processor's token, never a card number
    cheque = "cheque"


METHODS_BY_PLAN: Mapping[Plan, frozenset[Method]] = {
    Plan.lump_sum: frozenset(Method),
    Plan.quarterly: frozenset({Method.pad, Method.card}),
    Plan.monthly: frozenset({Method.pad, Method.card}),
}
CURRENCY = "CAD"
# Notice a change of payment details needs before a payment date (guide p.21, PPA form term 1),
# and before one under an authorization signed on the application form itself (its own text).
NOTICE_DAYS = 10
APPLICATION_FORM_NOTICE_DAYS = 30
STRIKES = 3  # consecutive failed instalment dates after which debits stop (PPA form term 5)

_DIGITS = re.compile(r"[0-9]+")


def check_plan_and_method(plan: str, method: str) -> list[Violation]:
    """Lump sum by cheque, pre-authorized debit or card; instalments by debit or card only."""
    problems = []
    if plan not in set(Plan):
        problems.append(Violation("plan", "unknown_option", f"Must be one of {', '.join(Plan)}."))
    if method not in set(Method):
        problems.append(
            Violation("method", "unknown_option", f"Must be one of {', '.join(Method)}.")
        )
    if not problems and Method(method) not in METHODS_BY_PLAN[Plan(plan)]:
        problems.append(
            Violation(
                "method",
                "cheque_lump_sum_only",
                "A cheque pays a lump sum only; instalments are paid by pre-authorized debit "
                "or card.",
            )
        )
    return problems


def _digits_field(field: str, label: str, value: str, low: int, high: int) -> list[Violation]:
    size = f"exactly {low} digits" if low == high else f"{low} to {high} digits"
    if not value:
        return [Violation(field, "required", f"The {label} is required.")]
    if not _DIGITS.fullmatch(value):
        return [Violation(field, "not_digits", f"The {label} is {size}, nothing else.")]
    if not low <= len(value) <= high:
        return [Violation(field, "wrong_length", f"The {label} is {size}, not {len(value)}.")]
    return []


def check_bank_account(institution: str, transit: str, account: str) -> list[Violation]:
    """A Canadian account for pre-authorized debit: a 3-digit institution number, a 5-digit
    transit (branch) number and a 7- to 12-digit account number, digits 0-9 only."""
    return [
        *_digits_field("institution_number", "institution number", institution, 3, 3),
        *_digits_field("transit_number", "transit number", transit, 5, 5),
        *_digits_field("account_number", "account number", account, 7, 12),
    ]


def check_currency(code: str) -> list[Violation]:
    """Payments are drawn on Canadian institutions in Canadian funds only (PPA form term 3)."""
    if code == CURRENCY:
        return []
    return [Violation("currency", "cad_only", "Payments are in Canadian dollars (CAD) only.")]


def first_instalment_affected(
    change_received: date, due_dates: Sequence[date], *, signed_on_application_form: bool
) -> date | None:
    """The first due date a change of payment details reaches: one at least 10 days after the
    change is received (exactly 10 counts), or 30 days for a change to an authorization signed on
    the application form itself. Earlier payments use the details on file; None if none is left."""
    notice = APPLICATION_FORM_NOTICE_DAYS if signed_on_application_form else NOTICE_DAYS
    earliest = change_received + timedelta(days=notice)
    return min((d for d in due_dates if d >= earliest), default=None)


# Collection


@dataclass(frozen=True)
class Instalment:
    due_on: date
    amount: Decimal


@dataclass(frozen=True)
class Attempt:
    """One debit or charge of the payor's account (or card), as the processor reported it."""

    on: date
    amount: Decimal
    succeeded: bool


@dataclass(frozen=True)
class Collection:
    amount_to_collect_now: Decimal  # overdue and due today; everything unpaid once stopped
    stopped: bool  # no more debit attempts
    whole_balance_due: bool
    consecutive_failures: int  # failed instalment dates since the last successful debit
    outstanding: Decimal  # everything not yet paid, future instalments included


def collection_plan(
    schedule: Sequence[Instalment], attempts: Sequence[Attempt], *, as_of: date
) -> Collection:
    """What to collect on `as_of` (RULES.md §5, PPA form term 5).

    - Successful attempts on or before `as_of` pay; later ones are not known yet. Failed ones
      move no money.
    - An instalment due on or before `as_of` and not paid is due now, so a failed instalment is
      asked for again with the next (the next date's attempt asks for both); instalments paid
      count oldest first.
    - A failed instalment date is a due date on or before `as_of`, after the last successful
      debit, with at least one attempt on it or before the next due date and all of them failed.
      A date with no attempt yet neither counts nor breaks the run: on the third date the debit
      asking for all three is tried first, and a date we did not try is not the payor's failure.
    - When the third such date in a row fails, attempts stop and the whole outstanding balance
      is due at once. That stays so even if money comes in later, on that date or after
      (reinstating a plan is a staff decision, a new schedule); `consecutive_failures` counts
      again from that money.
    """
    ordered = sorted(schedule, key=lambda i: i.due_on)
    known = sorted((a for a in attempts if a.on <= as_of), key=lambda a: a.on)  # stable
    paid = sum((a.amount for a in known if a.succeeded), ZERO)
    outstanding = max(ZERO, sum((i.amount for i in ordered), ZERO) - paid)
    due = sum((i.amount for i in ordered if i.due_on <= as_of), ZERO)

    dates = sorted({i.due_on for i in ordered if i.due_on <= as_of})
    failures = 0
    stopped = False
    for n, due_on in enumerate(dates):  # in time order, so that a stop is never undone
        window_end = dates[n + 1] if n + 1 < len(dates) else None
        counted = debited = False
        for a in known:
            if a.on < due_on or (window_end is not None and a.on >= window_end):
                continue
            if a.succeeded:
                failures, debited = 0, True
            elif not (counted or debited):
                failures, counted = failures + 1, True
                stopped = stopped or failures >= STRIKES

    now = outstanding if stopped else max(ZERO, due - paid)
    return Collection(
        amount_to_collect_now=now,
        stopped=stopped,
        whole_balance_due=stopped,
        consecutive_failures=failures,
        outstanding=outstanding,
    )


# Refund settlement


@dataclass(frozen=True)
class Settlement:
    instalments: tuple[Instalment, ...]  # the unpaid instalments left, by date, none of 0.00
    applied_to_instalments: Decimal
    payments_back: Mapping[str, Decimal]  # payor -> amount, in the order given, none of 0.00
    returned: Decimal  # the sum of payments_back


def _is_money(value: object) -> bool:
    """A finite Decimal with at most 2 decimal places (1.5, 1.50 and 1.500 alike)."""
    if not isinstance(value, Decimal) or not value.is_finite():
        return False
    try:
        return value == value.quantize(CENT)
    except InvalidOperation:  # more digits than any amount has
        return False


def _require_money(name: str, value: Decimal) -> None:
    if not _is_money(value) or value < 0:
        raise ValueError(f"{name} must be a Decimal amount of 0.00 or more, to the cent")


def settle_refund(
    refund: Decimal, unpaid: Sequence[Instalment], received_by_payor: Mapping[str, Decimal]
) -> Settlement:
    """Settle a refund (RULES.md §3, last paragraph; §5): it first cancels what is still owed,
    reducing the unpaid instalments latest first (the refund is for the end of the period, which
    the latest instalments pay for); only what exceeds them goes back, to the original payors,
    each at most what it paid. `received_by_payor` lists what each payor paid (less what it already
    had back) in the order their money came in; the latest payor's money goes back first, as
    the latest instalments are cancelled first. Staff who record a written request of the lawyer
    and the payor to pay someone else redirect the payment afterwards; this does not.

    Raises ValueError for an amount below 0 or not to the cent, or a refund larger than what is
    unpaid plus what was received (it could not have been charged)."""
    _require_money("refund", refund)
    for inst in unpaid:
        _require_money("an unpaid instalment", inst.amount)
    for paid in received_by_payor.values():
        _require_money("a payor's receipts", paid)

    order = sorted(range(len(unpaid)), key=lambda i: unpaid[i].due_on)  # stable
    left = [inst.amount for inst in unpaid]
    remaining = refund
    for i in reversed(order):
        take = min(remaining, left[i])
        left[i] -= take
        remaining -= take
    applied = refund - remaining

    back: dict[str, Decimal] = {}
    for payor in reversed(list(received_by_payor)):
        take = min(remaining, received_by_payor[payor])
        if take:
            back[payor] = take
            remaining -= take
    if remaining:
        raise ValueError("the refund exceeds what is unpaid plus what was received")
    return Settlement(
        instalments=tuple(Instalment(unpaid[i].due_on, left[i]) for i in order if left[i]),
        applied_to_instalments=applied,
        payments_back={payor: back[payor] for payor in received_by_payor if payor in back},
        returned=refund - applied,
    )


# The ledger


class EntryKind(StrEnum):
    charge = "charge"  # premium and tax billed
    adjustment = "adjustment"  # a mid-term change, up or down; never 0
    payment = "payment"  # money received
    failed_payment = "failed_payment"  # an attempt that moved no money: recorded, no effect
    refund = "refund"  # money paid back


@dataclass(frozen=True)
class LedgerEntry:
    kind: EntryKind
    amount: Decimal


_SIGN = {
    EntryKind.charge: 1,
    EntryKind.adjustment: 1,
    EntryKind.payment: -1,
    EntryKind.failed_payment: 0,
    EntryKind.refund: 1,
}


def signed_amount(entry: LedgerEntry) -> Decimal:
    """What an entry adds to the balance owed."""
    sign = _SIGN[EntryKind(entry.kind)]
    return entry.amount * sign if sign else ZERO


def owed(entries: Iterable[LedgerEntry]) -> Decimal:
    """Charges plus adjustments."""
    kinds = (EntryKind.charge, EntryKind.adjustment)
    return sum((e.amount for e in entries if e.kind in kinds), ZERO)


def received(entries: Iterable[LedgerEntry]) -> Decimal:
    """Payments less refunds: the money kept."""
    return sum(
        (-signed_amount(e) for e in entries if e.kind in (EntryKind.payment, EntryKind.refund)),
        ZERO,
    )


def balance(entries: Iterable[LedgerEntry]) -> Decimal:
    """Owed minus received: charges + adjustments - payments + refunds. Below 0 is a credit."""
    return sum((signed_amount(e) for e in entries), ZERO)


def check_entry(entries: Sequence[LedgerEntry], new: LedgerEntry) -> list[Violation]:
    """Whether `new` may follow `entries`: an amount to the cent, above 0 (an adjustment may be
    below 0, never 0); a refund at most what was received less refunded; a payment at most the
    balance owed; an adjustment never taking what is owed below 0."""
    if new.kind not in set(EntryKind):
        return [Violation("kind", "unknown_option", f"Must be one of {', '.join(EntryKind)}.")]
    kind, amount = EntryKind(new.kind), new.amount
    if not isinstance(amount, Decimal) or not amount.is_finite():
        return [Violation("amount", "invalid", "Must be an amount in dollars and cents.")]
    problems = []
    if not _is_money(amount):
        problems.append(
            Violation("amount", "too_many_decimals", "Must have at most 2 decimal places.")
        )
    if kind is EntryKind.adjustment and amount == 0:
        problems.append(Violation("amount", "zero_adjustment", "An adjustment is never 0."))
    elif kind is not EntryKind.adjustment and amount <= 0:
        problems.append(Violation("amount", "not_positive", "Must be more than 0."))
    if problems:
        return problems
    if kind is EntryKind.refund and amount > (kept := received(entries)):
        problems.append(
            Violation(
                "amount",
                "refund_exceeds_received",
                f"A refund of {amount} is more than the {kept} received less refunded.",
            )
        )
    if kind is EntryKind.payment and amount > (due := balance(entries)):
        problems.append(
            Violation(
                "amount",
                "more_than_owed",
                f"A payment of {amount} is more than the {max(due, ZERO)} owed.",
            )
        )
    if kind is EntryKind.adjustment and owed(entries) + amount < 0:
        problems.append(
            Violation(
                "amount",
                "owed_below_zero",
                f"An adjustment of {amount} would take what is owed, {owed(entries)}, below 0.",
            )
        )
    return problems


def check_payment(amount: Decimal, currency: str, owed_now: Decimal) -> list[Violation]:
    """A payment of `amount` in `currency` against `owed_now` (what the payment may cover): in
    Canadian dollars (PPA form term 3), and an amount `check_entry` accepts as a payment on a
    ledger that owes `owed_now` (to the cent, above 0, never more than owed)."""
    owing = [LedgerEntry(EntryKind.charge, owed_now)] if owed_now > 0 else []
    return [*check_currency(currency), *check_entry(owing, LedgerEntry(EntryKind.payment, amount))]


# Refunds paid out


@dataclass(frozen=True)
class Receipt:
    """Money one payor paid on an account: a processor's charge (its reference), or money
    received another way (reference None); `amount` is what is left of it to refund."""

    payor: str
    reference: str | None
    amount: Decimal


def refunds_by_receipt(
    refund: Decimal, receipts: Sequence[Receipt]
) -> list[tuple[Receipt, Decimal]]:
    """What goes back of `refund` (the part beyond what is unpaid, RULES.md §3), against which
    receipt: to the payors as `settle_refund` shares it (the latest payor's money first, each
    payor at most what it paid), and within a payor its latest receipts first, each at most what
    is left of it. `receipts` are in the order the money came in.

    Raises ValueError for an amount below 0 or not to the cent, or a refund larger than what
    was received."""
    by_payor: dict[str, Decimal] = {}
    for r in receipts:
        _require_money("a receipt", r.amount)
        by_payor[r.payor] = by_payor.get(r.payor, ZERO) + r.amount
    back = settle_refund(refund, [], by_payor).payments_back
    portions: list[tuple[Receipt, Decimal]] = []
    for payor, share in back.items():
        left = share
        for r in reversed([r for r in receipts if r.payor == payor]):
            take = min(left, r.amount)
            if take > 0:
                portions.append((r, take))
                left -= take
    return portions
