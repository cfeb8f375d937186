"""Today's date, as every rule that compares a date with "today" reads it (UTC)."""

from __future__ import annotations

from datetime import UTC, date, datetime


def today() -> date:
    return datetime.now(UTC).date()
