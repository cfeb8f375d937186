"""Mid-term changes (RULES.md §2, p.12, p.15, p.19), pure: what each change does to the premium.

Decisions (where the guide leaves a choice), fixed here and tested:
- A change takes effect on the later of the date received and the date requested; never before.
- Real Estate, added: the fee pro-rated from the change's effective date to 31 December, at least
  30 days' worth; beyond the one pro-rated adjustment a year, the full annual fee.
- Real Estate, removed: the fee kept is the fee for the days covered (from the day the option
  started to the day before the change), at least 30 days' worth; the rest is returned. Beyond the
  one pro-rated adjustment a year nothing is returned (the full annual fee applies).
- Losing Part-Time eligibility: the policy is priced again from its inception without the option;
  the adjustment is the difference of every line.
- Tax follows the premium adjustment at the table's rate (none with a Certificate of Indian Status).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from fractions import Fraction

from app.quotes.rate_tables import RateTable
from app.quotes.rules import QuoteInput, QuoteResult, compute_quote, round_half_up


class ChangeNotAllowed(ValueError):
    def __init__(self, field: str, code: str, message: str) -> None:
        super().__init__(message)
        self.field, self.code, self.message = field, code, message


@dataclass(frozen=True)
class Adjustment:
    effective_date: date
    premium: Decimal  # positive: owed; negative: returned
    tax: Decimal
    total: Decimal
    pro_rated: bool
    note: str


def change_effective_date(received_on: date, requested: date | None) -> date:
    """The later of the date received and the date requested (never backdated)."""
    return max(received_on, requested or received_on)


def _days_to_year_end(day: date) -> tuple[int, int]:
    year_days = 366 if calendar.isleap(day.year) else 365
    return (date(day.year, 12, 31) - day).days + 1, year_days


def _with_tax(premium: Decimal, table: RateTable, *, tax_exempt: bool) -> tuple[Decimal, Decimal]:
    tax = (
        Decimal("0.00")
        if tax_exempt
        else round_half_up(Fraction(premium) * Fraction(table.tax_percent) / 100)
    )
    return tax, premium + tax


def _in_year(effective: date, table: RateTable) -> None:
    if effective.year != table.program_year:
        raise ChangeNotAllowed(
            "requested_date",
            "outside_policy_year",
            f"The change would take effect on {effective}, outside the {table.program_year} "
            "policy year.",
        )


def add_real_estate(
    table: RateTable, *, effective: date, prorated_before: bool, tax_exempt: bool
) -> Adjustment:
    _in_year(effective, table)
    days, year_days = _days_to_year_end(effective)
    if prorated_before:
        premium, note = (
            table.real_estate_fee,
            "full annual fee: the year's pro-rated change is used",
        )
    else:
        covered = max(days, table.real_estate_minimum_days)
        premium = round_half_up(Fraction(table.real_estate_fee) * Fraction(covered, year_days))
        note = f"{covered} of {year_days} days"
    tax, total = _with_tax(premium, table, tax_exempt=tax_exempt)
    return Adjustment(effective, premium, tax, total, not prorated_before, note)


def remove_real_estate(
    table: RateTable,
    *,
    effective: date,
    started_on: date,
    fee_paid: Decimal,
    prorated_before: bool,
    tax_exempt: bool,
) -> Adjustment:
    _in_year(effective, table)
    if prorated_before:
        zero = Decimal("0.00")
        return Adjustment(
            effective, zero, zero, zero, False, "no return: the year's pro-rated change is used"
        )
    _, year_days = _days_to_year_end(effective)
    covered = max((effective - started_on).days, table.real_estate_minimum_days)
    kept = round_half_up(Fraction(table.real_estate_fee) * Fraction(covered, year_days))
    premium = min(Decimal("0.00"), kept - fee_paid)
    tax, total = _with_tax(premium, table, tax_exempt=tax_exempt)
    return Adjustment(effective, premium, tax, total, True, f"{covered} of {year_days} days kept")


def lose_part_time(
    table: RateTable, inputs: QuoteInput, original: QuoteResult
) -> tuple[Adjustment, QuoteResult]:
    """Re-rate the whole policy from its inception without the Part-Time option."""
    if not inputs.part_time:
        raise ChangeNotAllowed(
            "kind", "not_part_time", "The policy does not have the Part-Time option."
        )
    rerated = compute_quote(replace(inputs, part_time=False), table)
    premium = rerated.premium - original.premium
    tax = rerated.tax - original.tax
    adjustment = Adjustment(
        inputs.effective_date, premium, tax, premium + tax, False, "re-rated from inception"
    )
    return adjustment, rerated


def refund_real_estate(
    table: RateTable, *, fee_paid: Decimal, effective: date, tax_exempt: bool
) -> Adjustment:
    """The option was never in force (due diligence refused it): everything paid is returned."""
    premium = -fee_paid
    tax, total = _with_tax(premium, table, tax_exempt=tax_exempt)
    return Adjustment(effective, premium, tax, total, False, "refused after due diligence")
