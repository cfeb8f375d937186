"""Premium payment, section E (RULES.md §2; guide p.14).

The lawyer's own firm, its lawyers and paralegal partners and its management company are not
third parties; a spouse or a non-lawyer employee is. A third party's consent carries over to
later years: one confirmed on an earlier year's application for the same payor counts."""

from __future__ import annotations

from collections.abc import Iterator

from app.applications.form import NOT_THIRD_PARTIES, ApplicationForm, PaymentMethod
from app.applications.rules.facts import LawyerHistory, missing
from app.quotes.rules import PaymentPlan, Violation


def payor_key(form: ApplicationForm) -> str | None:
    """Who pays, when a third party does: the relation and the name, case and spacing aside.
    None when the lawyer, the firm or its people pay, or the payor is not named."""
    e = form.e
    if not e.third_party_payor or e.third_party_payor_relation in (None, *NOT_THIRD_PARTIES):
        return None
    if not e.third_party_payor_name or not e.third_party_payor_name.strip():
        return None
    name = " ".join(e.third_party_payor_name.split()).casefold()
    return f"{e.third_party_payor_relation}:{name}"


def consented_payor(form: ApplicationForm) -> str | None:
    """The payor whose consent this application confirms, for later years to rely on."""
    return payor_key(form) if form.e.third_party_consent_confirmed else None


def check_payment(
    form: ApplicationForm, history: LawyerHistory, program_year: int
) -> Iterator[Violation]:
    e = form.e
    if e.third_party_payor:
        yield from _third_party(form, history)
    if e.payment_method is PaymentMethod.cheque and e.payment_plan not in (
        None,
        PaymentPlan.lump_sum,
    ):
        yield Violation("e.payment_method", "cheque_lump_sum_only", "Cheques pay a lump sum only.")


def _third_party(form: ApplicationForm, history: LawyerHistory) -> Iterator[Violation]:
    e = form.e
    if e.third_party_payor_relation is None:
        yield missing("e.third_party_payor_relation", "Who pays the premium")
        return
    if e.third_party_payor_relation in NOT_THIRD_PARTIES:
        return  # the firm and its people are not third parties: no consent is needed
    key = payor_key(form)
    if key is None:
        yield missing("e.third_party_payor_name", "The third-party payor's name")
        return
    if not e.third_party_consent_confirmed and key not in history.consented_payors:
        yield Violation(
            "e.third_party_consent_confirmed",
            "required",
            "Confirm that the third-party payor consented.",
        )
