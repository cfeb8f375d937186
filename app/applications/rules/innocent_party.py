"""Innocent Party sublimit buy-up and locums (RULES.md §2; guide p.5, p.9, p.13).

The buy-up is offered only to lawyers practising with others (association, partnership, law
corporation of several lawyers) and to locums; a locum carries at least the contracting firm's
sublimit."""

from __future__ import annotations

from collections.abc import Iterator

from app.applications.form import PRACTISING_WITH_OTHERS, ApplicationForm
from app.applications.rules.facts import LawyerHistory, missing
from app.quotes.rules import InnocentPartySublimit, Violation


def check_innocent_party(
    form: ApplicationForm, history: LawyerHistory, program_year: int
) -> Iterator[Violation]:
    c = form.c
    natures = set(form.b.nature_of_practice or ())
    bought_up = c.innocent_party_sublimit is not InnocentPartySublimit.limit_250000
    if bought_up and natures and not c.locum and not natures & PRACTISING_WITH_OTHERS:
        yield Violation(
            "c.innocent_party_sublimit",
            "innocent_party_buy_up_not_offered",
            "The Innocent Party buy-up is offered only to lawyers practising with others "
            "(association, partnership, law corporation of several lawyers) and to locums.",
        )
    yield from check_locum(form)


def check_locum(form: ApplicationForm) -> Iterator[Violation]:
    """A locum carries at least the contracting firm's Innocent Party sublimit."""
    c = form.c
    if not c.locum:
        return
    firm = c.locum_contracting_firm_sublimit
    if firm is None:
        yield missing("c.locum_contracting_firm_sublimit", "The contracting firm's sublimit")
    elif int(c.innocent_party_sublimit.value) < int(firm.value):
        yield Violation(
            "c.innocent_party_sublimit",
            "locum_sublimit_below_firm",
            "A locum must carry at least the contracting firm's Innocent Party sublimit "
            f"({int(firm.value):,}).",
        )
