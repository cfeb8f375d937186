"""RULES.md §3 without a database: the form's types, every reason both ways (accepted, and each of
its refusals), and the coverage stated while exempt."""

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from app.exemptions.form import ExemptionForm, Reason
from app.exemptions.rules import (
    SERVICES_COVERED_WHILE_EXEMPT,
    CoverageKind,
    LawyerFacts,
    PolicyLimits,
    add_years,
    check_exemption,
    coverage_while_exempt,
    needs_review,
)

TODAY = date(2025, 6, 15)
FACTS = LawyerFacts(called_on=date(2015, 6, 20), previously_covered=True)
ADDRESS = {"street": "1 King St W", "city": "Toronto", "province": "ON", "postal_code": "M5H 1A1"}

# The facts of each reason that make it eligible.
REASON_FACTS: dict[str, dict[str, Any]] = {
    "a": {},
    "b": {"province": "BC", "ontario_matters_this_year": 10, "proof_of_coverage": True},
    "c": {
        "leave_kind": "other",
        "leave_start": "2025-07-01",
        "leave_expected_end": "2027-07-01",
        "alternative_employment": False,
    },
    "d": {"employer_kind": "crown_attorney", "only_for_employer": True},
    "e": {
        "corporation_is_law_corporation": False,
        "on_secondment_from_law_firm": False,
        "one_corporation": True,
    },
    "f": {
        "organization_kind": "clinic",
        "funded_by_legal_aid_ontario": True,
        "employed_by_legal_aid_ontario": False,
        "proof_of_coverage": True,
    },
    "g": {"jurisdiction": "NU", "proof_of_coverage": True},
    "h": {
        "role": "estate_trustee",
        "for_non_related_persons": True,
        "named_while_in_practice": True,
        "sub_basis": "not_otherwise_practising",
    },
}


def complete(reason: str, facts: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    """A form for `reason` that breaks no rule, with `facts` changed in the reason's section."""
    form: dict[str, Any] = {
        "reason": reason,
        "effective_date": "2025-07-01",
        "name": "Ada Lawyer",
        "law_society_number": "98765A",
        "mailing_address": ADDRESS,
        "telephone": "416-555-0100",
        "email": "ada@example.com",
        "employer_name": "Ministry of the Attorney General",
        "employer_address": ADDRESS,
        "pi_statement_acknowledged": True,
        "signature": "Ada Lawyer",
        "signed_on": "2025-06-10",
    }
    if reason != "a":
        form[reason] = {**REASON_FACTS[reason], **(facts or {})}
    return {**form, **fields}


def problems(form: dict[str, Any], facts: LawyerFacts = FACTS) -> set[tuple[str, str]]:
    found = check_exemption(ExemptionForm.model_validate(form), facts, today=TODAY)
    return {(v.field, v.code) for v in found}


# --- the form as data -----------------------------------------------------------------------------


def test_an_empty_draft_is_a_valid_form():
    form = ExemptionForm()
    assert form.reason is None and form.pro_bono is False and form.g is None


def test_strings_are_stripped_and_dates_read_from_their_text():
    form = ExemptionForm.model_validate(
        {"name": "  Ada Lawyer ", "effective_date": "2025-07-01", "email": " ada@example.com "}
    )
    assert form.name == "Ada Lawyer"
    assert form.effective_date == date(2025, 7, 1)
    assert form.email == "ada@example.com"


@pytest.mark.parametrize(
    ("data", "loc"),
    [
        ({"reason": "i"}, ("reason",)),
        ({"reason": "A"}, ("reason",)),
        ({"g": {"jurisdiction": "XX"}}, ("g", "jurisdiction")),
        ({"c": {"leave_kind": "holiday"}}, ("c", "leave_kind")),
        ({"d": {"employer_kind": "law_firm"}}, ("d", "employer_kind")),
        ({"f": {"organization_kind": "charity"}}, ("f", "organization_kind")),
        ({"h": {"role": "executor"}}, ("h", "role")),
        ({"h": {"sub_basis": "qualifies_under_a"}}, ("h", "sub_basis")),
        ({"pro_bono": "true"}, ("pro_bono",)),  # strict: text is not a yes
        ({"pro_bono": 1}, ("pro_bono",)),
        ({"b": {"ontario_matters_this_year": "3"}}, ("b", "ontario_matters_this_year")),
        ({"b": {"ontario_matters_this_year": True}}, ("b", "ontario_matters_this_year")),
        ({"b": {"ontario_matters_this_year": -1}}, ("b", "ontario_matters_this_year")),
        ({"b": {"proof_document_id": "not-a-uuid"}}, ("b", "proof_document_id")),
        ({"name": 7}, ("name",)),
        ({"name": "x" * 201}, ("name",)),
        ({"law_society_number": "1" * 21}, ("law_society_number",)),
        ({"effective_date": 1_735_689_600}, ("effective_date",)),  # a timestamp is not a date
        ({"effective_date": "2025-02-30"}, ("effective_date",)),
        ({"email": "not an address"}, ("email",)),
        ({"surname": "Lawyer"}, ("surname",)),  # extra fields are refused
        ({"g": {"jurisdiction": "BC", "province": "BC"}}, ("g", "province")),
    ],
)
def test_values_outside_the_form_are_refused_naming_the_field(data, loc):
    with pytest.raises(ValidationError) as caught:
        ExemptionForm.model_validate(data)
    assert [error["loc"] for error in caught.value.errors()] == [loc]


def test_a_proof_document_is_kept_by_its_id():
    doc = "0b7f0c5e-6a35-4bb4-9a4e-3f0d7b8f4a11"
    form = ExemptionForm.model_validate(complete("g", {"proof_document_id": doc}))
    assert form.g is not None and str(form.g.proof_document_id) == doc


# --- what every submission needs ----------------------------------------------------------------


def test_an_empty_draft_lists_every_missing_answer_at_once():
    assert problems({}) == {
        ("reason", "required"),
        ("effective_date", "required"),
        ("name", "required"),
        ("law_society_number", "required"),
        ("pi_statement_acknowledged", "required"),
        ("signature", "required"),
        ("signed_on", "required"),
    }


def test_blank_answers_count_as_missing():
    form = complete("a", name="   ", law_society_number="", signature=" ")
    assert problems(form) == {
        ("name", "required"),
        ("law_society_number", "required"),
        ("signature", "required"),
    }


def test_the_effective_date_may_be_the_day_of_call_but_not_before():
    called = LawyerFacts(called_on=date(2025, 7, 1), previously_covered=False)
    assert problems(complete("a"), called) == set()
    earlier = complete("a", effective_date="2025-06-30")
    assert problems(earlier, called) == {("effective_date", "before_call")}


def test_without_a_known_call_date_any_past_effective_date_is_accepted():
    unknown = LawyerFacts(called_on=None)
    assert problems(complete("a", effective_date="1990-01-01"), unknown) == set()


def test_the_effective_date_may_be_at_most_the_end_of_next_year():
    assert problems(complete("a", effective_date="2026-12-31")) == set()
    assert problems(complete("a", effective_date="2027-01-01")) == {
        ("effective_date", "too_far_ahead")
    }


def test_the_signature_date_may_not_be_in_the_future():
    assert problems(complete("a", signed_on=TODAY.isoformat())) == set()
    assert problems(complete("a", signed_on="2025-06-16")) == {("signed_on", "in_future")}


# --- each reason both ways -------------------------------------------------------------------------


@pytest.mark.parametrize("reason", [r.value for r in Reason])
def test_each_reason_with_its_facts_is_accepted(reason):
    assert problems(complete(reason)) == set()


@pytest.mark.parametrize("reason", ["b", "c", "d", "e", "f", "g", "h"])
def test_a_reason_without_its_facts_is_refused(reason):
    form = complete(reason)
    del form[reason]
    assert problems(form) == {(reason, "required")}


@pytest.mark.parametrize("reason", ["b", "c", "d", "e", "f", "g", "h"])
def test_an_empty_section_lists_each_missing_fact(reason):
    found = problems(complete(reason, **{reason: {}}))
    assert found and all(field.startswith(f"{reason}.") for field, _ in found)
    wanted = {
        "b": {"province", "ontario_matters_this_year", "proof_of_coverage"},
        "c": {"leave_kind", "leave_start", "leave_expected_end", "alternative_employment"},
        "d": {"employer_kind", "only_for_employer"},
        "e": {"corporation_is_law_corporation", "on_secondment_from_law_firm", "one_corporation"},
        "f": {
            "organization_kind",
            "funded_by_legal_aid_ontario",
            "employed_by_legal_aid_ontario",
            "proof_of_coverage",
        },
        "g": {"jurisdiction", "proof_of_coverage"},
        "h": {"role", "for_non_related_persons", "named_while_in_practice", "sub_basis"},
    }[reason]
    assert {field.split(".")[1] for field, _ in found} == wanted


def test_sections_of_other_reasons_are_not_checked():
    # a draft that first chose (g), then switched to (a): the stale section decides nothing
    form = complete("a", g={"jurisdiction": "QC"})
    assert problems(form) == set()


@pytest.mark.parametrize(
    ("reason", "facts", "expected"),
    [
        # (b): resident elsewhere in Canada, at most 10 matters, proof of coverage
        ("b", {"province": "ON"}, {("b.province", "resident_in_ontario")}),
        ("b", {"province": "QC"}, set()),  # any Canadian jurisdiction other than Ontario
        (
            "b",
            {"ontario_matters_this_year": 11},
            {("b.ontario_matters_this_year", "not_occasional")},
        ),
        ("b", {"ontario_matters_this_year": 0}, set()),
        ("b", {"proof_of_coverage": False}, {("b.proof_of_coverage", "proof_required")}),
        # (c): an end after the start, within 5 (family, illness) or 2 years, no other employment
        ("c", {"leave_expected_end": None}, {("c.leave_expected_end", "required")}),
        (
            "c",
            {"leave_expected_end": "2025-07-01"},
            {("c.leave_expected_end", "end_not_after_start")},
        ),
        (
            "c",
            {"leave_expected_end": "2025-06-30"},
            {("c.leave_expected_end", "end_not_after_start")},
        ),
        ("c", {"leave_expected_end": "2027-07-02"}, {("c.leave_expected_end", "leave_too_long")}),
        ("c", {"leave_kind": "family_or_illness", "leave_expected_end": "2030-07-01"}, set()),
        (
            "c",
            {"leave_kind": "family_or_illness", "leave_expected_end": "2030-07-02"},
            {("c.leave_expected_end", "leave_too_long")},
        ),
        (
            "c",
            {"alternative_employment": True},
            {("c.alternative_employment", "alternative_employment")},
        ),
        # (d): an employer kind, and practice only for the employer
        ("d", {"employer_kind": "law_teacher"}, set()),
        ("d", {"employer_kind": None}, {("d.employer_kind", "required")}),
        ("d", {"only_for_employer": False}, {("d.only_for_employer", "not_only_for_employer")}),
        # (e): not a law corporation, not on secondment, one corporation
        (
            "e",
            {"corporation_is_law_corporation": True},
            {("e.corporation_is_law_corporation", "law_corporation")},
        ),
        (
            "e",
            {"on_secondment_from_law_firm": True},
            {("e.on_secondment_from_law_firm", "secondment")},
        ),
        ("e", {"one_corporation": False}, {("e.one_corporation", "not_one_corporation")}),
        # (f): funded by Legal Aid Ontario, not employed by it directly, proof of coverage
        ("f", {"organization_kind": "aboriginal_legal_services"}, set()),
        (
            "f",
            {"funded_by_legal_aid_ontario": False},
            {("f.funded_by_legal_aid_ontario", "not_funded_by_lao")},
        ),
        (
            "f",
            {"employed_by_legal_aid_ontario": True},
            {("f.employed_by_legal_aid_ontario", "employed_by_lao")},
        ),
        ("f", {"proof_of_coverage": False}, {("f.proof_of_coverage", "proof_required")}),
        # (g): a reciprocating jurisdiction (not Ontario, not Québec), proof of coverage
        ("g", {"jurisdiction": "BC"}, set()),
        ("g", {"jurisdiction": "QC"}, {("g.jurisdiction", "not_reciprocating")}),
        ("g", {"jurisdiction": "ON"}, {("g.jurisdiction", "not_reciprocating")}),
        ("g", {"proof_of_coverage": False}, {("g.proof_of_coverage", "proof_required")}),
        # (h): a role, for non-related persons, named while in practice, a sub-basis
        ("h", {"role": "attorney_for_property", "sub_basis": "qualifies_under_e"}, set()),
        ("h", {"role": None}, {("h.role", "required")}),
        (
            "h",
            {"for_non_related_persons": False},
            {("h.for_non_related_persons", "related_persons")},
        ),
        (
            "h",
            {"named_while_in_practice": False},
            {("h.named_while_in_practice", "not_named_in_practice")},
        ),
        ("h", {"sub_basis": None}, {("h.sub_basis", "required")}),
    ],
)
def test_each_condition_of_a_reason(reason, facts, expected):
    assert problems(complete(reason, facts)) == expected


@pytest.mark.parametrize(
    "jurisdiction", ["BC", "AB", "SK", "MB", "NB", "NS", "PE", "NL", "YT", "NT", "NU"]
)
def test_every_reciprocating_jurisdiction_is_accepted(jurisdiction):
    assert problems(complete("g", {"jurisdiction": jurisdiction})) == set()


def test_every_broken_condition_is_reported_at_once():
    form = complete(
        "g",
        {"jurisdiction": "QC", "proof_of_coverage": False},
        employer_name=None,
        signature=None,
        effective_date="2030-01-01",
    )
    assert problems(form) == {
        ("effective_date", "too_far_ahead"),
        ("g.jurisdiction", "not_reciprocating"),
        ("g.proof_of_coverage", "proof_required"),
        ("employer_name", "required"),
        ("signature", "required"),
    }


def test_a_leave_from_29_february_ends_at_the_latest_on_28_february():
    assert add_years(date(2024, 2, 29), 2) == date(2026, 2, 28)
    assert add_years(date(2024, 2, 29), 4) == date(2028, 2, 29)
    leave = {"leave_start": "2024-02-29"}
    assert problems(complete("c", {**leave, "leave_expected_end": "2026-02-28"})) == set()
    assert problems(complete("c", {**leave, "leave_expected_end": "2026-03-01"})) == {
        ("c.leave_expected_end", "leave_too_long")
    }


# --- the employer or law firm ----------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["c", "d", "e", "f", "g"])
def test_reasons_c_to_g_need_the_employer_name_and_address(reason):
    form = complete(reason, employer_name=None, employer_address=None)
    assert problems(form) == {("employer_name", "required"), ("employer_address", "required")}
    partial = complete(reason, employer_address={**ADDRESS, "postal_code": None})
    assert problems(partial) == {("employer_address", "required")}


@pytest.mark.parametrize("reason", ["a", "b", "h"])
def test_other_reasons_need_no_employer(reason):
    assert problems(complete(reason, employer_name=None, employer_address=None)) == set()


def test_the_employer_address_may_be_the_mailing_address():
    form = complete("d", employer_address=None, employer_address_same_as_mailing=True)
    assert problems(form) == set()
    no_mailing = {**form, "mailing_address": None}
    assert problems(no_mailing) == {("mailing_address", "required")}


# --- review -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reason", "pro_bono", "review"),
    [
        ("a", False, False),
        ("b", False, True),
        ("c", False, False),
        ("d", False, False),
        ("e", False, False),
        ("f", False, True),
        ("g", False, True),
        ("h", False, False),
        ("a", True, True),
        ("e", True, True),
    ],
)
def test_proof_of_coverage_and_pro_bono_are_reviewed(reason, pro_bono, review):
    form = ExemptionForm.model_validate(complete(reason, pro_bono=pro_bono))
    assert needs_review(form) is review


def test_pro_bono_is_accepted_all_the_same():
    assert problems(complete("a", pro_bono=True)) == set()


# --- coverage while exempt --------------------------------------------------------------------------

D = Decimal
CURRENT = PolicyLimits(
    per_claim=D("1000000.00"), aggregate=D("2000000.00"), deductible=D("10000.00")
)


@pytest.mark.parametrize("reason", [Reason.a, Reason.b, Reason.d, Reason.e, Reason.f, Reason.h])
def test_run_off_of_250000_for_a_lawyer_covered_before(reason):
    cover = coverage_while_exempt(
        reason, previously_covered=True, starts_at_year_start=False, current_policy=CURRENT
    )
    assert cover.kind is CoverageKind.run_off
    assert (cover.per_claim, cover.aggregate, cover.deductible) == (
        D("250000.00"),
        D("250000.00"),
        D("5000.00"),
    )
    assert cover.aggregate_reinstated_annually is False
    assert "never reinstated" in cover.note


@pytest.mark.parametrize("reason", [Reason.a, Reason.b, Reason.d, Reason.e, Reason.f, Reason.h])
def test_no_run_off_for_a_lawyer_never_covered(reason):
    cover = coverage_while_exempt(
        reason, previously_covered=False, starts_at_year_start=True, current_policy=None
    )
    assert cover.kind is CoverageKind.none
    assert (cover.per_claim, cover.aggregate, cover.deductible) == (None, None, None)
    assert cover.aggregate_reinstated_annually is False


@pytest.mark.parametrize("previously_covered", [True, False])
def test_a_leave_from_the_start_of_the_year_keeps_the_full_practice_limits(previously_covered):
    cover = coverage_while_exempt(
        Reason.c,
        previously_covered=previously_covered,
        starts_at_year_start=True,
        current_policy=CURRENT,
    )
    assert cover.kind is CoverageKind.full_practice
    assert (cover.per_claim, cover.aggregate, cover.deductible) == (
        D("1000000.00"),
        D("2000000.00"),
        D("5000.00"),
    )


def test_a_leave_from_mid_year_keeps_the_current_policys_limits():
    cover = coverage_while_exempt(
        Reason.c, previously_covered=True, starts_at_year_start=False, current_policy=CURRENT
    )
    assert cover.kind is CoverageKind.current_policy_continues
    assert (cover.per_claim, cover.aggregate, cover.deductible) == (
        D("1000000.00"),
        D("2000000.00"),
        D("10000.00"),
    )


def test_a_leave_from_mid_year_without_a_policy_has_nothing_to_continue():
    cover = coverage_while_exempt(
        Reason.c, previously_covered=False, starts_at_year_start=False, current_policy=None
    )
    assert cover.kind is CoverageKind.none
    assert cover.per_claim is None


def test_mobility_run_off_for_earlier_ontario_practice_reinstated_annually():
    cover = coverage_while_exempt(
        Reason.g, previously_covered=True, starts_at_year_start=True, current_policy=None
    )
    assert cover.kind is CoverageKind.run_off
    assert (cover.per_claim, cover.aggregate, cover.deductible) == (
        D("1000000.00"),
        D("2000000.00"),
        D("5000.00"),
    )
    assert cover.aggregate_reinstated_annually is True
    assert "earlier practice in Ontario" in cover.note


def test_mobility_without_earlier_ontario_coverage_has_none():
    cover = coverage_while_exempt(
        Reason.g, previously_covered=False, starts_at_year_start=True, current_policy=CURRENT
    )
    assert cover.kind is CoverageKind.none


@pytest.mark.parametrize("reason", list(Reason))
@pytest.mark.parametrize("previously_covered", [True, False])
def test_three_services_stay_covered_whatever_the_reason(reason, previously_covered):
    cover = coverage_while_exempt(
        reason,
        previously_covered=previously_covered,
        starts_at_year_start=False,
        current_policy=None,
    )
    assert cover.services_still_covered == SERVICES_COVERED_WHILE_EXEMPT
    assert len(SERVICES_COVERED_WHILE_EXEMPT) == 3
    text = " ".join(SERVICES_COVERED_WHILE_EXEMPT)
    assert "Pro Bono Ontario" in text and "Mentoring" in text and "estate trustee" in text
