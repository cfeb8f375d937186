"""The new-lawyer discount (RULES.md §2; guide p.5): one tier in two policy years at most."""

from __future__ import annotations

from collections.abc import Iterator

from app.applications.form import ApplicationForm
from app.applications.rules.facts import LawyerHistory
from app.quotes.rules import Violation

# Full years of practice that earn a discount (0-3); 4 and more earn none.
NEW_LAWYER_TIERS = frozenset({0, 1, 2, 3})
MAX_YEARS_PER_TIER = 2


def new_lawyer_tier(years_in_practice: int | None) -> int | None:
    return years_in_practice if years_in_practice in NEW_LAWYER_TIERS else None


def check_new_lawyer_tier(
    form: ApplicationForm, history: LawyerHistory, program_year: int
) -> Iterator[Violation]:
    tier = new_lawyer_tier(form.a.years_in_practice)
    if tier is not None and history.tier_years.get(tier, 0) >= MAX_YEARS_PER_TIER:
        yield Violation(
            "a.years_in_practice",
            "new_lawyer_tier_used",
            f"The new-lawyer discount for {tier} full years was already granted in two years.",
        )
