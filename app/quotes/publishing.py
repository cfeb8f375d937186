"""Rate tables published as data: staff publish a program year's table from a file, validated by
the same strict model as the shipped ones; every process reads the active ones (at start-up and
at most every few seconds before pricing), so a new year can be quoted without a release."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.quotes.models import RateTableRecord
from app.quotes.rate_tables import (
    RateTable,
    RateTableError,
    bundled_rate_table,
    bundled_years,
    load_rate_table,
    parse_rate_table,
    set_published,
)

REFRESH_SECONDS = 5.0
_last_refresh = [0.0]


class PublishRefused(ValueError):
    """The table cannot be published (the message says why)."""


@dataclass(frozen=True)
class RateTableSummary:
    program_year: int
    version: str
    status: str  # draft, active, retired
    activated_on: date | None  # None: shipped with the service
    digest: str
    shipped: bool


async def refresh_published(db: AsyncSession, *, force: bool = False) -> None:
    """Read the active published tables, at most every REFRESH_SECONDS in this process."""
    now = time.monotonic()
    if not force and now - _last_refresh[0] < REFRESH_SECONDS:
        return
    rows = await db.execute(
        select(RateTableRecord.program_year, RateTableRecord.content).where(
            RateTableRecord.status == "active"
        )
    )
    tables: dict[int, RateTable] = {}
    for year, content in rows:
        tables[year] = parse_rate_table(content.encode(), f"rate table {year}", expected_year=year)
    set_published(tables)
    _last_refresh[0] = now


async def rate_table_of(db: AsyncSession, year: int) -> RateTable:
    """The year's rate table in force, a table published as data included (KeyError: none)."""
    await refresh_published(db)
    return load_rate_table(year)


async def rate_tables(db: AsyncSession) -> list[RateTableSummary]:
    """Every program year's table: the shipped ones and those published as data."""
    await refresh_published(db, force=True)
    shipped = [
        RateTableSummary(t.program_year, t.version, "active", None, t.digest, True)
        for t in (bundled_rate_table(y) for y in sorted(bundled_years()))
    ]
    rows = (await db.execute(select(RateTableRecord))).scalars()
    published = [
        RateTableSummary(r.program_year, r.version, r.status, r.activated_on, r.digest, False)
        for r in rows
        if r.program_year not in bundled_years()
    ]
    return sorted(shipped + published, key=lambda s: s.program_year)


async def publish(
    db: AsyncSession, raw: bytes, *, by: str, draft: bool = False
) -> RateTableSummary:
    """Validate and keep a table (active unless `draft`). Refused: a table that would change the
    figures of a year already active (shipped, or published and active); publishing the same
    table again changes nothing."""
    try:
        table = parse_rate_table(raw, "the file")
    except RateTableError as exc:
        raise PublishRefused(str(exc)) from exc
    year = table.program_year
    if year in bundled_years():
        if bundled_rate_table(year).digest != table.digest:
            raise PublishRefused(f"{year}'s table ships with the service; its figures stay.")
        raise PublishRefused(f"{year}'s table ships with the service already.")
    existing = await db.get(RateTableRecord, year, with_for_update=True)
    status = "draft" if draft else "active"
    if existing is not None and existing.status == "active":
        if existing.digest != table.digest:
            raise PublishRefused(
                f"{year}'s table is active (version {existing.version}); its figures cannot "
                "change. Quotes and policies were priced with it."
            )
        return _summary(existing)
    record = existing or RateTableRecord(program_year=year)
    record.version = table.version
    record.status = status
    record.content = raw.decode()
    record.digest = table.digest
    record.activated_on = None if draft else datetime.now(UTC).date()
    record.published_by = by
    db.add(record)
    await db.flush()
    return _summary(record)


def _summary(r: RateTableRecord) -> RateTableSummary:
    return RateTableSummary(r.program_year, r.version, r.status, r.activated_on, r.digest, False)
