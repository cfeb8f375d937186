"""The Restricted Area of Practice option and the practice options declaration (RULES.md §2;
guide p.11)."""

from __future__ import annotations

from collections.abc import Iterator

from app.applications.form import CRIMINAL, IMMIGRATION, ApplicationForm
from app.applications.rules.facts import LawyerHistory
from app.quotes.rules import Violation

RESTRICTED_AREAS = frozenset({CRIMINAL, IMMIGRATION})


def check_restricted(
    form: ApplicationForm, history: LawyerHistory, program_year: int
) -> Iterator[Violation]:
    a, c = form.a, form.c
    if not c.restricted_practice:
        return
    if a.primary_area not in RESTRICTED_AREAS or a.secondary_area not in (
        None,
        *RESTRICTED_AREAS,
    ):
        yield Violation(
            "c.restricted_practice",
            "restricted_area",
            "The Restricted option is for a practice only in criminal and/or immigration law.",
        )
    if c.real_estate:
        # a restricted lawyer practises only criminal and/or immigration law all year
        yield Violation(
            "c.restricted_practice",
            "restricted_with_real_estate",
            "The Restricted option cannot be taken together with the Real Estate option.",
        )


def check_practice_options_declaration(
    form: ApplicationForm, history: LawyerHistory, program_year: int
) -> Iterator[Violation]:
    c = form.c
    if (c.restricted_practice or c.part_time) and not c.practice_options_declaration_signed:
        yield Violation(
            "c.practice_options_declaration_signed",
            "required",
            "Sign the practice options declaration for the options you chose.",
        )
