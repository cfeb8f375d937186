"""The rating engine (RULES.md §1), pure: inputs and a rate table in; itemized lines, premium, tax,
total and the instalment schedule out. Arithmetic is exact (Fraction); each line is rounded half-up
to the cent on its own, and totals are sums of rounded lines."""

from __future__ import annotations

import calendar
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from fractions import Fraction

from app.quotes.rate_tables import RateTable, available_years

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


class Deductible(StrEnum):
    nil = "nil"
    combined_2500 = "2500_combined"
    indemnity_2500 = "2500_indemnity"
    combined_5000 = "5000_combined"  # the standard deductible
    indemnity_5000 = "5000_indemnity"
    combined_10000 = "10000_combined"
    indemnity_10000 = "10000_indemnity"
    combined_25000 = "25000_combined"


# Each option's amount per claim (what a claim's deductible starts from, RULES.md §4).
DEDUCTIBLE_AMOUNTS: dict[Deductible, Decimal] = {
    Deductible.nil: ZERO,
    Deductible.combined_2500: Decimal("2500.00"),
    Deductible.indemnity_2500: Decimal("2500.00"),
    Deductible.combined_5000: Decimal("5000.00"),
    Deductible.indemnity_5000: Decimal("5000.00"),
    Deductible.combined_10000: Decimal("10000.00"),
    Deductible.indemnity_10000: Decimal("10000.00"),
    Deductible.combined_25000: Decimal("25000.00"),
}


class InnocentPartySublimit(StrEnum):
    limit_250000 = "250000"  # included at no charge
    limit_500000 = "500000"
    limit_1000000 = "1000000"


class PaymentPlan(StrEnum):
    lump_sum = "lump_sum"
    quarterly = "quarterly"
    monthly = "monthly"


DEDUCTIBLE_NAMES = {
    Deductible.nil: "nil",
    Deductible.combined_2500: "2,500 claims expenses and indemnity",
    Deductible.indemnity_2500: "2,500 indemnity only",
    Deductible.combined_5000: "5,000 claims expenses and indemnity (standard)",
    Deductible.indemnity_5000: "5,000 indemnity only",
    Deductible.combined_10000: "10,000 claims expenses and indemnity",
    Deductible.indemnity_10000: "10,000 indemnity only",
    Deductible.combined_25000: "25,000 claims expenses and indemnity",
}


@dataclass(frozen=True)
class QuoteInput:
    program_year: int
    effective_date: date
    years_in_practice: int = 0  # full years, 200+ days each, counted by the caller
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
    rate_table_year: int
    rate_table_version: str
    rate_table_digest: str
    days: int  # days covered, effective date to 31 December inclusive
    year_days: int  # 365 or 366
    discount_percent: Decimal  # new lawyer + restricted + part-time, after the cap


@dataclass(frozen=True)
class RuleViolation:
    field: str
    code: str
    message: str


Violation = RuleViolation  # the name other domains' rules import


class QuoteInputError(ValueError):
    """The input cannot be priced; `violations` says which fields and why."""

    def __init__(self, violations: list[RuleViolation]) -> None:
        super().__init__("; ".join(f"{v.field}: {v.message}" for v in violations))
        self.violations = violations


def round_half_up(value: Fraction | Decimal) -> Decimal:
    """To the cent, halves away from zero (-0.005 is -0.01 as 0.005 is 0.01); never -0.00."""
    if isinstance(value, Decimal):
        rounded = value.quantize(CENT, rounding=ROUND_HALF_UP)
    else:
        cents = abs(value) * 100
        whole = int(cents + Fraction(1, 2))  # floor, as the value is non-negative
        rounded = Decimal(-whole if value < 0 else whole).scaleb(-2)
    return rounded if rounded else ZERO


def check_program_year(year: int, available: Collection[int] | None = None) -> list[RuleViolation]:
    """A program year can be quoted only if it has a rate table (by default: the shipped files)."""
    years = available_years() if available is None else available
    if year in years:
        return []
    return [RuleViolation("program_year", "no_rate_table", f"No rates are published for {year}.")]


def _count_violation(name: str, value: object) -> list[RuleViolation]:
    if isinstance(value, bool) or not isinstance(value, int):
        return [RuleViolation(name, "invalid", "Must be a whole number.")]
    if value < 0:
        return [RuleViolation(name, "negative", "Must not be negative.")]
    return []


def validate_quote_input(inp: QuoteInput, table: RateTable) -> list[RuleViolation]:
    """Everything that stops `inp` from being priced with `table`, field by field."""
    problems: list[RuleViolation] = []
    if inp.program_year != table.program_year:
        problems.append(
            RuleViolation(
                "program_year",
                "rate_table_mismatch",
                f"The {table.program_year} rate table cannot price the {inp.program_year} year.",
            )
        )
    if isinstance(inp.effective_date, datetime) or not isinstance(inp.effective_date, date):
        problems.append(RuleViolation("effective_date", "invalid", "Must be a calendar date."))
    elif inp.effective_date.year != inp.program_year:
        problems.append(
            RuleViolation(
                "effective_date",
                "outside_program_year",
                f"The effective date must fall within the {inp.program_year} program year "
                f"(1 January to 31 December {inp.program_year}).",
            )
        )
    problems += _count_violation("years_in_practice", inp.years_in_practice)
    problems += _count_violation("risk_management_programs", inp.risk_management_programs)
    options = (
        ("deductible", inp.deductible, table.deductible_percent),
        ("innocent_party_sublimit", inp.innocent_party_sublimit, table.innocent_party_fee),
        ("payment_plan", inp.payment_plan, {p.value: p for p in PaymentPlan}),
    )
    for name, value, known in options:
        if not isinstance(value, str) or value not in known:
            problems.append(
                RuleViolation(name, "unknown_option", f"Must be one of {', '.join(known)}.")
            )
    return problems


def discount_percent(inp: QuoteInput, table: RateTable) -> Decimal:
    """Step 1: new-lawyer, restricted-practice and part-time discounts together, capped."""
    total = table.new_lawyer_percent(inp.years_in_practice)
    if inp.restricted_practice:
        total += table.restricted_practice_percent
    if inp.part_time:
        total += table.part_time_percent
    return min(table.discount_cap_percent, total)


def instalment_dates(inp: QuoteInput, table: RateTable) -> list[date]:
    """Step 5: scheduled dates on or after the effective date; if none is left, the effective
    date (which is also the lump sum's due date)."""
    months: tuple[int, ...] = {
        PaymentPlan.lump_sum: (),
        PaymentPlan.quarterly: table.quarterly_months,
        PaymentPlan.monthly: table.monthly_months,
    }[PaymentPlan(inp.payment_plan)]
    dates = [date(inp.program_year, m, table.instalment_day) for m in months]
    return [d for d in dates if d >= inp.effective_date] or [inp.effective_date]


def split_instalments(total: Decimal, dates: list[date]) -> tuple[Instalment, ...]:
    """Each instalment is total / n rounded down to the cent; the remainder cents go first."""
    cents = int(total.scaleb(2))
    each = cents // len(dates)
    first = cents - each * (len(dates) - 1)
    return tuple(
        Instalment(d, Decimal(first if i == 0 else each).scaleb(-2).quantize(CENT))
        for i, d in enumerate(dates)
    )


def _pct(value: Decimal, *, sign: bool = False) -> str:
    return format(value.normalize(), "+f" if sign else "f") + " %"


def _years(n: int) -> str:
    return "less than a full year" if n == 0 else f"{n} full year{'s' * (n > 1)}"


def compute_quote(inp: QuoteInput, table: RateTable) -> QuoteResult:
    """Price `inp` with `table` (RULES.md §1, steps 1-5). Raises QuoteInputError."""
    problems = validate_quote_input(inp, table)
    if problems:
        raise QuoteInputError(problems)
    year_days = 366 if calendar.isleap(inp.program_year) else 365
    days = (date(inp.program_year, 12, 31) - inp.effective_date).days + 1
    f = Fraction(days, year_days)  # never rounded: each line is rounded once, at the end
    base = Fraction(table.base_premium)
    pct = discount_percent(inp, table)
    deductible = Deductible(inp.deductible)
    sublimit = InnocentPartySublimit(inp.innocent_party_sublimit)
    period = "the full program year" if days == year_days else f"{days} of {year_days} days"

    lines = [QuoteLine("base_premium", f"Base premium for {period}", round_half_up(base * f))]
    discount = round_half_up(-Fraction(pct) / 100 * base * f)
    if discount:
        parts = []
        new_lawyer = table.new_lawyer_percent(inp.years_in_practice)
        if new_lawyer:
            parts.append(f"new lawyer, {_years(inp.years_in_practice)}: {_pct(new_lawyer)}")
        if inp.restricted_practice:
            parts.append(f"restricted area of practice: {_pct(table.restricted_practice_percent)}")
        if inp.part_time:
            parts.append(f"part-time practice: {_pct(table.part_time_percent)}")
        if pct == table.discount_cap_percent:
            parts.append(f"together at most {_pct(pct)}")
        lines.append(
            QuoteLine(
                "new_lawyer_and_practice_discount",
                f"Discount of {_pct(pct)} of the base premium ({'; '.join(parts)})",
                discount,
            )
        )
    deductible_pct = table.deductible_percent[deductible.value]
    adjustment = round_half_up(Fraction(deductible_pct) / 100 * base * f)
    if adjustment:
        lines.append(
            QuoteLine(
                "deductible_adjustment",
                f"Deductible {DEDUCTIBLE_NAMES[deductible]}: "
                f"{_pct(deductible_pct, sign=True)} of the base premium",
                adjustment,
            )
        )
    buy_up = round_half_up(Fraction(table.innocent_party_fee[sublimit.value]) * f)
    if buy_up:
        lines.append(
            QuoteLine(
                "innocent_party_buy_up",
                f"Innocent Party sublimit raised to {int(sublimit.value):,}",
                buy_up,
            )
        )
    if inp.real_estate:
        covered = max(days, table.real_estate_minimum_days)
        minimum = " (the minimum)" if covered > days else ""
        lines.append(
            QuoteLine(
                "real_estate_option",
                f"Real Estate Practice Coverage Option for {covered} of {year_days} days{minimum}",
                round_half_up(Fraction(table.real_estate_fee) * Fraction(covered, year_days)),
            )
        )
    if inp.risk_management_programs > 0:
        credit = min(
            table.risk_management_credit_max,
            table.risk_management_credit_per_program * inp.risk_management_programs,
        )
        programs = inp.risk_management_programs
        lines.append(
            QuoteLine(
                "risk_management_credit",
                f"Risk management credit for {programs} approved program{'s' * (programs > 1)} "
                f"(at most {table.risk_management_credit_max})",
                round_half_up(-credit),
            )
        )

    premium = max(ZERO, sum((ln.amount for ln in lines), ZERO))
    tax = (
        ZERO
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
        rate_table_year=table.program_year,
        rate_table_version=table.version,
        rate_table_digest=table.digest,
        days=days,
        year_days=year_days,
        discount_percent=pct,
    )
