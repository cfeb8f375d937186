"""Rate tables: one versioned data file per program year, validated when loaded.
Adding 2026 is adding `rates/2026.json`."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources
from typing import Any

DEDUCTIBLE_CODES = (
    "nil",
    "2500_combined",
    "2500_indemnity",
    "5000_combined",
    "5000_indemnity",
    "10000_combined",
    "10000_indemnity",
    "25000_combined",
)
SUBLIMITS = ("250000", "500000", "1000000")


class RateTableError(ValueError):
    """A rate table file that is missing or does not validate."""


@dataclass(frozen=True)
class RateTable:
    program_year: int
    version: str
    digest: str  # SHA-256 of the file: a stored quote names exactly what priced it
    base_premium: Decimal
    new_lawyer_discount_percent: dict[int, Decimal]  # by full years; beyond the last: 0
    restricted_practice_percent: Decimal
    part_time_percent: Decimal
    discount_cap_percent: Decimal
    standard_deductible: str
    deductible_percent: dict[str, Decimal]
    real_estate_fee: Decimal
    real_estate_minimum_days: int
    innocent_party_fee: dict[str, Decimal]
    risk_management_credit_per_program: Decimal
    risk_management_credit_max: Decimal
    tax_percent: Decimal
    instalment_day: int
    quarterly_months: tuple[int, ...]
    monthly_months: tuple[int, ...]

    def new_lawyer_percent(self, years: int) -> Decimal:
        return self.new_lawyer_discount_percent.get(years, Decimal(0))


def _files() -> Any:
    return resources.files("app.quotes").joinpath("rates")


@cache
def available_years() -> frozenset[int]:
    years = set()
    for entry in _files().iterdir():
        name = entry.name
        if name.endswith(".json") and name[:-5].isdigit():
            years.add(int(name[:-5]))
    return frozenset(years)


@cache
def load_rate_table(year: int) -> RateTable:
    name = f"{year}.json"
    entry = _files().joinpath(name)
    if not entry.is_file():
        raise RateTableError(f"no rate table for {year}")
    raw = entry.read_bytes()
    return parse_rate_table(raw, name)


def parse_rate_table(raw: bytes, name: str = "rate table") -> RateTable:
    """Validate a rate table file strictly; errors name the file and the field."""
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise RateTableError(f"{name}: not JSON ({exc})") from exc

    def field(key: str) -> Any:
        if key not in data:
            raise RateTableError(f"{name}: {key} is missing")
        return data[key]

    def money(key: str, value: Any = None, *, signed: bool = False) -> Decimal:
        value = field(key) if value is None else value
        try:
            amount = Decimal(str(value))
        except InvalidOperation as exc:
            raise RateTableError(f"{name}: {key} is not a number") from exc
        if not isinstance(value, str) or not amount.is_finite():
            raise RateTableError(f"{name}: {key} must be a decimal string")
        if not signed and amount < 0:
            raise RateTableError(f"{name}: {key} must not be negative")
        return amount

    def percent(key: str, value: Any = None, *, signed: bool = False) -> Decimal:
        p = money(key, value, signed=signed)
        if not Decimal(-100) <= p <= Decimal(100):
            raise RateTableError(f"{name}: {key} must be a percentage")
        return p

    def months(key: str) -> tuple[int, ...]:
        value = field(key)
        if not (
            isinstance(value, list)
            and value
            and all(isinstance(m, int) and 1 <= m <= 12 for m in value)
            and value == sorted(set(value))
        ):
            raise RateTableError(f"{name}: {key} must list months 1-12 in order")
        return tuple(value)

    year = field("program_year")
    if not isinstance(year, int):
        raise RateTableError(f"{name}: program_year must be a year")
    deductibles = field("deductible_percent")
    if not isinstance(deductibles, dict) or set(deductibles) != set(DEDUCTIBLE_CODES):
        missing = sorted(set(DEDUCTIBLE_CODES) - set(deductibles or {}))
        raise RateTableError(
            f"{name}: deductible_percent must price every option (missing {missing})"
        )
    fees = field("innocent_party_fee")
    if not isinstance(fees, dict) or set(fees) != set(SUBLIMITS):
        raise RateTableError(f"{name}: innocent_party_fee must price {', '.join(SUBLIMITS)}")
    tiers = field("new_lawyer_discount_percent")
    if not isinstance(tiers, dict) or not all(k.isdigit() for k in tiers):
        raise RateTableError(f"{name}: new_lawyer_discount_percent must be keyed by full years")
    standard = field("standard_deductible")
    if standard not in DEDUCTIBLE_CODES:
        raise RateTableError(f"{name}: standard_deductible is not a deductible option")
    day = field("instalment_day")
    if not isinstance(day, int) or not 1 <= day <= 28:
        raise RateTableError(f"{name}: instalment_day must be a day of every month (1-28)")
    minimum_days = field("real_estate_minimum_days")
    if not isinstance(minimum_days, int) or minimum_days < 0:
        raise RateTableError(f"{name}: real_estate_minimum_days must be a count of days")
    version = field("version")
    if not isinstance(version, str) or not version:
        raise RateTableError(f"{name}: version is missing")
    return RateTable(
        program_year=year,
        version=version,
        digest=hashlib.sha256(raw).hexdigest(),
        base_premium=money("base_premium"),
        new_lawyer_discount_percent={
            int(k): percent(f"new_lawyer_discount_percent.{k}", v) for k, v in tiers.items()
        },
        restricted_practice_percent=percent("restricted_practice_percent"),
        part_time_percent=percent("part_time_percent"),
        discount_cap_percent=percent("discount_cap_percent"),
        standard_deductible=standard,
        deductible_percent={
            k: percent(f"deductible_percent.{k}", v, signed=True) for k, v in deductibles.items()
        },
        real_estate_fee=money("real_estate_fee"),
        real_estate_minimum_days=minimum_days,
        innocent_party_fee={k: money(f"innocent_party_fee.{k}", v) for k, v in fees.items()},
        risk_management_credit_per_program=money("risk_management_credit_per_program"),
        risk_management_credit_max=money("risk_management_credit_max"),
        tax_percent=percent("tax_percent"),
        instalment_day=day,
        quarterly_months=months("quarterly_months"),
        monthly_months=months("monthly_months"),
    )


def validate_all() -> list[RateTable]:
    """Load every shipped table (done at start-up so that a broken file stops the service)."""
    return [load_rate_table(year) for year in sorted(available_years())]
