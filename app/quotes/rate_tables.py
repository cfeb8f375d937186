"""Rate tables: one versioned data file per program year (`rates/<year>.json`), validated strictly
when loaded. Adding 2026 is adding `rates/2026.json`, not changing code."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from types import MappingProxyType
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
_FIELDS = frozenset(
    {
        "program_year",
        "version",
        "base_premium",
        "new_lawyer_discount_percent",
        "restricted_practice_percent",
        "part_time_percent",
        "discount_cap_percent",
        "standard_deductible",
        "deductible_percent",
        "real_estate_fee",
        "real_estate_minimum_days",
        "innocent_party_fee",
        "risk_management_credit_per_program",
        "risk_management_credit_max",
        "tax_percent",
        "instalment_day",
        "quarterly_months",
        "monthly_months",
    }
)
_COMMENT_FIELDS = frozenset({"source", "notes"})


class RateTableError(ValueError):
    """A rate table file that is missing or does not validate; the message names file and field."""


@dataclass(frozen=True)
class RateTable:
    """One program year's rates; money and percentages (in percent) are exact Decimals."""

    program_year: int
    version: str
    digest: str  # SHA-256 of the file's bytes: a stored quote names exactly what priced it
    base_premium: Decimal
    new_lawyer_discount_percent: Mapping[int, Decimal]  # by full years; beyond the last: 0
    restricted_practice_percent: Decimal
    part_time_percent: Decimal
    discount_cap_percent: Decimal
    standard_deductible: str
    deductible_percent: Mapping[str, Decimal]  # by deductible code; signed
    real_estate_fee: Decimal
    real_estate_minimum_days: int
    innocent_party_fee: Mapping[str, Decimal]  # by sublimit ("250000", ...)
    risk_management_credit_per_program: Decimal
    risk_management_credit_max: Decimal
    tax_percent: Decimal
    instalment_day: int
    quarterly_months: tuple[int, ...]
    monthly_months: tuple[int, ...]

    def __hash__(self) -> int:
        return hash((self.program_year, self.version, self.digest))

    def new_lawyer_percent(self, years: int) -> Decimal:
        return self.new_lawyer_discount_percent.get(years, Decimal(0))


def _rates_dir() -> Traversable:
    return resources.files("app.quotes").joinpath("rates")


@cache
def available_years() -> frozenset[int]:
    """The program years that have a rate table file."""
    return frozenset(
        int(entry.name[:-5])
        for entry in _rates_dir().iterdir()
        if entry.name.endswith(".json") and entry.name[:-5].isdigit()
    )


@cache
def load_rate_table(year: int) -> RateTable:
    """The validated rate table of `year`; RateTableError when there is none or it is broken."""
    name = f"rates/{year}.json"
    entry = _rates_dir().joinpath(f"{year}.json")
    if not entry.is_file():
        raise RateTableError(f"{name}: no rate table for {year}")
    return parse_rate_table(entry.read_bytes(), name, expected_year=year)


def rate_table_checksum(year: int) -> str:
    """SHA-256 of the year's rate table file, as stored with a quote."""
    return load_rate_table(year).digest


def validate_all() -> list[RateTable]:
    """Load every shipped table (done at start-up so that a broken file stops the service)."""
    return [load_rate_table(year) for year in sorted(available_years())]


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    duplicated = sorted({k for k in keys if keys.count(k) > 1})
    if duplicated:
        raise ValueError(f"duplicate keys {duplicated}")
    return dict(pairs)


class _Reader:
    """Reads and checks the fields of one parsed file; every error names the file and field."""

    def __init__(self, data: dict[str, Any], name: str) -> None:
        self.data, self.name = data, name

    def fail(self, key: str, problem: str) -> RateTableError:
        return RateTableError(f"{self.name}: {key} {problem}")

    def get(self, key: str) -> Any:
        if key not in self.data:
            raise self.fail(key, "is missing")
        return self.data[key]

    def integer(self, key: str, low: int, high: int, value: Any = None) -> int:
        value = self.get(key) if value is None else value
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.fail(key, f"must be a whole number from {low} to {high}")
        return value

    def decimal(self, key: str, value: Any = None) -> Decimal:
        value = self.get(key) if value is None else value
        if not isinstance(value, str):
            raise self.fail(key, 'must be a decimal string such as "12.50"')
        try:
            amount = Decimal(value)
        except InvalidOperation:
            raise self.fail(key, f"is not a number: {value!r}") from None
        if not amount.is_finite():
            raise self.fail(key, f"is not a finite number: {value!r}")
        return amount

    def money(self, key: str, value: Any = None) -> Decimal:
        amount = self.decimal(key, value)
        if amount < 0:
            raise self.fail(key, "must not be negative")
        if amount != amount.quantize(Decimal("0.01")):
            raise self.fail(key, "must be whole cents")
        return amount

    def percent(self, key: str, value: Any = None, *, signed: bool = False) -> Decimal:
        p = self.decimal(key, value)
        low = Decimal(-100) if signed else Decimal(0)
        if not low <= p <= Decimal(100):
            raise self.fail(key, f"must be a percentage from {low} to 100")
        return p

    def table(self, key: str, keys: tuple[str, ...]) -> dict[str, Any]:
        value = self.get(key)
        if not isinstance(value, dict):
            raise self.fail(key, "must be an object")
        missing = [k for k in keys if k not in value]
        unknown = sorted(set(value) - set(keys))
        if missing or unknown:
            raise self.fail(
                key, f"must price exactly {list(keys)} (missing {missing}, unknown {unknown})"
            )
        return value

    def months(self, key: str) -> tuple[int, ...]:
        value = self.get(key)
        if not (
            isinstance(value, list)
            and value
            and all(isinstance(m, int) and not isinstance(m, bool) and 1 <= m <= 12 for m in value)
            and value == sorted(set(value))
        ):
            raise self.fail(key, "must list distinct months 1-12 in ascending order")
        return tuple(value)


def parse_rate_table(
    raw: bytes, name: str = "rate table", *, expected_year: int | None = None
) -> RateTable:
    """Validate a rate table file strictly; errors name the file and the field."""
    try:
        data = json.loads(raw, object_pairs_hook=_no_duplicate_keys)
    except ValueError as exc:
        raise RateTableError(f"{name}: not a valid JSON rate table ({exc})") from exc
    if not isinstance(data, dict):
        raise RateTableError(f"{name}: must be a JSON object")
    unknown = sorted(set(data) - _FIELDS - _COMMENT_FIELDS)
    if unknown:
        raise RateTableError(f"{name}: unknown fields {unknown}")
    r = _Reader(data, name)

    year = r.integer("program_year", 2000, 2100)
    if expected_year is not None and year != expected_year:
        raise r.fail("program_year", f"is {year}, but the file is for {expected_year}")
    version = r.get("version")
    if not isinstance(version, str) or not version.strip():
        raise r.fail("version", 'must name this edition of the table, e.g. "2025.1"')

    deductibles = {
        k: r.percent(f"deductible_percent.{k}", v, signed=True)
        for k, v in r.table("deductible_percent", DEDUCTIBLE_CODES).items()
    }
    standard = r.get("standard_deductible")
    if standard not in DEDUCTIBLE_CODES:
        raise r.fail("standard_deductible", f"must be one of {list(DEDUCTIBLE_CODES)}")
    if deductibles[standard] != 0:
        raise r.fail(f"deductible_percent.{standard}", "must be 0 for the standard deductible")

    raw_tiers = r.get("new_lawyer_discount_percent")
    if not isinstance(raw_tiers, dict) or not all(
        k.isascii() and k.isdigit() and k == str(int(k)) for k in raw_tiers
    ):
        raise r.fail("new_lawyer_discount_percent", "must be an object keyed by full years")
    tiers = {int(k): r.percent(f"new_lawyer_discount_percent.{k}", v) for k, v in raw_tiers.items()}
    if sorted(tiers) != list(range(len(tiers))):
        raise r.fail("new_lawyer_discount_percent", "must list consecutive years from 0")
    ordered = [tiers[y] for y in range(len(tiers))]
    if ordered != sorted(ordered, reverse=True):
        raise r.fail("new_lawyer_discount_percent", "must not rise with years of practice")

    fees = {
        k: r.money(f"innocent_party_fee.{k}", v)
        for k, v in r.table("innocent_party_fee", SUBLIMITS).items()
    }
    per_program = r.money("risk_management_credit_per_program")
    credit_max = r.money("risk_management_credit_max")
    if credit_max < per_program:
        raise r.fail("risk_management_credit_max", "must be at least the credit per program")

    return RateTable(
        program_year=year,
        version=version,
        digest=hashlib.sha256(raw).hexdigest(),
        base_premium=r.money("base_premium"),
        new_lawyer_discount_percent=MappingProxyType(tiers),
        restricted_practice_percent=r.percent("restricted_practice_percent"),
        part_time_percent=r.percent("part_time_percent"),
        discount_cap_percent=r.percent("discount_cap_percent"),
        standard_deductible=standard,
        deductible_percent=MappingProxyType(deductibles),
        real_estate_fee=r.money("real_estate_fee"),
        real_estate_minimum_days=r.integer("real_estate_minimum_days", 0, 366),
        innocent_party_fee=MappingProxyType(fees),
        risk_management_credit_per_program=per_program,
        risk_management_credit_max=credit_max,
        tax_percent=r.percent("tax_percent"),
        instalment_day=r.integer("instalment_day", 1, 28),  # a day every month has
        quarterly_months=r.months("quarterly_months"),
        monthly_months=r.months("monthly_months"),
    )
