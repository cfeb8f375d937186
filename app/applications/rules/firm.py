"""Firm consistency (RULES.md §2; guide p.10, p.11, p.13): every lawyer of one law partnership
or law corporation in one program year chooses the same deductible (amount and type), the
Restricted option collectively, and the same Innocent Party buy-up."""

from __future__ import annotations

from app.applications.form import FIRM_WIDE_CHOICE, ApplicationForm
from app.quotes.rules import Violation

FIRM_WIDE_FIELDS = {
    "c.deductible": ("deductible", "the same deductible (amount and type)"),
    "c.restricted_practice": ("restricted_practice", "the Restricted option collectively"),
    "c.innocent_party_sublimit": ("innocent_party_sublimit", "the same Innocent Party buy-up"),
}


def check_firm_consistency(form: ApplicationForm, others: list[ApplicationForm]) -> list[Violation]:
    """Each firm-wide choice must agree with the firm's applications already submitted for the
    year (a deductible's value names both its amount and its type)."""
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
