"""Rate tables: one versioned data file per program year, validated strictly when loaded. The
tables shipped with the service (`rates/<year>.json`) are active from the start; staff publish a
later year's table as data (`python -m app rates publish FILE`, kept in the `rate_table` table;
see `app/quotes/publishing.py`), which each process adds to the tables it knows."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from types import MappingProxyType
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    JsonValue,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

DeductibleCode = Literal[
    "nil",
    "2500_combined",
    "2500_indemnity",
    "5000_combined",
    "5000_indemnity",
    "10000_combined",
    "10000_indemnity",
    "25000_combined",
]
DEDUCTIBLE_CODES: tuple[str, ...] = get_args(DeductibleCode)
SUBLIMITS = ("250000", "500000", "1000000")


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


# The active tables published as data, by program year, as this process last read them.
_PUBLISHED: dict[int, RateTable] = {}


@cache
def bundled_years() -> frozenset[int]:
    """The program years whose table ships with the service (a file in `rates/`)."""
    return frozenset(
        int(entry.name[:-5])
        for entry in _rates_dir().iterdir()
        if entry.name.endswith(".json") and entry.name[:-5].isdigit()
    )


def available_years() -> frozenset[int]:
    """The program years that can be quoted: shipped or published and active."""
    return bundled_years() | frozenset(_PUBLISHED)


@cache
def bundled_rate_table(year: int) -> RateTable:
    name = f"rates/{year}.json"
    entry = _rates_dir().joinpath(f"{year}.json")
    if not entry.is_file():
        raise RateTableError(f"{name}: no rate table for {year}")
    return parse_rate_table(entry.read_bytes(), name, expected_year=year)


def load_rate_table(year: int) -> RateTable:
    """The validated rate table of `year`; RateTableError when there is none or it is broken."""
    if year in _PUBLISHED:
        return _PUBLISHED[year]
    return bundled_rate_table(year)


def set_published(tables: Mapping[int, RateTable]) -> None:
    """The active tables published as data (replacing this process's earlier view)."""
    _PUBLISHED.clear()
    _PUBLISHED.update({y: t for y, t in tables.items() if y not in bundled_years()})


def validate_all() -> list[RateTable]:
    """Load every shipped table (done at start-up so that a broken file stops the service)."""
    return [bundled_rate_table(year) for year in sorted(bundled_years())]


# --- the file's schema --------------------------------------------------------------------------
# Validated in strict mode from what `json.loads` makes of the file, so a JSON number is never
# taken for a string (or `true` for 1). Errors raised here read after the field's name.


def _decimal_string(value: object) -> object:
    """Money and percentages are written as strings ("12.50"): a JSON number is a binary float."""
    if not isinstance(value, str):
        raise PydanticCustomError("decimal_string", 'must be a decimal string such as "12.50"')
    try:
        return Decimal(value)
    except InvalidOperation:
        raise PydanticCustomError(
            "decimal_parsing", "is not a number: {value}", {"value": repr(value)}
        ) from None


def _full_years(key: object) -> object:
    """A key of the new-lawyer tiers: "0", "1", ... (no sign, no leading zero, no blanks)."""
    if isinstance(key, str) and key.isascii() and key.isdigit() and key == str(int(key)):
        return int(key)
    raise PydanticCustomError("full_years", "must be keyed by full years")


def _json_array(value: object) -> object:
    return tuple(value) if isinstance(value, list) else value  # strict tuples take no list


def _exactly(keys: tuple[str, ...]) -> AfterValidator:
    def check(table: Mapping[str, Decimal]) -> Mapping[str, Decimal]:
        missing = [k for k in keys if k not in table]
        unknown = sorted(set(table) - set(keys))
        if missing or unknown:
            raise PydanticCustomError(
                "rate_keys",
                "must price exactly {keys} (missing {missing}, unknown {unknown})",
                {"keys": str(list(keys)), "missing": str(missing), "unknown": str(unknown)},
            )
        return MappingProxyType(dict(table))

    return AfterValidator(check)


def _tiers(tiers: Mapping[int, Decimal]) -> Mapping[int, Decimal]:
    if sorted(tiers) != list(range(len(tiers))):
        raise PydanticCustomError("tier_years", "must list consecutive years from 0")
    ordered = [tiers[year] for year in range(len(tiers))]
    if ordered != sorted(ordered, reverse=True):
        raise PydanticCustomError("tier_order", "must not rise with years of practice")
    return MappingProxyType(dict(tiers))


def _ascending(months: tuple[int, ...]) -> tuple[int, ...]:
    if list(months) != sorted(set(months)):
        raise PydanticCustomError("month_order", "must list distinct months in ascending order")
    return months


def _named(version: str) -> str:
    if not version.strip():
        raise PydanticCustomError("version", 'must name this edition of the table, e.g. "2025.1"')
    return version


_DECIMAL = BeforeValidator(_decimal_string)
Money = Annotated[Decimal, Field(ge=0, decimal_places=2, allow_inf_nan=False), _DECIMAL]
Percent = Annotated[Decimal, Field(ge=0, le=100, allow_inf_nan=False), _DECIMAL]
SignedPercent = Annotated[Decimal, Field(ge=-100, le=100, allow_inf_nan=False), _DECIMAL]
Years = Annotated[int, BeforeValidator(_full_years)]
Months = Annotated[
    tuple[Annotated[int, Field(ge=1, le=12)], ...],
    Field(min_length=1),
    BeforeValidator(_json_array),
    AfterValidator(_ascending),
]


class RateTableFile(BaseModel):
    """The schema of `rates/<year>.json`: a RateTable without its digest, plus comment fields."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    source: JsonValue = None  # comments for people; not read
    notes: JsonValue = None
    program_year: int = Field(ge=2000, le=2100)
    version: Annotated[str, AfterValidator(_named)]
    base_premium: Money
    new_lawyer_discount_percent: Annotated[Mapping[Years, Percent], AfterValidator(_tiers)]
    restricted_practice_percent: Percent
    part_time_percent: Percent
    discount_cap_percent: Percent
    standard_deductible: DeductibleCode
    deductible_percent: Annotated[Mapping[str, SignedPercent], _exactly(DEDUCTIBLE_CODES)]
    real_estate_fee: Money
    real_estate_minimum_days: int = Field(ge=0, le=366)
    innocent_party_fee: Annotated[Mapping[str, Money], _exactly(SUBLIMITS)]
    risk_management_credit_per_program: Money
    risk_management_credit_max: Money
    tax_percent: Percent
    instalment_day: int = Field(ge=1, le=28)  # a day every month has
    quarterly_months: Months
    monthly_months: Months

    @field_validator("program_year")
    @classmethod
    def _year_of_the_file(cls, year: int, info: ValidationInfo) -> int:
        expected = (info.context or {}).get("expected_year")
        if expected is not None and year != expected:
            raise PydanticCustomError(
                "file_year",
                "is {year}, but the file is for {expected}",
                {"year": year, "expected": expected},
            )
        return year

    @field_validator("deductible_percent")
    @classmethod
    def _standard_is_zero(
        cls, percent: Mapping[str, Decimal], info: ValidationInfo
    ) -> Mapping[str, Decimal]:
        standard = info.data.get("standard_deductible")  # absent when it did not validate
        if standard is not None and percent[standard] != 0:
            raise PydanticCustomError(
                "standard_deductible",
                "must be 0 for the standard deductible {standard}",
                {"standard": standard},
            )
        return percent

    @field_validator("risk_management_credit_max")
    @classmethod
    def _at_least_one_credit(cls, credit_max: Decimal, info: ValidationInfo) -> Decimal:
        per_program = info.data.get("risk_management_credit_per_program")
        if per_program is not None and credit_max < per_program:
            raise PydanticCustomError("credit_max", "must be at least the credit per program")
        return credit_max

    def rate_table(self, digest: str) -> RateTable:
        return RateTable(digest=digest, **{name: getattr(self, name) for name in _READ_FIELDS})


_READ_FIELDS = tuple(f.name for f in dataclasses.fields(RateTable) if f.name != "digest")


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    duplicated = sorted({k for k in keys if keys.count(k) > 1})
    if duplicated:
        raise ValueError(f"duplicate keys {duplicated}")
    return dict(pairs)


def _describe(error: ValidationError) -> str:
    """Each problem as `field.path: message`."""
    problems = []
    for problem in error.errors(include_url=False):
        where = ".".join(str(part) for part in problem["loc"] if part != "[key]")
        problems.append(f"{where}: {problem['msg']}" if where else problem["msg"])
    return "; ".join(problems)


def parse_rate_table(
    raw: bytes, name: str = "rate table", *, expected_year: int | None = None
) -> RateTable:
    """Validate a rate table file strictly; errors name the file and the field."""
    try:
        data = json.loads(raw, object_pairs_hook=_no_duplicate_keys)
    except ValueError as exc:
        raise RateTableError(f"{name}: not a valid JSON rate table ({exc})") from exc
    try:
        parsed = RateTableFile.model_validate(data, context={"expected_year": expected_year})
    except ValidationError as exc:
        raise RateTableError(f"{name}: {_describe(exc)}") from exc
    return parsed.rate_table(hashlib.sha256(raw).hexdigest())
