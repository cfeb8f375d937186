"""Exemptions (RULES.md §3), pure: who may be exempt, what stays covered while exempt, and what part
of a paid premium comes back.

`check_exemption` returns every broken rule at once, each naming its field (`g.jurisdiction`,
`employer_name`); `coverage_while_exempt` states the coverage; `premium_refund` is the Decision's
refund arithmetic, exact (Fraction) and rounded half-up to the cent."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from app.exemptions.form import (
    RECIPROCATING,
    ExemptionForm,
    LeaveKind,
    LeaveOfAbsence,
    Province,
    Reason,
)
from app.quotes.rules import ZERO, Violation, round_half_up

MAX_OCCASIONAL_MATTERS = 10
LEAVE_MAX_YEARS = {LeaveKind.family_or_illness: 5, LeaveKind.other: 2}
LEAVE_REASONS = {
    LeaveKind.family_or_illness: "for family or illness",
    LeaveKind.other: "for other reasons",
}
REFUND_LOOK_BACK = timedelta(days=30)
# Reasons whose form asks for the employer's or law firm's name and address (p.29).
NEEDS_EMPLOYER = frozenset({Reason.c, Reason.d, Reason.e, Reason.f, Reason.g})
# Reasons whose proof of coverage staff check before the exemption is granted.
PROOF_TO_CHECK = frozenset({Reason.b, Reason.f, Reason.g})


@dataclass(frozen=True)
class LawyerFacts:
    """What the rules know besides the form, gathered by the service."""

    called_on: date | None = None  # date of call to the bar
    previously_covered: bool = False  # held a policy under the program in any earlier year


def add_years(day: date, years: int) -> date:
    """The same day `years` later; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def _required(path: str, what: str) -> Violation:
    return Violation(path, "required", f"{what} is required to submit.")


# --- eligibility ---------------------------------------------------------------------------------


def check_exemption(form: ExemptionForm, facts: LawyerFacts, *, today: date) -> list[Violation]:
    """Every completeness and eligibility rule an exemption must pass, in the form's order."""
    return [
        *_check_reason_and_date(form, facts, today),
        *_check_reason_facts(form),
        *_check_employer(form),
        *_check_signature(form, today),
    ]


def needs_review(form: ExemptionForm) -> bool:
    """Staff look before granting it: a proof of coverage to check, or pro bono work."""
    return form.reason in PROOF_TO_CHECK or form.pro_bono


def _check_reason_and_date(
    form: ExemptionForm, facts: LawyerFacts, today: date
) -> Iterator[Violation]:
    if form.reason is None:
        yield _required("reason", "A reason for the exemption")
    effective = form.effective_date
    latest = date(today.year + 1, 12, 31)  # a date beyond next year is a typing error
    if effective is None:
        yield _required("effective_date", "The date on which the exemption takes effect")
    elif facts.called_on is not None and effective < facts.called_on:
        yield Violation(
            "effective_date",
            "before_call",
            f"The exemption cannot take effect before your call to the bar "
            f"({facts.called_on.isoformat()}).",
        )
    elif effective > latest:
        yield Violation(
            "effective_date",
            "too_far_ahead",
            f"The exemption can take effect at the latest on {latest.isoformat()}, "
            "the end of next year.",
        )
    if not form.name:
        yield _required("name", "Your name")
    if not form.law_society_number:
        yield _required("law_society_number", "Your Law Society number")


def _check_reason_facts(form: ExemptionForm) -> Iterator[Violation]:
    reason = form.reason
    if reason is Reason.b:
        yield from _check_b(form)
    elif reason is Reason.c:
        yield from _check_c(form.c)
    elif reason is Reason.d:
        yield from _check_d(form)
    elif reason is Reason.e:
        yield from _check_e(form)
    elif reason is Reason.f:
        yield from _check_f(form)
    elif reason is Reason.g:
        yield from _check_g(form)
    elif reason is Reason.h:
        yield from _check_h(form)


def _check_b(form: ExemptionForm) -> Iterator[Violation]:
    b = form.b
    if b is None:
        yield _required("b", "Reason (b)'s facts")
        return
    if b.province is None:
        yield _required("b.province", "Your province or territory of residence")
    elif b.province is Province.ON:
        yield Violation(
            "b.province",
            "resident_in_ontario",
            "Reason (b) is for lawyers resident in a Canadian jurisdiction other than Ontario.",
        )
    if b.ontario_matters_this_year is None:
        yield _required("b.ontario_matters_this_year", "The number of Ontario matters this year")
    elif b.ontario_matters_this_year > MAX_OCCASIONAL_MATTERS:
        yield Violation(
            "b.ontario_matters_this_year",
            "not_occasional",
            f"Occasional practice is at most {MAX_OCCASIONAL_MATTERS} matters a year.",
        )
    if not b.proof_of_coverage:
        yield _proof_required("b.proof_of_coverage", "your jurisdiction's mandatory coverage")


def _check_c(c: LeaveOfAbsence | None) -> Iterator[Violation]:
    if c is None:
        yield _required("c", "Reason (c)'s facts")
        return
    if c.leave_kind is None:
        yield _required("c.leave_kind", "Why the leave is taken")
    if c.leave_start is None:
        yield _required("c.leave_start", "The leave's start")
    if c.leave_expected_end is None:
        yield _required("c.leave_expected_end", "The leave's expected end")
    elif c.leave_start is not None:
        if c.leave_expected_end <= c.leave_start:
            yield Violation(
                "c.leave_expected_end",
                "end_not_after_start",
                "The leave's expected end must come after its start.",
            )
        elif c.leave_kind is not None:
            years = LEAVE_MAX_YEARS[c.leave_kind]
            latest = add_years(c.leave_start, years)
            if c.leave_expected_end > latest:
                why = LEAVE_REASONS[c.leave_kind]
                yield Violation(
                    "c.leave_expected_end",
                    "leave_too_long",
                    f"A leave {why} lasts at most {years} years: from "
                    f"{c.leave_start.isoformat()}, until {latest.isoformat()} at the latest.",
                )
    if c.alternative_employment is None:
        yield _required("c.alternative_employment", "Whether you have taken other employment")
    elif c.alternative_employment:
        yield Violation(
            "c.alternative_employment",
            "alternative_employment",
            "Reason (c) is not available to a lawyer who has taken alternative employment.",
        )


def _check_d(form: ExemptionForm) -> Iterator[Violation]:
    d = form.d
    if d is None:
        yield _required("d", "Reason (d)'s facts")
        return
    if d.employer_kind is None:
        yield _required("d.employer_kind", "Your employer (or law teaching)")
    yield from _must_be(
        "d.only_for_employer",
        d.only_for_employer,
        True,
        "Whether you practise only for your employer",
        "not_only_for_employer",
        "Reason (d) requires practising law in Ontario only for the employer (or only teaching).",
    )


def _check_e(form: ExemptionForm) -> Iterator[Violation]:
    e = form.e
    if e is None:
        yield _required("e", "Reason (e)'s facts")
        return
    yield from _must_be(
        "e.corporation_is_law_corporation",
        e.corporation_is_law_corporation,
        False,
        "Whether the corporation is a law corporation",
        "law_corporation",
        "Reason (e) is for counsel to a corporation other than a law corporation.",
    )
    yield from _must_be(
        "e.on_secondment_from_law_firm",
        e.on_secondment_from_law_firm,
        False,
        "Whether you are on secondment from a law firm",
        "secondment",
        "Reason (e) is not available to a lawyer on secondment from a law firm.",
    )
    yield from _must_be(
        "e.one_corporation",
        e.one_corporation,
        True,
        "Whether you are employed by a single corporation",
        "not_one_corporation",
        "Reason (e) requires a single employer (a corporation with its affiliates).",
    )


def _check_f(form: ExemptionForm) -> Iterator[Violation]:
    f = form.f
    if f is None:
        yield _required("f", "Reason (f)'s facts")
        return
    if f.organization_kind is None:
        yield _required("f.organization_kind", "The kind of organization")
    yield from _must_be(
        "f.funded_by_legal_aid_ontario",
        f.funded_by_legal_aid_ontario,
        True,
        "Whether the organization is funded by Legal Aid Ontario",
        "not_funded_by_lao",
        "Reason (f) requires an organization funded by Legal Aid Ontario.",
    )
    yield from _must_be(
        "f.employed_by_legal_aid_ontario",
        f.employed_by_legal_aid_ontario,
        False,
        "Whether you are employed by Legal Aid Ontario directly",
        "employed_by_lao",
        "Reason (f) is not available to a lawyer employed directly by Legal Aid Ontario.",
    )
    if not f.proof_of_coverage:
        yield _proof_required("f.proof_of_coverage", "the organization's liability coverage")


def _check_g(form: ExemptionForm) -> Iterator[Violation]:
    g = form.g
    if g is None:
        yield _required("g", "Reason (g)'s facts")
        return
    if g.jurisdiction is None:
        yield _required("g.jurisdiction", "Your jurisdiction of residence")
    elif g.jurisdiction not in RECIPROCATING:
        yield Violation(
            "g.jurisdiction",
            "not_reciprocating",
            "Reason (g) is for residents of a reciprocating jurisdiction: a Canadian "
            "jurisdiction other than Ontario and Québec.",
        )
    if not g.proof_of_coverage:
        yield _proof_required("g.proof_of_coverage", "the jurisdiction's mandatory coverage")


def _check_h(form: ExemptionForm) -> Iterator[Violation]:
    h = form.h
    if h is None:
        yield _required("h", "Reason (h)'s facts")
        return
    if h.role is None:
        yield _required("h.role", "Your role")
    yield from _must_be(
        "h.for_non_related_persons",
        h.for_non_related_persons,
        True,
        "Whether you act for persons not related to you",
        "related_persons",
        "Reason (h) is for acting for persons not related to you; acting only for your family "
        "falls under reason (a), (d), (e) or (f).",
    )
    yield from _must_be(
        "h.named_while_in_practice",
        h.named_while_in_practice,
        True,
        "Whether you were named while practising in Ontario",
        "not_named_in_practice",
        "Reason (h) requires having been named while practising law in Ontario.",
    )
    if h.sub_basis is None:
        yield _required(
            "h.sub_basis", "Whether you do not otherwise practise, or qualify under (d), (e) or (f)"
        )


def _must_be(
    path: str, value: bool | None, wanted: bool, what: str, code: str, refusal: str
) -> Iterator[Violation]:
    if value is None:
        yield _required(path, what)
    elif value is not wanted:
        yield Violation(path, code, refusal)


def _proof_required(path: str, of: str) -> Violation:
    return Violation(path, "proof_required", f"Proof of {of} is required.")


def _check_employer(form: ExemptionForm) -> Iterator[Violation]:
    if form.reason not in NEEDS_EMPLOYER:
        return
    if not form.employer_name:
        yield _required("employer_name", "Your employer's or law firm's name")
    address = (
        form.mailing_address if form.employer_address_same_as_mailing else form.employer_address
    )
    if address is None or not address.is_complete():
        path = "mailing_address" if form.employer_address_same_as_mailing else "employer_address"
        yield _required(path, "Your employer's or law firm's full address")


def _check_signature(form: ExemptionForm, today: date) -> Iterator[Violation]:
    if not form.pi_statement_acknowledged:
        yield Violation(
            "pi_statement_acknowledged",
            "required",
            "Acknowledge the Personal Information Statement to submit.",
        )
    if not form.signature:
        yield _required("signature", "Your signature")
    if form.signed_on is None:
        yield _required("signed_on", "The date of signature")
    elif form.signed_on > today:
        yield Violation("signed_on", "in_future", "The date of signature cannot be in the future.")


# --- coverage while exempt -----------------------------------------------------------------------


class CoverageKind(StrEnum):
    run_off = "run_off"  # limited run-off for claims from earlier Ontario practice
    full_practice = "full_practice"  # the standard practice policy's limits
    current_policy_continues = "current_policy_continues"
    none = "none"


# p.27, p.29: covered while exempt whatever the reason.
SERVICES_COVERED_WHILE_EXEMPT: tuple[str, ...] = (
    "Pro bono services provided through an approved pro bono program associated with "
    "Pro Bono Ontario",
    "Mentoring services provided under LAWPRO-approved risk management protocols",
    "Services as estate trustee, trustee for an inter vivos trust or attorney for property, "
    "where that coverage was applied for and granted",
)
RUN_OFF_LIMIT = Decimal("250000.00")
PRACTICE_PER_CLAIM = Decimal("1000000.00")
PRACTICE_AGGREGATE = Decimal("2000000.00")
EXEMPT_DEDUCTIBLE = Decimal("5000.00")
RUN_OFF_REASONS = frozenset({Reason.a, Reason.b, Reason.d, Reason.e, Reason.f, Reason.h})


@dataclass(frozen=True)
class PolicyLimits:
    """The lawyer's current policy, whose limits continue for a leave taken mid-year."""

    per_claim: Decimal
    aggregate: Decimal
    deductible: Decimal  # per claim


@dataclass(frozen=True)
class Coverage:
    kind: CoverageKind
    per_claim: Decimal | None
    aggregate: Decimal | None
    deductible: Decimal | None
    aggregate_reinstated_annually: bool
    note: str
    services_still_covered: tuple[str, ...] = SERVICES_COVERED_WHILE_EXEMPT


def coverage_while_exempt(
    reason: Reason,
    *,
    previously_covered: bool,
    starts_at_year_start: bool,
    current_policy: PolicyLimits | None,
) -> Coverage:
    """RULES.md §3's table: the coverage a lawyer keeps while exempt for `reason`."""
    if reason is Reason.c:
        return _leave_coverage(starts_at_year_start, current_policy)
    if not previously_covered:
        return _no_coverage(
            "No run-off coverage: the lawyer has held no policy under the program before."
        )
    if reason is Reason.g:
        return Coverage(
            CoverageKind.run_off,
            PRACTICE_PER_CLAIM,
            PRACTICE_AGGREGATE,
            EXEMPT_DEDUCTIBLE,
            aggregate_reinstated_annually=True,
            note="Only for claims arising from the lawyer's earlier practice in Ontario, "
            "practised there on a permanent basis with the program's full practice coverage; "
            "practice in the reciprocating jurisdiction is covered by its own program.",
        )
    return Coverage(  # RUN_OFF_REASONS
        CoverageKind.run_off,
        RUN_OFF_LIMIT,
        RUN_OFF_LIMIT,
        EXEMPT_DEDUCTIBLE,
        aggregate_reinstated_annually=False,
        note="Only for claims arising from services provided while the lawyer practised in "
        "Ontario with the program's coverage; claims reported while exempt reduce the "
        "aggregate, which is never reinstated.",
    )


def _leave_coverage(starts_at_year_start: bool, current: PolicyLimits | None) -> Coverage:
    if starts_at_year_start:
        return Coverage(
            CoverageKind.full_practice,
            PRACTICE_PER_CLAIM,
            PRACTICE_AGGREGATE,
            EXEMPT_DEDUCTIBLE,
            aggregate_reinstated_annually=True,
            note="The standard practice policy's limits (claim expenses and indemnity together).",
        )
    if current is None:
        return _no_coverage("No current policy whose limits could continue during the leave.")
    return Coverage(
        CoverageKind.current_policy_continues,
        current.per_claim,
        current.aggregate,
        current.deductible,
        aggregate_reinstated_annually=True,
        note="The current policy's limits continue for the rest of its period; from the start "
        "of a later year of leave, the standard practice policy's limits apply.",
    )


def _no_coverage(note: str) -> Coverage:
    return Coverage(CoverageKind.none, None, None, None, False, note)


# --- return of premium ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Refund:
    start: date  # s: the first day refunded
    days: int  # d(s)
    policy_days: int  # P = d(policy effective date)
    premium: Decimal
    tax: Decimal
    total: Decimal
    cover_ends: date  # the last premium-bearing day of the policy


def premium_refund(
    *,
    premium: Decimal,
    tax_rate: Decimal,
    tax_exempt: bool,
    policy_effective: date,
    program_year: int,
    exemption_effective: date,
    received: date,
    real_estate: bool,
    charged_total: Decimal,
) -> Refund:
    """RULES.md §3's Decision: the premium pro-rated from `s` to 31 December over the policy's own
    days, tax on the rounded premium, the whole never more than was charged (premium first)."""
    end = date(program_year, 12, 31)
    if policy_effective.year != program_year:
        raise ValueError(f"The policy's effective date is outside the {program_year} program year.")

    def days_left(x: date) -> int:
        return max(0, (end - x).days + 1)

    look_back = received if real_estate else received - REFUND_LOOK_BACK
    start = max(look_back, exemption_effective, policy_effective)
    days, policy_days = days_left(start), days_left(policy_effective)
    charged = round_half_up(max(ZERO, charged_total))
    refund_premium = round_half_up(Fraction(max(ZERO, premium)) * days / policy_days)
    refund_tax = ZERO if tax_exempt else round_half_up(refund_premium * tax_rate)
    refund_premium = min(refund_premium, charged)
    refund_tax = min(refund_tax, charged - refund_premium)
    cover_ends = min(end, max(policy_effective, start - timedelta(days=1)))
    return Refund(
        start=start,
        days=days,
        policy_days=policy_days,
        premium=refund_premium,
        tax=refund_tax,
        total=refund_premium + refund_tax,
        cover_ends=cover_ends,
    )
