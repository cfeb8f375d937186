"""Eligibility and completeness of an application (RULES.md §2), pure: a form and the lawyer's
history in, every broken rule out, each naming its field (`<section>.<field>`).

One module per RULES.md §2 section; `check_application` is the one entry point and runs them
all, so a submission hears about every broken rule at once. Firm consistency needs the firm's
other applications and is checked apart (`check_firm_consistency`)."""

from __future__ import annotations

from app.applications.form import ApplicationForm
from app.applications.rules.billing import billings_reach, check_new_call, is_new_call
from app.applications.rules.completeness import check_completeness
from app.applications.rules.deductibles import check_deductibles
from app.applications.rules.facts import LawyerHistory, RuleCheck, years_before
from app.applications.rules.firm import check_firm_consistency
from app.applications.rules.innocent_party import check_innocent_party, check_locum
from app.applications.rules.new_lawyer import (
    NEW_LAWYER_TIERS,
    check_new_lawyer_tier,
    new_lawyer_tier,
)
from app.applications.rules.part_time import check_part_time
from app.applications.rules.payment import check_payment, consented_payor, payor_key
from app.applications.rules.practice_options import (
    check_practice_options_declaration,
    check_restricted,
)
from app.applications.rules.real_estate import check_real_estate
from app.applications.rules.sales_tax import check_sales_tax, tax_exempt
from app.applications.rules.section_d import check_section_d
from app.applications.rules.warranty import check_warranty
from app.claims_notices.history import ClaimRecord
from app.quotes.rules import Violation

# In the order of the form, so the errors read top to bottom.
SECTION_CHECKS: tuple[RuleCheck, ...] = (
    check_completeness,
    check_new_call,
    check_sales_tax,
    check_new_lawyer_tier,
    check_deductibles,
    check_restricted,
    check_part_time,
    check_practice_options_declaration,
    check_real_estate,
    check_innocent_party,
    check_section_d,
    check_payment,
    check_warranty,
)


def check_application(
    form: ApplicationForm, history: LawyerHistory, *, program_year: int
) -> list[Violation]:
    """Every completeness and eligibility rule a submission must pass."""
    return [v for check in SECTION_CHECKS for v in check(form, history, program_year)]


__all__ = [
    "NEW_LAWYER_TIERS",
    "SECTION_CHECKS",
    "ClaimRecord",
    "LawyerHistory",
    "billings_reach",
    "check_application",
    "check_firm_consistency",
    "check_locum",
    "consented_payor",
    "is_new_call",
    "new_lawyer_tier",
    "payor_key",
    "tax_exempt",
    "years_before",
]
