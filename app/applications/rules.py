"""Eligibility and completeness of an application (RULES.md §2), pure: a form and the lawyer's
history in, every broken rule out, each naming its field."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from app.applications.form import (
    BILLING_RANGES,
    CRIMINAL,
    FIRM_WIDE_CHOICE,
    IMMIGRATION,
    NOT_IN_PRIVATE_PRACTICE,
    PRACTISING_ALONE,
    REAL_ESTATE,
    ApplicationForm,
    BillingCode,
    MailingPreference,
    PaymentMethod,
)
from app.quotes.rules import Deductible, PaymentPlan, Violation

PART_TIME_MAX_HOURS = 750
PART_TIME_CODES = frozenset({BillingCode.AC0, BillingCode.AC1, BillingCode.AV8})
SOLE_25K_THRESHOLD = Decimal(400_000)
FIRM_25K_THRESHOLD = Decimal(250_000)
HIGH_DEDUCTIBLES = frozenset(
    {Deductible.combined_10000, Deductible.indemnity_10000, Deductible.combined_25000}
)
NEW_LAWYER_TIERS = frozenset({0, 1, 2, 3})
MAX_YEARS_PER_TIER = 2
LOOK_BACK_YEARS = 5


@dataclass(frozen=True)
class ClaimRecord:
    """A claims notice for the lawyer (owned by the claims-notices domain)."""

    kind: str  # "claim" or "circumstance"
    reported_on: date
    with_payment: bool  # an investigation, repair, loss-prevention or indemnity payment


@dataclass(frozen=True)
class LawyerHistory:
    claims: tuple[ClaimRecord, ...] = ()
    # new-lawyer tier (full years 0-3) -> policy years in which it was granted before
    tier_years: dict[int, int] = field(default_factory=dict)
    application_started_on: date | None = None


def years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def is_new_call(form: ApplicationForm) -> bool:
    """A lawyer entering practice for the first time."""
    return form.a.years_in_practice == 0 and form.a.practised_outside_ontario is False


def billings_reach(form: ApplicationForm, threshold: Decimal) -> bool | None:
    """Whether last year's billings reach `threshold`: by the code's range when it lies wholly
    above or below, by the stated amount when it straddles (None: the amount is needed)."""
    code = form.a.billing_code
    if code is None:
        return None
    low, high = BILLING_RANGES[code]
    if low >= threshold:
        return True
    if high is not None and high < threshold:
        return False
    amount = form.a.gross_billings
    return None if amount is None else amount >= threshold


def check_application(
    form: ApplicationForm, history: LawyerHistory, *, program_year: int
) -> list[Violation]:
    """Every completeness and eligibility rule a submission must pass."""
    return [*_completeness(form, program_year), *_eligibility(form, history), *check_locum(form)]


def _missing(path: str, what: str) -> Violation:
    return Violation(path, "required", f"{what} is required to submit.")


def _completeness(form: ApplicationForm, program_year: int) -> Iterator[Violation]:
    a, b, c, e, f = form.a, form.b, form.c, form.e, form.f
    required = {
        "a.name": (a.name, "Your name"),
        "a.law_society_number": (a.law_society_number, "Your Law Society number"),
        "a.preferred_mailing_address": (a.preferred_mailing_address, "A preferred mailing address"),
        "a.email": (a.email, "An e-mail address"),
        "a.work_phone": (a.work_phone, "A work telephone number"),
        "a.indian_status_certificate": (a.indian_status_certificate, "Question 2"),
        "a.years_in_practice": (a.years_in_practice, "Full years in practice"),
        "a.practised_outside_ontario": (a.practised_outside_ontario, "Question 4"),
        "a.billing_code": (a.billing_code, "A volume billings code"),
        "a.hours_last_fiscal_year": (a.hours_last_fiscal_year, "Hours of professional time"),
        "a.primary_area": (a.primary_area, "A primary area of practice"),
        "b.nature_of_practice": (b.nature_of_practice or None, "The nature of your practice"),
        "b.lawyers_and_paralegal_partners": (b.lawyers_and_paralegal_partners, "Question 10"),
        "b.non_lawyer_staff": (b.non_lawyer_staff, "Question 11"),
        "c.effective_date": (c.effective_date, "The policy's effective date"),
        "c.deductible": (c.deductible, "A deductible option"),
        "e.third_party_payor": (e.third_party_payor, "Question 17"),
        "e.payment_plan": (e.payment_plan, "A payment plan"),
        "e.payment_method": (e.payment_method, "A payment method"),
        "f.signature_name": (f.signature_name, "Your signature"),
        "f.signed_on": (f.signed_on, "The date of signature"),
    }
    for path, (value, what) in required.items():
        if value is None:
            yield _missing(path, what)
    if a.preferred_mailing_address is MailingPreference.firm and not (
        a.firm_name and a.firm_address and a.firm_address.is_complete()
    ):
        yield _missing("a.firm_address", "The firm's name and full address")
    if a.preferred_mailing_address is MailingPreference.home and not (
        a.home_address and a.home_address.is_complete()
    ):
        yield _missing("a.home_address", "A full home address")
    if c.effective_date is not None and c.effective_date.year != program_year:
        yield Violation(
            "c.effective_date",
            "outside_program_year",
            f"The effective date must fall within the {program_year} program year.",
        )
    if not f.warranty_signed:
        yield Violation("f.warranty_signed", "required", "Sign the warranty to submit.")
    if not f.personal_information_statement_acknowledged:
        yield Violation(
            "f.personal_information_statement_acknowledged",
            "required",
            "Acknowledge the Personal Information Statement to submit.",
        )


def _eligibility(form: ApplicationForm, history: LawyerHistory) -> Iterator[Violation]:
    a, b, c, d, e = form.a, form.b, form.c, form.d, form.e
    natures = set(b.nature_of_practice or ())
    effective = c.effective_date
    recent = [
        claim
        for claim in history.claims
        if effective is None
        or years_before(effective, LOOK_BACK_YEARS) <= claim.reported_on < effective
    ]

    if a.years_in_practice == 0 and a.billing_code not in (None, BillingCode.AC0):
        yield Violation(
            "a.billing_code", "new_call_billings", "A new call enters billings code AC0."
        )
    if a.years_in_practice == 0 and a.hours_last_fiscal_year not in (None, 0):
        yield Violation("a.hours_last_fiscal_year", "new_call_hours", "A new call enters 0 hours.")

    if c.deductible is Deductible.nil and recent:
        yield Violation(
            "c.deductible",
            "nil_deductible_claims_history",
            "The nil deductible needs no claim or circumstance notice in the last 5 years.",
        )
    if c.deductible in HIGH_DEDUCTIBLES and natures & NOT_IN_PRIVATE_PRACTICE:
        yield Violation(
            "c.deductible",
            "high_deductible_not_in_private_practice",
            "The 10,000 and 25,000 deductibles are for lawyers in private practice only.",
        )
    if c.deductible is Deductible.combined_25000 and natures:
        alone = bool(natures & PRACTISING_ALONE)
        threshold = SOLE_25K_THRESHOLD if alone else FIRM_25K_THRESHOLD
        reached = billings_reach(form, threshold)
        if reached is None and a.billing_code is not None:
            yield Violation(
                "a.gross_billings",
                "billings_amount_required",
                f"State last year's {'gross' if alone else 'average gross'} billings: "
                f"code {a.billing_code.value} does not show whether they reach {threshold:,.0f}.",
            )
        elif reached is False:
            yield Violation(
                "c.deductible",
                "billings_below_threshold",
                f"The 25,000 deductible needs {'gross' if alone else 'average gross'} billings "
                f"of {threshold:,.0f} or more last fiscal year.",
            )

    if c.restricted_practice:
        allowed = {CRIMINAL, IMMIGRATION}
        if a.primary_area not in allowed or a.secondary_area not in (None, *allowed):
            yield Violation(
                "c.restricted_practice",
                "restricted_area",
                "The Restricted option is for a practice only in criminal and/or immigration law.",
            )
    if c.part_time:
        if a.hours_last_fiscal_year is not None and a.hours_last_fiscal_year > PART_TIME_MAX_HOURS:
            yield Violation(
                "c.part_time",
                "part_time_hours",
                f"Part-Time Practice allows at most {PART_TIME_MAX_HOURS} hours a year.",
            )
        if a.billing_code is not None and a.billing_code not in PART_TIME_CODES:
            yield Violation(
                "c.part_time",
                "part_time_billings",
                "Part-Time Practice allows gross billings of at most 100,000 (AC0, AC1, AV8).",
            )
        if any(claim.kind == "claim" and claim.with_payment for claim in recent):
            yield Violation(
                "c.part_time",
                "part_time_claims_history",
                "Part-Time Practice is not available after a claim with a payment in 5 years.",
            )
    if (c.restricted_practice or c.part_time) and not c.practice_options_declaration_signed:
        yield Violation(
            "c.practice_options_declaration_signed",
            "required",
            "Sign the practice options declaration for the options you chose.",
        )

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

    years = a.years_in_practice
    if years in NEW_LAWYER_TIERS and history.tier_years.get(years, 0) >= MAX_YEARS_PER_TIER:
        yield Violation(
            "a.years_in_practice",
            "new_lawyer_tier_used",
            f"The new-lawyer discount for {years} full years was already granted in two years.",
        )

    if d.unreported_claims_or_circumstances is None and not is_new_call(form):
        yield _missing("d.unreported_claims_or_circumstances", "Section D")
    if d.unreported_claims_or_circumstances and not any(
        history.application_started_on is None
        or claim.reported_on >= history.application_started_on
        for claim in history.claims
    ):
        yield Violation(
            "d.unreported_claims_or_circumstances",
            "claims_notice_required",
            "Report the claim or circumstance (file a claims notice) before submitting.",
        )

    if e.third_party_payor and not e.third_party_consent_confirmed:
        yield Violation(
            "e.third_party_consent_confirmed",
            "required",
            "Confirm that the third-party payor consented.",
        )
    if e.payment_method is PaymentMethod.cheque and e.payment_plan not in (
        None,
        PaymentPlan.lump_sum,
    ):
        yield Violation("e.payment_method", "cheque_lump_sum_only", "Cheques pay a lump sum only.")


def check_locum(form: ApplicationForm) -> list[Violation]:
    """A locum carries at least the contracting firm's Innocent Party sublimit."""
    c = form.c
    if not c.locum:
        return []
    if c.locum_contracting_firm_sublimit is None:
        return [_missing("c.locum_contracting_firm_sublimit", "The contracting firm's sublimit")]
    if int(c.innocent_party_sublimit.value) < int(c.locum_contracting_firm_sublimit.value):
        return [
            Violation(
                "c.innocent_party_sublimit",
                "locum_sublimit_below_firm",
                "A locum must carry at least the contracting firm's Innocent Party sublimit "
                f"({int(c.locum_contracting_firm_sublimit.value):,}).",
            )
        ]
    return []


FIRM_WIDE_FIELDS = {
    "c.deductible": ("deductible", "the same deductible"),
    "c.restricted_practice": ("restricted_practice", "the Restricted option collectively"),
    "c.innocent_party_sublimit": ("innocent_party_sublimit", "the same Innocent Party buy-up"),
}


def check_firm_consistency(form: ApplicationForm, others: list[ApplicationForm]) -> list[Violation]:
    """Lawyers of one law partnership or law corporation choose some options together: each
    choice must agree with the applications of the firm already submitted for the year."""
    if not set(form.b.nature_of_practice or ()) & FIRM_WIDE_CHOICE:
        return []
    problems = []
    for path, (name, what) in FIRM_WIDE_FIELDS.items():
        mine = getattr(form.c, name)
        theirs = {getattr(other.c, name) for other in others}
        if theirs and theirs != {mine}:
            chosen = ", ".join(sorted(str(getattr(v, "value", v)) for v in theirs))
            problems.append(
                Violation(
                    path,
                    "firm_inconsistent",
                    f"All lawyers of the firm must choose {what}; the firm chose {chosen}.",
                )
            )
    return problems
