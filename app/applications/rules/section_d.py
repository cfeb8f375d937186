"""Section D, unreported claims and circumstances (RULES.md §2; guide p.13-14)."""

from __future__ import annotations

from collections.abc import Iterator

from app.applications.form import ApplicationForm
from app.applications.rules.billing import is_new_call
from app.applications.rules.facts import LawyerHistory, missing
from app.quotes.rules import Violation


def check_section_d(
    form: ApplicationForm, history: LawyerHistory, program_year: int
) -> Iterator[Violation]:
    answer = form.d.unreported_claims_or_circumstances
    if answer is None and not is_new_call(form):
        yield missing("d.unreported_claims_or_circumstances", "Section D")
    started = history.application_started_on
    if answer and not any(
        started is None or claim.reported_on >= started for claim in history.claims
    ):
        yield Violation(
            "d.unreported_claims_or_circumstances",
            "claims_notice_required",
            "A 'yes' needs a notice of the claim or circumstance: file it with POST "
            "/claims-notices, then submit.",
        )
