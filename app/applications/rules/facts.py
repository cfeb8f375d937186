"""What the eligibility rules know besides the form: the lawyer's history and the application
record's own facts, gathered by the service, so that every rule stays a pure function."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date

from app.applications.form import ApplicationForm
from app.claims_notices.history import ClaimRecord
from app.quotes.rules import Violation

LOOK_BACK_YEARS = 5


@dataclass(frozen=True)
class LawyerHistory:
    claims: tuple[ClaimRecord, ...] = ()
    # new-lawyer tier (full years 0-3) -> policy years in which it was granted before
    tier_years: dict[int, int] = field(default_factory=dict)
    application_started_on: date | None = None
    # program years in which a policy of the lawyer lost Part-Time eligibility mid-term
    part_time_lost_years: frozenset[int] = frozenset()
    # third-party payors (see `payment.payor_key`) whose consent an earlier application gave
    consented_payors: frozenset[str] = frozenset()
    # staff confirmed that a copy of the Certificate of Indian Status or TCRD is on file
    tax_certificate_on_file: bool = False


# One rule section: the form, the lawyer's history and the program year in; broken rules out.
RuleCheck = Callable[[ApplicationForm, LawyerHistory, int], Iterable[Violation]]


def years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def recent_claims(form: ApplicationForm, history: LawyerHistory) -> list[ClaimRecord]:
    """Notices (claims and circumstances) in the 5 years before the effective date."""
    effective = form.c.effective_date
    return [
        claim
        for claim in history.claims
        if effective is None
        or years_before(effective, LOOK_BACK_YEARS) <= claim.reported_on < effective
    ]


def missing(path: str, what: str) -> Violation:
    return Violation(path, "required", f"{what} is required to submit.")
