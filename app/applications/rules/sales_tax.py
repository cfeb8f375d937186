"""Sales tax exemption (RULES.md §1, form question 2).

The exemption applies to a holder of a Certificate of Indian Status or TCRD whose copy is on
file. An application claiming it is refused at submission until staff confirm the copy: pricing
it with tax would freeze a charge the lawyer said they do not owe, and pricing it without would
grant an exemption nobody checked. The lawyer may instead answer No and be priced with tax."""

from __future__ import annotations

from collections.abc import Iterator

from app.applications.form import ApplicationForm
from app.applications.rules.facts import LawyerHistory
from app.quotes.rules import Violation


def tax_exempt(form: ApplicationForm, history: LawyerHistory) -> bool:
    """Priced without sales tax: the certificate claimed and its copy confirmed on file."""
    return bool(form.a.indian_status_certificate) and history.tax_certificate_on_file


def check_sales_tax(
    form: ApplicationForm, history: LawyerHistory, program_year: int
) -> Iterator[Violation]:
    if form.a.indian_status_certificate and not history.tax_certificate_on_file:
        yield Violation(
            "a.indian_status_certificate",
            "certificate_copy_not_on_file",
            "Send a copy of your Certificate of Indian Status or TCRD: the premium is free of "
            "sales tax once customer service confirms the copy is on file. Or answer No to "
            "submit now, priced with tax.",
        )
