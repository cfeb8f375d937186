"""The rating engine (RULES.md §1), pure: inputs in, itemized lines, premium, tax, total and the
instalment schedule out. Exact arithmetic; each line rounded half-up to the cent on its own;
totals are sums of rounded lines."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from app.quotes.rate_tables import RateTable

CENT = Decimal("0.01")


class Deductible(StrEnum):
    nil = "nil"
    combined_2500 = "2500_combined"
    indemnity_2500 = "2500_indemnity"
    combined_5000 = "5000_combined"
    indemnity_5000 = "5000_indemnity"
    combined_10000 = "10000_combined"
    indemnity_10000 = "10000_indemnity"
    combined_25000 = "25000_combined"


class InnocentPartySublimit(StrEnum):
    limit_250000 = "250000"
    limit_500000 = "500000"
    limit_1000000 = "1000000"


class PaymentPlan(StrEnum):
    lump_sum = "lump_sum"
    quarterly = "quarterly"
    monthly = "monthly"


@dataclass(frozen=True)
class QuoteInput:
    program_year: int
    effective_date: date
    years_in_practice: int = 0
    deductible: Deductible = Deductible.combined_5000
    restricted_practice: bool = False
    part_time: bool = False
    real_estate: bool = False
    innocent_party_sublimit: InnocentPartySublimit = InnocentPartySublimit.limit_250000
    risk_management_programs: int = 0
    indian_status_certificate: bool = False
    payment_plan: PaymentPlan = PaymentPlan.lump_sum


@dataclass(frozen=True)
class QuoteLine:
    code: str
    description: str
    amount: Decimal


@dataclass(frozen=True)
class Instalment:
    due_date: date
    amount: Decimal


@dataclass(frozen=True)
class QuoteResult:
    lines: tuple[QuoteLine, ...]
    premium: Decimal
    tax: Decimal
    total: Decimal
    instalments: tuple[Instalment, ...]
    days: int
    year_days: int
    discount_percent: Decimal


@dataclass(frozen=True)
class Violation:
    field: str
    code: str
    message: str


class QuoteInputError(ValueError):
    def __init__(self, violations: list[Violation]) -> None:
        super().__init__("; ".join(f"{v.field}: {v.message}" for v in violations))
        self.violations = violations


def round_half_up(value: Fraction) -> Decimal:
    """To the cent, halves away from zero (so -0.005 is -0.01, as 0.005 is 0.01)."""
    cents = abs(value) * 100
    whole = int(cents)
    if cents - whole >= Fraction(1, 2):
        whole += 1
    amount = Decimal(whole) * CENT
    return -amount if value < 0 else amount


def round_down(value: Fraction) -> Decimal:
    """To the cent, towards zero (instalments never sum past the total)."""
    return Decimal(int(value * 100)) * CENT


def validate_quote_input(inp: QuoteInput, table: RateTable) -> list[Violation]:
    problems = []
    if inp.program_year != table.program_year:
        problems.append(
            Violation(
                "program_year", "no_rate_table", f"No rates are published for {inp.program_year}."
            )
        )
    elif not date(inp.program_year, 1, 1) <= inp.effective_date <= date(inp.program_year, 12, 31):
        problems.append(
            Violation(
                "effective_date",
                "outside_program_year",
                f"The effective date must fall within the {inp.program_year} program year.",
            )
        )
    if inp.years_in_practice < 0:
        problems.append(Violation("years_in_practice", "negative", "Must not be negative."))
    if inp.risk_management_programs < 0:
        problems.append(Violation("risk_management_programs", "negative", "Must not be negative."))
    return problems


def discount_percent(inp: QuoteInput, table: RateTable) -> Decimal:
    """New-lawyer, restricted-practice and part-time discounts together, capped."""
    total = table.new_lawyer_percent(inp.years_in_practice)
    if inp.restricted_practice:
        total += table.restricted_practice_percent
    if inp.part_time:
        total += table.part_time_percent
    return min(table.discount_cap_percent, total)


def instalment_dates(inp: QuoteInput, table: RateTable) -> list[date]:
    """Scheduled dates on or after the effective date; if none is left, the effective date."""
    months = {
        PaymentPlan.lump_sum: (),
        PaymentPlan.quarterly: table.quarterly_months,
        PaymentPlan.monthly: table.monthly_months,
    }[inp.payment_plan]
    dates = [date(inp.program_year, m, table.instalment_day) for m in months]
    left = [d for d in dates if d >= inp.effective_date]
    return left or [inp.effective_date]


def split_instalments(total: Decimal, dates: list[date]) -> tuple[Instalment, ...]:
    each = round_down(Fraction(total) / len(dates))
    first = total - each * (len(dates) - 1)
    return tuple(Instalment(d, first if i == 0 else each) for i, d in enumerate(dates))


def compute_quote(inp: QuoteInput, table: RateTable) -> QuoteResult:
    problems = validate_quote_input(inp, table)
    if problems:
        raise QuoteInputError(problems)
    year_days = 366 if calendar.isleap(inp.program_year) else 365
    days = (date(inp.program_year, 12, 31) - inp.effective_date).days + 1
    f = Fraction(days, year_days)
    base = Fraction(table.base_premium)
    pct = discount_percent(inp, table)
    deductible_pct = table.deductible_percent[inp.deductible.value]
    buy_up = table.innocent_party_fee[inp.innocent_party_sublimit.value]

    lines = [QuoteLine("base_premium", "Base premium", round_half_up(base * f))]
    if pct:
        lines.append(
            QuoteLine(
                "new_lawyer_and_practice_discount",
                f"New lawyer and practice options discount ({pct}% of base)",
                round_half_up(-Fraction(pct) / 100 * base * f),
            )
        )
    if deductible_pct:
        lines.append(
            QuoteLine(
                "deductible_adjustment",
                f"Deductible option {inp.deductible.value} ({deductible_pct:+}% of base)",
                round_half_up(Fraction(deductible_pct) / 100 * base * f),
            )
        )
    if buy_up:
        lines.append(
            QuoteLine(
                "innocent_party_buy_up",
                f"Innocent party sublimit of {int(inp.innocent_party_sublimit.value):,}",
                round_half_up(Fraction(buy_up) * f),
            )
        )
    if inp.real_estate:
        covered = max(days, table.real_estate_minimum_days)
        lines.append(
            QuoteLine(
                "real_estate_option",
                "Real Estate Practice Coverage Option",
                round_half_up(Fraction(table.real_estate_fee) * Fraction(covered, year_days)),
            )
        )
    if inp.risk_management_programs:
        credit = min(
            table.risk_management_credit_max,
            table.risk_management_credit_per_program * inp.risk_management_programs,
        )
        lines.append(
            QuoteLine(
                "risk_management_credit",
                f"Risk management credit ({inp.risk_management_programs} approved programs)",
                -credit,
            )
        )
    premium = max(Decimal("0.00"), sum((ln.amount for ln in lines), Decimal("0.00")))
    tax = (
        Decimal("0.00")
        if inp.indian_status_certificate
        else round_half_up(Fraction(premium) * Fraction(table.tax_percent) / 100)
    )
    total = premium + tax
    return QuoteResult(
        lines=tuple(lines),
        premium=premium,
        tax=tax,
        total=total,
        instalments=split_instalments(total, instalment_dates(inp, table)),
        days=days,
        year_days=year_days,
        discount_percent=pct,
    )
