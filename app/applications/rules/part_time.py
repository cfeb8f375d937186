"""The Part-Time Practice option (RULES.md §2; guide p.11, p.19).

Billings are the lawyer's own: AC0 and AC1 qualify, AC2 and above do not, and an AV code (the
firm's average per lawyer, not the lawyer's own) needs the lawyer's own amount stated. A claim
includes a circumstance. The option is not available for the year after one in which the
lawyer lost Part-Time eligibility mid-term."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from app.applications.form import ApplicationForm, BillingCode
from app.applications.rules.billing import is_average
from app.applications.rules.facts import LawyerHistory, recent_claims
from app.quotes.rules import Violation

PART_TIME_MAX_HOURS = 750
PART_TIME_MAX_BILLINGS = Decimal(100_000)
PART_TIME_CODES = frozenset({BillingCode.AC0, BillingCode.AC1})


def check_part_time(
    form: ApplicationForm, history: LawyerHistory, program_year: int
) -> Iterator[Violation]:
    a, c = form.a, form.c
    if not c.part_time:
        return
    if a.hours_last_fiscal_year is not None and a.hours_last_fiscal_year > PART_TIME_MAX_HOURS:
        yield Violation(
            "c.part_time",
            "part_time_hours",
            f"Part-Time Practice allows at most {PART_TIME_MAX_HOURS} hours a year.",
        )
    yield from _own_billings(form)
    if any(claim.with_payment for claim in recent_claims(form, history)):
        yield Violation(
            "c.part_time",
            "part_time_claims_history",
            "Part-Time Practice is not available after a claim or circumstance with a payment "
            "in the last 5 years.",
        )
    if program_year - 1 in history.part_time_lost_years:
        yield Violation(
            "c.part_time",
            "part_time_lost_last_year",
            f"Part-Time Practice is not available for {program_year}: the lawyer lost "
            f"Part-Time eligibility during {program_year - 1}.",
        )


def _own_billings(form: ApplicationForm) -> Iterator[Violation]:
    code, amount = form.a.billing_code, form.a.gross_billings
    if code is None or code in PART_TIME_CODES:
        return
    if is_average(code) and amount is None:
        yield Violation(
            "a.gross_billings",
            "billings_amount_required",
            f"State your own gross billings: code {code.value} is the firm's average per "
            "lawyer, and Part-Time Practice depends on your own.",
        )
    elif not is_average(code) or (amount is not None and amount > PART_TIME_MAX_BILLINGS):
        yield Violation(
            "c.part_time",
            "part_time_billings",
            f"Part-Time Practice allows your own gross billings of at most "
            f"{PART_TIME_MAX_BILLINGS:,.0f} (AC0, AC1).",
        )
