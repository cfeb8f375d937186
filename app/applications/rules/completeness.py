"""Completeness (RULES.md §2): the answers a submission needs, and the effective date's year."""

from __future__ import annotations

from collections.abc import Iterator

from app.applications.form import ApplicationForm, MailingPreference
from app.applications.rules.facts import LawyerHistory, missing
from app.quotes.rules import Violation


def check_completeness(
    form: ApplicationForm, history: LawyerHistory, program_year: int
) -> Iterator[Violation]:
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
            yield missing(path, what)
    if a.preferred_mailing_address is MailingPreference.firm and not (
        a.firm_name and a.firm_address and a.firm_address.is_complete()
    ):
        yield missing("a.firm_address", "The firm's name and full address")
    if a.preferred_mailing_address is MailingPreference.home and not (
        a.home_address and a.home_address.is_complete()
    ):
        yield missing("a.home_address", "A full home address")
    if c.effective_date is not None and c.effective_date.year != program_year:
        yield Violation(
            "c.effective_date",
            "outside_program_year",
            f"The effective date must fall within the {program_year} program year.",
        )
