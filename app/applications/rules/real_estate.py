"""The Real Estate Practice Coverage option (RULES.md §2; guide p.12)."""

from __future__ import annotations

from collections.abc import Iterator

from app.applications.form import REAL_ESTATE, ApplicationForm
from app.applications.rules.facts import LawyerHistory
from app.quotes.rules import Violation


def check_real_estate(
    form: ApplicationForm, history: LawyerHistory, program_year: int
) -> Iterator[Violation]:
    a, c = form.a, form.c
    if REAL_ESTATE in (a.primary_area, a.secondary_area) and not c.real_estate:
        yield Violation(
            "c.real_estate",
            "real_estate_required",
            "A lawyer practising real estate law must take the Real Estate option.",
        )
    if c.real_estate and (
        c.real_estate_bankrupt
        or c.real_estate_fraud_conviction_or_discipline
        or c.real_estate_law_society_restriction
    ):
        yield Violation(
            "c.real_estate",
            "real_estate_ineligible",
            "The Real Estate option is not available given the declarations made.",
        )
