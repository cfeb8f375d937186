"""RULES.md §2 without a database: each rule both ways (a case that passes, one that breaks)."""

from datetime import date
from decimal import Decimal

import pytest

from app.applications.form import ApplicationForm
from app.applications.rules import ClaimRecord, LawyerHistory, check_application

EFFECTIVE = date(2025, 1, 1)


def complete(**sections) -> ApplicationForm:
    """A complete application that breaks no rule: 10 years, partnership, standard options."""
    form = {
        "a": {
            "name": "Ada Lawyer",
            "position": "Partner",
            "law_society_number": "98765A",
            "preferred_mailing_address": "firm",
            "firm_name": "Smith LLP",
            "firm_address": {
                "street": "1 King St W",
                "city": "Toronto",
                "province": "ON",
                "postal_code": "M5H 1A1",
            },
            "work_phone": "416-555-0100",
            "email": "ada@smith.example",
            "indian_status_certificate": False,
            "years_in_practice": 10,
            "practised_outside_ontario": False,
            "billing_code": "AV11",
            # the lawyer's own billings: Part-Time with an AV code needs them stated
            "gross_billings": "90000.00",
            "hours_last_fiscal_year": 1600,
            "primary_area": 8,
        },
        "b": {
            "nature_of_practice": ["partnership_general"],
            "lawyers_and_paralegal_partners": 3,
            "non_lawyer_staff": 2,
        },
        "c": {"effective_date": EFFECTIVE.isoformat(), "deductible": "5000_combined"},
        "d": {"unreported_claims_or_circumstances": False},
        "e": {
            "third_party_payor": False,
            "payment_plan": "quarterly",
            "payment_method": "credit_card",
        },
        "f": {
            "warranty_signed": True,
            "signature_name": "Ada Lawyer",
            "signed_on": "2024-11-20",
            "personal_information_statement_acknowledged": True,
        },
    }
    for name, changes in sections.items():
        form[name] = {**form[name], **changes}
    return ApplicationForm.model_validate(form)


def problems(form, history=None):
    found = check_application(form, history or LawyerHistory(), program_year=2025)
    return {(v.field, v.code) for v in found}


def claim(reported_on, *, kind="claim", with_payment=False):
    return ClaimRecord(kind=kind, reported_on=reported_on, with_payment=with_payment)


def test_a_complete_application_passes():
    assert problems(complete()) == set()


def test_an_empty_draft_lists_every_missing_answer_at_once():
    found = problems(ApplicationForm())
    assert {field for field, code in found if code == "required"} >= {
        "a.name",
        "a.law_society_number",
        "a.billing_code",
        "a.primary_area",
        "b.nature_of_practice",
        "c.effective_date",
        "c.deductible",
        "e.payment_plan",
        "f.warranty_signed",
        "f.personal_information_statement_acknowledged",
        "f.signature_name",
    }


def test_mailing_address_must_be_complete_for_the_chosen_preference():
    assert ("a.home_address", "required") in problems(
        complete(a={"preferred_mailing_address": "home"})
    )
    home = {"street": "2 Elm", "city": "Ottawa", "province": "ON", "postal_code": "K1A 0A1"}
    assert (
        problems(complete(a={"preferred_mailing_address": "home", "home_address": home})) == set()
    )


def test_effective_date_within_the_program_year():
    assert ("c.effective_date", "outside_program_year") in problems(
        complete(c={"effective_date": "2026-01-01"})
    )


def test_new_call_enters_ac0_and_zero_hours():
    new_call = {
        "newly_called_first_time": True,
        "years_in_practice": 0,
        "billing_code": "AC0",
        "hours_last_fiscal_year": 0,
    }
    assert problems(complete(a=new_call)) == set()
    assert ("a.billing_code", "new_call_billings") in problems(
        complete(a={**new_call, "billing_code": "AC1"})
    )
    assert ("a.hours_last_fiscal_year", "new_call_hours") in problems(
        complete(a={**new_call, "hours_last_fiscal_year": 10})
    )


@pytest.mark.parametrize(
    ("reported", "blocked"),
    [
        (date(2019, 12, 31), False),  # more than five years before 1 Jan 2025
        (date(2020, 1, 1), True),  # exactly five years before
        (date(2024, 6, 1), True),
    ],
)
def test_nil_deductible_needs_five_clean_years(reported, blocked):
    history = LawyerHistory(claims=(claim(reported, kind="circumstance"),))
    found = problems(complete(c={"deductible": "nil"}), history)
    assert (("c.deductible", "nil_deductible_claims_history") in found) is blocked
    assert problems(complete(c={"deductible": "nil"})) == set()


@pytest.mark.parametrize("nature", ["in_house_counsel", "employed_other"])
@pytest.mark.parametrize("deductible", ["10000_combined", "10000_indemnity", "25000_combined"])
def test_high_deductibles_only_in_private_practice(nature, deductible):
    form = complete(b={"nature_of_practice": [nature]}, c={"deductible": deductible})
    assert ("c.deductible", "high_deductible_not_in_private_practice") in problems(form)
    assert problems(complete(c={"deductible": deductible})) == set()


@pytest.mark.parametrize(
    ("primary", "secondary", "ok"),
    [
        (9, None, True),
        (14, 9, True),
        (14, 14, True),
        (9, 19, False),
        (8, None, False),
        (9, 11, False),
    ],
)
def test_restricted_practice_is_criminal_or_immigration_only(primary, secondary, ok):
    form = complete(
        a={"primary_area": primary, "secondary_area": secondary},
        c={
            "restricted_practice": True,
            "practice_options_declaration_signed": True,
            "real_estate": secondary == 19,
        },
    )
    assert (("c.restricted_practice", "restricted_area") not in problems(form)) is ok


def test_practice_options_need_the_signed_declaration():
    form = complete(a={"primary_area": 9}, c={"restricted_practice": True})
    assert ("c.practice_options_declaration_signed", "required") in problems(form)


@pytest.mark.parametrize(
    ("hours", "code", "claims", "expected"),
    [
        (750, "AC1", (), set()),
        (751, "AC1", (), {"part_time_hours"}),
        (500, "AC2", (), {"part_time_billings"}),
        (500, "AV8", (), set()),
        (500, "AC0", (claim(date(2023, 3, 1), with_payment=True),), {"part_time_claims_history"}),
        (500, "AC0", (claim(date(2023, 3, 1)),), set()),  # a claim without any payment
        (500, "AC0", (claim(date(2019, 3, 1), with_payment=True),), set()),  # over five years
    ],
)
def test_part_time_eligibility(hours, code, claims, expected):
    form = complete(
        a={"hours_last_fiscal_year": hours, "billing_code": code},
        c={"part_time": True, "practice_options_declaration_signed": True},
    )
    found = {c for f, c in problems(form, LawyerHistory(claims=claims)) if f == "c.part_time"}
    assert found == expected


def test_real_estate_lawyers_must_take_the_option_and_may_be_refused_it():
    assert ("c.real_estate", "real_estate_required") in problems(complete(a={"secondary_area": 19}))
    assert problems(complete(a={"secondary_area": 19}, c={"real_estate": True})) == set()
    for declaration in (
        "real_estate_bankrupt",
        "real_estate_fraud_conviction_or_discipline",
        "real_estate_law_society_restriction",
    ):
        form = complete(c={"real_estate": True, declaration: True})
        assert ("c.real_estate", "real_estate_ineligible") in problems(form)


def test_a_new_lawyer_tier_is_granted_in_two_policy_years_at_most():
    form = complete(
        a={"years_in_practice": 1, "billing_code": "AV9", "hours_last_fiscal_year": 900}
    )
    assert problems(form, LawyerHistory(tier_years={1: 1})) == set()
    assert ("a.years_in_practice", "new_lawyer_tier_used") in problems(
        form, LawyerHistory(tier_years={1: 2})
    )
    assert problems(complete(), LawyerHistory(tier_years={3: 5})) == set()  # 10 years: no tier


def test_section_d_may_be_empty_only_for_a_new_call():
    new_call = {
        "newly_called_first_time": True,
        "years_in_practice": 0,
        "practised_outside_ontario": False,
        "billing_code": "AC0",
        "hours_last_fiscal_year": 0,
    }
    assert problems(complete(a=new_call, d={"unreported_claims_or_circumstances": None})) == set()
    assert ("d.unreported_claims_or_circumstances", "required") in problems(
        complete(d={"unreported_claims_or_circumstances": None})
    )
    outside = {**new_call, "practised_outside_ontario": True}
    assert ("d.unreported_claims_or_circumstances", "required") not in problems(
        complete(a=outside, d={"unreported_claims_or_circumstances": None})
    )  # refused instead as no first-time new call (see test_rules_corrections.py)
    zero_years = {**new_call, "newly_called_first_time": False}
    assert ("d.unreported_claims_or_circumstances", "required") in problems(
        complete(a=zero_years, d={"unreported_claims_or_circumstances": None})
    )


def test_a_yes_in_section_d_needs_a_claims_notice():
    form = complete(d={"unreported_claims_or_circumstances": True})
    started = date(2024, 11, 1)
    assert ("d.unreported_claims_or_circumstances", "claims_notice_required") in problems(
        form, LawyerHistory(application_started_on=started)
    )
    reported = LawyerHistory(
        claims=(claim(date(2024, 11, 5), kind="circumstance"),), application_started_on=started
    )
    assert problems(form, reported) == set()


def test_third_party_payor_needs_consent():
    spouse = {
        "third_party_payor": True,
        "third_party_payor_relation": "spouse",
        "third_party_payor_name": "Sam Lawyer",
    }
    assert ("e.third_party_consent_confirmed", "required") in problems(complete(e=spouse))
    assert problems(complete(e={**spouse, "third_party_consent_confirmed": True})) == set()


@pytest.mark.parametrize(
    ("plan", "ok"), [("lump_sum", True), ("quarterly", False), ("monthly", False)]
)
def test_cheque_is_for_lump_sum_only(plan, ok):
    form = complete(e={"payment_method": "cheque", "payment_plan": plan})
    assert (("e.payment_method", "cheque_lump_sum_only") not in problems(form)) is ok


def test_warranty_signature_and_privacy_acknowledgement():
    for field in ("warranty_signed", "personal_information_statement_acknowledged"):
        assert (f"f.{field}", "required") in problems(complete(f={field: False}))


def test_money_fields_are_decimal():
    form = complete(a={"gross_billings": "400000.10"})
    assert form.a.gross_billings == Decimal("400000.10")
