"""Warranty & signature and the Personal Information Statement (RULES.md §2, section F)."""

from __future__ import annotations

from collections.abc import Iterator

from app.applications.form import ApplicationForm
from app.applications.rules.facts import LawyerHistory
from app.quotes.rules import Violation


def check_warranty(
    form: ApplicationForm, history: LawyerHistory, program_year: int
) -> Iterator[Violation]:
    if not form.f.warranty_signed:
        yield Violation("f.warranty_signed", "required", "Sign the warranty to submit.")
    if not form.f.personal_information_statement_acknowledged:
        yield Violation(
            "f.personal_information_statement_acknowledged",
            "required",
            "Acknowledge the Personal Information Statement to submit.",
        )
