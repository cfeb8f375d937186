"""Deductible options (RULES.md §2; guide p.10-11).

The 25,000 deductible's billing threshold follows the practice type, whichever code family the
lawyer reported: alone (sole practitioner, alone in a law corporation), the lawyer's gross
billings of 400,000 or more; with others (partnership, association, law corporation of several
lawyers), average gross billings per lawyer of 250,000 or more. A code wholly at or above the
threshold qualifies, one wholly below does not, one containing it needs the amount stated; an
AC code says nothing about the firm's average, so with others it always needs the average."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from app.applications.form import (
    NOT_IN_PRIVATE_PRACTICE,
    PRACTISING_ALONE,
    PRACTISING_WITH_OTHERS,
    ApplicationForm,
)
from app.applications.rules.billing import billings_reach, is_average
from app.applications.rules.facts import LawyerHistory, recent_claims
from app.quotes.rules import Deductible, Violation

SOLE_25K_THRESHOLD = Decimal(400_000)
FIRM_25K_THRESHOLD = Decimal(250_000)
HIGH_DEDUCTIBLES = frozenset(
    {Deductible.combined_10000, Deductible.indemnity_10000, Deductible.combined_25000}
)


def check_deductibles(
    form: ApplicationForm, history: LawyerHistory, program_year: int
) -> Iterator[Violation]:
    deductible = form.c.deductible
    natures = set(form.b.nature_of_practice or ())
    if deductible is Deductible.nil and recent_claims(form, history):
        yield Violation(
            "c.deductible",
            "nil_deductible_claims_history",
            "The nil deductible needs no claim or circumstance notice in the last 5 years.",
        )
    if deductible in HIGH_DEDUCTIBLES and natures & NOT_IN_PRIVATE_PRACTICE:
        yield Violation(
            "c.deductible",
            "high_deductible_not_in_private_practice",
            "The 10,000 and 25,000 deductibles are for lawyers in private practice only.",
        )
    if deductible is Deductible.combined_25000:
        if natures & PRACTISING_ALONE:
            yield from _alone_billings(form)
        if natures & PRACTISING_WITH_OTHERS:
            yield from _average_billings(form)


def _alone_billings(form: ApplicationForm) -> Iterator[Violation]:
    """Alone: the lawyer's own gross billings of 400,000 or more."""
    code = form.a.billing_code
    reached = billings_reach(code, form.a.gross_billings, SOLE_25K_THRESHOLD)
    if reached is None and code is not None:
        yield Violation(
            "a.gross_billings",
            "billings_amount_required",
            f"State last year's gross billings: code {code.value} does not show whether "
            f"they reach {SOLE_25K_THRESHOLD:,.0f}.",
        )
    elif reached is False:
        yield Violation(
            "c.deductible",
            "billings_below_threshold",
            "Practising alone, the 25,000 deductible needs gross billings of "
            f"{SOLE_25K_THRESHOLD:,.0f} or more last fiscal year.",
        )


def _average_billings(form: ApplicationForm) -> Iterator[Violation]:
    """With others: the firm's average gross billings per lawyer of 250,000 or more."""
    code = form.a.billing_code
    if code is None:
        return
    average = form.a.average_gross_billings
    if is_average(code):
        reached = billings_reach(code, average, FIRM_25K_THRESHOLD)
        why = f"code {code.value} does not show whether it reaches {FIRM_25K_THRESHOLD:,.0f}"
    else:
        reached = None if average is None else average >= FIRM_25K_THRESHOLD
        why = f"code {code.value} is your own billings, not the firm's average per lawyer"
    if reached is None:
        yield Violation(
            "a.average_gross_billings",
            "billings_amount_required",
            f"State last year's average gross billings per lawyer: {why}.",
        )
    elif reached is False:
        yield Violation(
            "c.deductible",
            "billings_below_threshold",
            "Practising with others, the 25,000 deductible needs average gross billings of "
            f"{FIRM_25K_THRESHOLD:,.0f} or more per lawyer last fiscal year.",
        )
