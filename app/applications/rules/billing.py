"""Billing codes and the new call (RULES.md §2; guide p.6, questions 3-6).

A lawyer with less than one full year of practice enters 0 years but is not necessarily a
first-time new call: only the answer "newly called to the Bar for the first time" forces
0 years, AC0 and 0 hours (and lets Section D be left empty)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from app.applications.form import BILLING_RANGES, ApplicationForm, BillingCode
from app.applications.rules.facts import LawyerHistory
from app.quotes.rules import Violation


def is_new_call(form: ApplicationForm) -> bool:
    """A lawyer newly called to the Bar, entering practice for the first time."""
    return form.a.newly_called_first_time


def billings_reach(
    code: BillingCode | None, amount: Decimal | None, threshold: Decimal
) -> bool | None:
    """Whether billings reach `threshold`: by the code's range when it lies wholly at or above
    or wholly below, by the stated amount when the range contains it (None: amount needed)."""
    if code is None:
        return None
    low, high = BILLING_RANGES[code]
    if low >= threshold:
        return True
    if high is not None and high < threshold:
        return False
    return None if amount is None else amount >= threshold


def is_average(code: BillingCode) -> bool:
    """AV codes are the firm's average per lawyer; AC codes the lawyer's own billings."""
    return code.value.startswith("AV")


def check_new_call(
    form: ApplicationForm, history: LawyerHistory, program_year: int
) -> Iterator[Violation]:
    a = form.a
    if not is_new_call(form):
        return
    if a.years_in_practice not in (None, 0):
        yield Violation(
            "a.years_in_practice",
            "new_call_years",
            "A lawyer newly called to the Bar for the first time enters 0 full years.",
        )
    if a.billing_code not in (None, BillingCode.AC0):
        yield Violation(
            "a.billing_code",
            "new_call_billings",
            "A lawyer newly called to the Bar for the first time enters billings code AC0.",
        )
    if a.hours_last_fiscal_year not in (None, 0):
        yield Violation(
            "a.hours_last_fiscal_year",
            "new_call_hours",
            "A lawyer newly called to the Bar for the first time enters 0 hours.",
        )
    if a.practised_outside_ontario:
        yield Violation(
            "a.practised_outside_ontario",
            "new_call_practised_elsewhere",
            "A lawyer who practised outside Ontario is not newly called for the first time.",
        )
